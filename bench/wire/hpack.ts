/**
 * HPACK (RFC 7541): the decoding of HTTP/2 header blocks, which the byte accountant needs to
 * learn each stream's :method, :path and :status (wire/http2.ts). Node decodes HPACK in its
 * own HTTP/2 code but exports no decoder, so this is one, after the RFC: the static table
 * (Appendix A), the dynamic table with its eviction (§4), integers (§5.1), string literals with
 * the Huffman code (§5.2, Appendix B) and the five field representations (§6).
 *
 * Every header block of a direction must be decoded, in order, even when its fields are not
 * needed: a block can add to the dynamic table that later blocks refer to.
 */

export type HeaderField = readonly [name: string, value: string];

/** A block that is not valid HPACK (or refers to a table this decoder does not have). */
export class HpackError extends Error {}

/** RFC 7541 Appendix A. */
const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * The bit length of each symbol's Huffman code (RFC 7541 Appendix B), 0 to 255 and EOS (256).
 * The code is canonical: codes of one length are consecutive, in the order of their symbols,
 * and each length starts where the shorter ones left off, so the lengths are the whole code.
 */
const HUFFMAN_CODE_BITS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11,
  10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7,
  8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23,
  22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23,
  23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26,
  27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27,
  27, 27, 26, 30,
];

const EOS_SYMBOL = 256;
const MAX_CODE_BITS = 30;

/** The canonical code as decoding tables: per length, its first code, how many codes, and where its symbols start in `symbols`. */
interface HuffmanTables {
  firstCode: Int32Array;
  codeCount: Int32Array;
  symbolOffset: Int32Array;
  /** The symbols ordered by (code length, symbol). */
  symbols: Uint16Array;
}

function huffmanTables(): HuffmanTables {
  const firstCode = new Int32Array(MAX_CODE_BITS + 1);
  const codeCount = new Int32Array(MAX_CODE_BITS + 1);
  const symbolOffset = new Int32Array(MAX_CODE_BITS + 1);
  for (const bits of HUFFMAN_CODE_BITS) codeCount[bits]! += 1;
  const symbols = new Uint16Array(HUFFMAN_CODE_BITS.length);
  let code = 0;
  let offset = 0;
  for (let bits = 1; bits <= MAX_CODE_BITS; bits += 1) {
    code <<= 1;
    firstCode[bits] = code;
    symbolOffset[bits] = offset;
    for (let symbol = 0; symbol < HUFFMAN_CODE_BITS.length; symbol += 1) {
      if (HUFFMAN_CODE_BITS[symbol] === bits) symbols[offset++] = symbol;
    }
    code += codeCount[bits]!;
  }
  return { firstCode, codeCount, symbolOffset, symbols };
}

const HUFFMAN = huffmanTables();

/** The Huffman code of `symbol`, as (code, bits): for tests and for encoding a block by hand. */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  const bits = HUFFMAN_CODE_BITS[symbol];
  if (bits === undefined) throw new RangeError(`no Huffman code for symbol ${symbol}`);
  let index = HUFFMAN.symbolOffset[bits]!;
  while (HUFFMAN.symbols[index] !== symbol) index += 1;
  return { code: HUFFMAN.firstCode[bits]! + index - HUFFMAN.symbolOffset[bits]!, bits };
}

/** Decodes a Huffman-coded string (§5.2): its padding must be at most 7 bits, all ones (the start of EOS). */
export function huffmanDecode(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil((bytes.length * 8) / 5));
  let written = 0;
  let code = 0;
  let bits = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit -= 1) {
      code = (code << 1) | ((byte >> bit) & 1);
      bits += 1;
      const index = code - HUFFMAN.firstCode[bits]!;
      if (index >= 0 && index < HUFFMAN.codeCount[bits]!) {
        const symbol = HUFFMAN.symbols[HUFFMAN.symbolOffset[bits]! + index]!;
        if (symbol === EOS_SYMBOL) throw new HpackError('a Huffman string holds EOS');
        out[written++] = symbol;
        code = 0;
        bits = 0;
      } else if (bits === MAX_CODE_BITS) {
        throw new HpackError('not a Huffman code');
      }
    }
  }
  if (bits > 7 || code !== (1 << bits) - 1) throw new HpackError('a Huffman string ends in padding that is not the start of EOS');
  return out.subarray(0, written);
}

