/** HPACK decoding against RFC 7541's own examples (Appendix C), and what it must refuse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, HpackError, huffmanCode, huffmanDecode, type HeaderField } from '../bench/wire/hpack.ts';

/** Bytes from the RFC's hex dumps (spaces and line breaks ignored). */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

test('hpack: the Huffman code is the RFC table (Appendix B), read from its code lengths', () => {
  // A few rows of Appendix B, as the RFC prints them (code in hex, length in bits).
  const rows: [symbol: number, code: number, bits: number][] = [
    [0, 0x1ff8, 13],
    [10, 0x3ffffffc, 30],
    [32, 0x14, 6], // ' '
    [48, 0x0, 5], // '0'
    [97, 0x3, 5], // 'a'
    [122, 0x7b, 7], // 'z'
    [127, 0xffffffc, 28],
    [200, 0x3ffffe2, 26],
    [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30], // EOS
  ];
  for (const [symbol, code, bits] of rows) assert.deepEqual(huffmanCode(symbol), { code, bits }, `symbol ${symbol}`);
});

test('hpack: C.4.1 and C.6.1 Huffman strings, and padding that is not EOS, or EOS itself, refused', () => {
  assert.equal(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')).toString('latin1'), 'www.example.com');
  assert.equal(huffmanDecode(hex('a8eb 1064 9cbf')).toString('latin1'), 'no-cache');
  assert.equal(huffmanDecode(hex('d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff')).toString('latin1'), 'Mon, 21 Oct 2013 20:13:21 GMT');
  assert.equal(huffmanDecode(Buffer.alloc(0)).length, 0);
  // "no-cache" ends in 6 one bits of padding: a zero in it, or a whole byte more of ones, is refused.
  assert.throws(() => huffmanDecode(hex('a8eb 1064 9cbe')), HpackError);
  assert.throws(() => huffmanDecode(hex('a8eb 1064 9cbf ff')), HpackError);
  assert.throws(() => huffmanDecode(hex('ffff fffc')), HpackError, 'the 30 bits of EOS');
});

test('hpack: C.2 literal field representations', () => {
  const withIndexing = new HpackDecoder();
  assert.deepEqual(withIndexing.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [['custom-key', 'custom-header']]);
  assert.equal(withIndexing.dynamicTableBytes, 55);
  const withoutIndexing = new HpackDecoder();
  assert.deepEqual(withoutIndexing.decode(hex('040c 2f73 616d 706c 652f 7061 7468')), [[':path', '/sample/path']]);
  assert.equal(withoutIndexing.dynamicTableBytes, 0);
  const neverIndexed = new HpackDecoder();
  assert.deepEqual(neverIndexed.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74')), [['password', 'secret']]);
  assert.equal(neverIndexed.dynamicTableBytes, 0);
  assert.deepEqual(new HpackDecoder().decode(hex('82')), [[':method', 'GET']]);
});

const REQUEST_1: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':path', '/'],
  [':authority', 'www.example.com'],
];
const REQUEST_2: HeaderField[] = [...REQUEST_1, ['cache-control', 'no-cache']];
const REQUEST_3: HeaderField[] = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':path', '/index.html'],
  [':authority', 'www.example.com'],
  ['custom-key', 'custom-value'],
];

for (const [section, blocks] of [
  [
    'C.3 (no Huffman)',
    [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ],
  ],
  [
    'C.4 (Huffman)',
    ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'],
  ],
] as const) {
  test(`hpack: ${section} three requests on one connection, the table referred to and grown`, () => {
    const decoder = new HpackDecoder();
    assert.deepEqual(decoder.decode(hex(blocks[0])), REQUEST_1);
    assert.equal(decoder.dynamicTableBytes, 57);
    assert.deepEqual(decoder.decode(hex(blocks[1])), REQUEST_2);
    assert.equal(decoder.dynamicTableBytes, 110);
    assert.deepEqual(decoder.decode(hex(blocks[2])), REQUEST_3);
    assert.equal(decoder.dynamicTableBytes, 164);
    assert.deepEqual(decoder.dynamicTable, [
      ['custom-key', 'custom-value'],
      ['cache-control', 'no-cache'],
      [':authority', 'www.example.com'],
    ]);
  });
}

const RESPONSE_1: HeaderField[] = [
  [':status', '302'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['location', 'https://www.example.com'],
];
const RESPONSE_2: HeaderField[] = [[':status', '307'], ...RESPONSE_1.slice(1)];
const RESPONSE_3: HeaderField[] = [
  [':status', '200'],
  ['cache-control', 'private'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
  ['location', 'https://www.example.com'],
  ['content-encoding', 'gzip'],
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
];

for (const [section, blocks] of [
  [
    'C.5 (no Huffman)',
    [
      '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '4803 3330 37c1 c0bf',
      '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a ' +
        '584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
    ],
  ],
  [
    'C.6 (Huffman)',
    [
      '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
      '4883 640e ffc1 c0bf',
      '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 ' +
        '72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ],
  ],
] as const) {
  test(`hpack: ${section} three responses in a 256-byte table: entries evicted, oldest first`, () => {
    const decoder = new HpackDecoder(256);
    assert.deepEqual(decoder.decode(hex(blocks[0])), RESPONSE_1);
    assert.equal(decoder.dynamicTableBytes, 222);
    assert.deepEqual(decoder.decode(hex(blocks[1])), RESPONSE_2);
    assert.equal(decoder.dynamicTableBytes, 222, '":status: 307" went in, ":status: 302" out');
    assert.deepEqual(decoder.decode(hex(blocks[2])), RESPONSE_3);
    assert.equal(decoder.dynamicTableBytes, 215);
    assert.deepEqual(decoder.dynamicTable, [
      ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
      ['content-encoding', 'gzip'],
      ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ]);
  });
}

test('hpack: a size update shrinks the table (evicting) and a later one lets it grow again', () => {
  const decoder = new HpackDecoder();
  decoder.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d')); // one entry of 57 bytes
  assert.deepEqual(decoder.decode(hex('20 82')), [[':method', 'GET']], 'size 0 empties the table');
  assert.equal(decoder.dynamicTableBytes, 0);
  assert.throws(() => decoder.decode(hex('be')), HpackError, 'index 62 is gone');
  // back to 4096 (31 + 4065: an integer past a 5-bit prefix), then an entry goes in again
  assert.deepEqual(decoder.decode(hex('3fe1 1f 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')), [['custom-key', 'custom-header']]);
  assert.equal(decoder.dynamicTableBytes, 55);
});

test('hpack: garbage is refused: index 0, an index past the tables, a block cut inside a string or an integer', () => {
  for (const block of ['80', 'ff49', '400a 6375', '3f', '0f77']) {
    assert.throws(() => new HpackDecoder().decode(hex(block)), HpackError, block);
  }
});