/** Each dynamic table entry costs its name and value in octets and this much more (§4.1). */
const ENTRY_OVERHEAD_BYTES = 32;
/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2). */
export const DEFAULT_TABLE_BYTES = 4096;
/** Larger integers than this in a block are taken for garbage. */
const MAX_INTEGER = 2 ** 32;

/** A cursor over one block. */
class BlockReader {
  offset = 0;

  constructor(readonly bytes: Buffer) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  byte(): number {
    const byte = this.bytes[this.offset];
    if (byte === undefined) throw new HpackError('the block ends inside a field');
    this.offset += 1;
    return byte;
  }

  /** An integer with an N-bit prefix (§5.1), the first byte's flag bits ignored. */
  integer(prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = this.byte() & mask;
    if (value < mask) return value;
    let shift = 0;
    let byte: number;
    do {
      byte = this.byte();
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > MAX_INTEGER) throw new HpackError('an integer too large');
    } while ((byte & 0x80) !== 0);
    return value;
  }

  /** A string literal (§5.2), as latin1 text: field names and values are octets. */
  string(): string {
    const huffman = ((this.bytes[this.offset] ?? 0) & 0x80) !== 0;
    const length = this.integer(7);
    const end = this.offset + length;
    if (end > this.bytes.length) throw new HpackError('the block ends inside a string');
    const raw = this.bytes.subarray(this.offset, end);
    this.offset = end;
    return (huffman ? huffmanDecode(raw) : raw).toString('latin1');
  }
}

/** Decodes the header blocks of one direction of one HTTP/2 connection, keeping its dynamic table. */
export class HpackDecoder {
  /** The dynamic table, oldest entry first (dynamic index 1 is the last). */
  private readonly entries: HeaderField[] = [];
  private tableBytes = 0;

  constructor(private maxTableBytes = DEFAULT_TABLE_BYTES) {}

  /** The dynamic table's size (§4.1). */
  get dynamicTableBytes(): number {
    return this.tableBytes;
  }

  /** The dynamic table's entries, newest first (as its indices count). */
  get dynamicTable(): readonly HeaderField[] {
    return [...this.entries].reverse();
  }

  /** Decodes one whole header block (HEADERS or PUSH_PROMISE with its CONTINUATIONs) into its fields, in order. */
  decode(block: Buffer): HeaderField[] {
    const reader = new BlockReader(block);
    const fields: HeaderField[] = [];
    while (!reader.done) {
      const first = block[reader.offset]!;
      if ((first & 0x80) !== 0) {
        fields.push(this.field(reader.integer(7))); // indexed field (§6.1)
      } else if ((first & 0xc0) === 0x40) {
        const field = this.literal(reader, 6); // with incremental indexing (§6.2.1)
        this.add(field);
        fields.push(field);
      } else if ((first & 0xe0) === 0x20) {
        this.resize(reader.integer(5)); // dynamic table size update (§6.3)
      } else {
        fields.push(this.literal(reader, 4)); // without indexing, or never indexed (§6.2.2, §6.2.3)
      }
    }
    return fields;
  }

  private literal(reader: BlockReader, prefixBits: number): HeaderField {
    const index = reader.integer(prefixBits);
    const name = index === 0 ? reader.string() : this.field(index)[0];
    return [name, reader.string()];
  }

  /** The field at `index` of the static table (1 to 61) followed by the dynamic one (§2.3.3). */
  private field(index: number): HeaderField {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const entry = this.entries[this.entries.length - (index - STATIC_TABLE.length)];
    if (entry === undefined) throw new HpackError(`index ${index} is past the table`);
    return entry;
  }

  private add(field: HeaderField): void {
    this.entries.push(field);
    this.tableBytes += entryBytes(field);
    this.evict(); // an entry larger than the whole table empties it, itself included (§4.4)
  }

  private resize(maxTableBytes: number): void {
    this.maxTableBytes = maxTableBytes;
    this.evict();
  }

  private evict(): void {
    while (this.tableBytes > this.maxTableBytes) this.tableBytes -= entryBytes(this.entries.shift()!);
  }
}

function entryBytes([name, value]: HeaderField): number {
  return Buffer.byteLength(name, 'latin1') + Buffer.byteLength(value, 'latin1') + ENTRY_OVERHEAD_BYTES;
}
