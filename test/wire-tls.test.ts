/**
 * The byte accountant on TLS, from records built by hand (and RFC 8448's own): totals are the
 * ciphertext, the record layer is tls, the handshake setup, and the plaintext inside splits
 * exactly as it would over plain TCP, whatever the chunking and whenever the keys are logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { ConnectionAccountant, emptyWireBytes, type ByteSplit, type WireBytes } from '../bench/wire.ts';
import { cipherSuite, hkdfExpandLabel, tls12Prf, tls13TrafficKeys, type CipherSuite } from '../bench/wire/tls-keys.ts';
import { account, accountAnyChunking, split, type Step } from './wire-helpers.ts';

const HEADER_BYTES = 5;
const TAG_BYTES = 16;
const CONTENT = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** A record in the clear. */
function plainRecord(type: number, body: Buffer): Buffer {
  const header = Buffer.from([type, 3, 3, 0, 0]);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

/** A handshake message: type, 24-bit length, body. */
function handshakeMessage(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

const CLIENT_RANDOM = Buffer.alloc(32, 0xc1);
const CLIENT_HELLO = handshakeMessage(1, Buffer.concat([Buffer.from([3, 3]), CLIENT_RANDOM, Buffer.from([0, 0, 2, 0x13, 0x01, 1, 0, 0, 0])]));

/** A ServerHello (RFC 8446 §4.1.3); TLS 1.3's names its version in supported_versions. */
function serverHello(version: 'TLSv1.2' | 'TLSv1.3', suiteId: number, random: Buffer): Buffer {
  const extensions = version === 'TLSv1.3' ? hex('002b 0002 0304  0033 0024 001d 0020') : Buffer.alloc(0);
  const keyShare = version === 'TLSv1.3' ? Buffer.alloc(32, 0x5e) : Buffer.alloc(0);
  const extensionsLength = Buffer.alloc(2);
  extensionsLength.writeUInt16BE(extensions.length + keyShare.length);
  const suite = Buffer.alloc(2);
  suite.writeUInt16BE(suiteId);
  return handshakeMessage(2, Buffer.concat([Buffer.from([3, 3]), random, Buffer.from([0]), suite, Buffer.from([0]), extensionsLength, extensions, keyShare]));
}

function keylogLine(label: string, secret: Buffer): string {
  return `${label} ${CLIENT_RANDOM.toString('hex')} ${secret.toString('hex')}\n`;
}

function sequenceNonce(iv: Buffer, sequence: number): Buffer {
  const nonce = Buffer.from(iv);
  const sequenceBytes = Buffer.alloc(8);
  sequenceBytes.writeBigUInt64BE(BigInt(sequence));
  for (let index = 0; index < 8; index += 1) nonce[nonce.length - 8 + index]! ^= sequenceBytes[index]!;
  return nonce;
}

function seal(suite: CipherSuite, key: Buffer, nonce: Buffer, additionalData: Buffer, plaintext: Buffer): Buffer {
  // The GCM and ChaCha20-Poly1305 ciphers take the same calls.
  const cipher = createCipheriv(suite.aead as 'aes-128-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(additionalData, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** A TLS 1.3 protected record (RFC 8446 §5.2): content, its type, zero padding, sealed under the secret's keys. */
function tls13Record(suite: CipherSuite, secret: Buffer, sequence: number, type: number, content: Buffer, paddingBytes = 0): Buffer {
  const { key, iv } = tls13TrafficKeys(suite, secret);
  const inner = Buffer.concat([content, Buffer.from([type]), Buffer.alloc(paddingBytes)]);
  const header = Buffer.from([CONTENT.applicationData, 3, 3, 0, 0]);
  header.writeUInt16BE(inner.length + TAG_BYTES, 3);
  return Buffer.concat([header, seal(suite, key, sequenceNonce(iv, sequence), header, inner)]);
}

/** A TLS 1.2 AEAD record (RFC 5288 §3 for GCM, RFC 7905 §2 for ChaCha20-Poly1305). */
function tls12Record(suite: CipherSuite, keys: { key: Buffer; iv: Buffer }, sequence: number, type: number, content: Buffer): Buffer {
  const explicitNonce = Buffer.alloc(suite.explicitNonceBytes);
  if (explicitNonce.length > 0) explicitNonce.writeBigUInt64BE(BigInt(sequence) ^ 0x5a5an); // any value the sender likes
  const nonce = explicitNonce.length > 0 ? Buffer.concat([keys.iv, explicitNonce]) : sequenceNonce(keys.iv, sequence);
  const additionalData = Buffer.alloc(13);
  additionalData.writeBigUInt64BE(BigInt(sequence));
  additionalData.set([type, 3, 3], 8);
  additionalData.writeUInt16BE(content.length, 11);
  const body = Buffer.concat([explicitNonce, seal(suite, keys.key, nonce, additionalData, content)]);
  return plainRecord(type, body);
}

/** The split of a TLS connection: its inner plaintext split, plus what TLS adds. */
function plus(inner: ByteSplit, added: { setup: number; tls: number }): ByteSplit {
  return split({ payload: inner.payload, headers: inner.headers, framing: inner.framing, setup: inner.setup + added.setup, tls: inner.tls + added.tls });
}

// An HTTP conversation to carry: a poll and its answer, then a message.
const POLL_REQUEST = Buffer.from('GET /messages?client=x&after=0 HTTP/1.1\r\nHost: h\r\n\r\n');
const POLL_BODY = JSON.stringify({ messages: [{ id: 1, data: 'Received:  héllo' }] });
const POLL_ANSWER = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(POLL_BODY)}\r\n\r\n${POLL_BODY}`);
const MESSAGE_HEAD = Buffer.from('POST /messages?client=x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n');
const MESSAGE_BODY = Buffer.from('hello');
const ACCEPTED = Buffer.from('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n');

/** The same conversation over plain TCP: what the plaintext inside the records must split into. */
function plaintextSplit(): WireBytes {
  return account('http', [
    ['up', POLL_REQUEST],
    ['down', POLL_ANSWER],
    ['up', Buffer.concat([MESSAGE_HEAD, MESSAGE_BODY])],
    ['down', ACCEPTED],
  ]);
}

test('tls: RFC 8448’s client Finished, application data and close_notify: 50 bytes of plaintext, the rest tls and setup', () => {
  const serverHelloRecord = plainRecord(CONTENT.handshake, serverHello('TLSv1.3', 0x1301, Buffer.alloc(32, 0x5e)));
  const finished = hex(
    '17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46',
  );
  const application = hex(
    '17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e ' +
      '1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4',
  );
  const alert = hex('17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3');
  const handshakeSecret = keylogLine('CLIENT_HANDSHAKE_TRAFFIC_SECRET', hex('b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21'));
  const applicationSecret = keylogLine('CLIENT_TRAFFIC_SECRET_0', hex('9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5'));
  const clientHelloRecord = plainRecord(CONTENT.handshake, CLIENT_HELLO);
  const records: Step[] = [
    ['up', clientHelloRecord],
    ['down', serverHelloRecord],
    ['up', Buffer.concat([finished, application, alert])],
  ];
  // The 50 bytes, as the TCP transport's frames: a 4-byte header (00 01 02 03) and 46 bytes of its payload.
  const expectedUp = split({ setup: CLIENT_HELLO.length + 36 + 2, tls: 4 * HEADER_BYTES + 3 * (TAG_BYTES + 1), framing: 4, payload: 46 });
  const expectedDown = split({ setup: serverHelloRecord.length - HEADER_BYTES, tls: HEADER_BYTES });

  const keysFirst = accountAnyChunking('tcp', [['keylog', handshakeSecret], ['keylog', applicationSecret], ...records], { tls: true });
  assert.deepEqual(keysFirst, { up: expectedUp, down: expectedDown });

  // Keys logged after the records: the records wait, counted as tls, and are read when the keys come.
  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant('tcp', wire, { tls: true });
  accountant.written(clientHelloRecord);
  accountant.read(serverHelloRecord);
  accountant.written(Buffer.concat([finished, application, alert]));
  assert.deepEqual(wire.up, split({ setup: CLIENT_HELLO.length, tls: expectedUp.total - CLIENT_HELLO.length }), 'no keys: the protected records are tls');
  accountant.keylog(handshakeSecret);
  assert.deepEqual(wire.up, split({ setup: CLIENT_HELLO.length + 36, tls: expectedUp.total - CLIENT_HELLO.length - 36 }), 'the Finished read, the rest waits');
  accountant.keylog(applicationSecret);
  assert.deepEqual(wire, { up: expectedUp, down: expectedDown });
  assert.equal(accountant.tlsProblem, undefined);
});

for (const suiteId of [0x1301, 0x1302, 0x1303]) {
  const suite = cipherSuite('TLSv1.3', suiteId)!;
  test(`tls 1.3 (${suite.name}): the server's encrypted flight, tickets, padding, a KeyUpdate and alerts, around HTTP inside`, () => {
    const hashBytes = suite.hash === 'sha256' ? 32 : 48;
    const secret = (): Buffer => randomBytes(hashBytes);
    const clientHandshake = secret();
    const serverHandshake = secret();
    const clientApplication = secret();
    const serverApplication = secret();
    // RFC 8446 §7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
    const serverApplicationNext = hkdfExpandLabel(suite.hash, serverApplication, 'traffic upd', Buffer.alloc(0), hashBytes);

    const clientHello = plainRecord(CONTENT.handshake, CLIENT_HELLO);
    const hello = serverHello('TLSv1.3', suiteId, Buffer.alloc(32, 0x5e));
    const changeCipherSpec = plainRecord(CONTENT.changeCipherSpec, Buffer.from([1]));
    // EncryptedExtensions, a Certificate cut across two records, CertificateVerify, Finished
    const serverFlight = Buffer.concat([
      handshakeMessage(8, Buffer.from([0, 0])),
      handshakeMessage(11, randomBytes(700)),
      handshakeMessage(15, randomBytes(80)),
      handshakeMessage(20, randomBytes(hashBytes)),
    ]);
    const clientFinished = handshakeMessage(20, randomBytes(hashBytes));
    const ticket = handshakeMessage(4, randomBytes(180));
    const keyUpdate = handshakeMessage(24, Buffer.from([0]));
    const closeNotify = Buffer.from([1, 0]);
    const paddingBytes = 10;

    const steps: Step[] = [
      ['up', clientHello],
      [
        'down',
        Buffer.concat([
          plainRecord(CONTENT.handshake, hello),
          changeCipherSpec,
          tls13Record(suite, serverHandshake, 0, CONTENT.handshake, serverFlight.subarray(0, 400)),
          tls13Record(suite, serverHandshake, 1, CONTENT.handshake, serverFlight.subarray(400)),
        ]),
      ],
      // logged as the client's TLS stack reads the ServerHello: after the accountant saw the flight
      ['keylog', keylogLine('SERVER_HANDSHAKE_TRAFFIC_SECRET', serverHandshake)],
      ['keylog', keylogLine('CLIENT_HANDSHAKE_TRAFFIC_SECRET', clientHandshake)],
      ['keylog', keylogLine('CLIENT_TRAFFIC_SECRET_0', clientApplication)],
      ['keylog', keylogLine('SERVER_TRAFFIC_SECRET_0', serverApplication)],
      ['keylog', keylogLine('EXPORTER_SECRET', secret())],
      [
        'up',
        Buffer.concat([
          changeCipherSpec,
          tls13Record(suite, clientHandshake, 0, CONTENT.handshake, clientFinished),
          tls13Record(suite, clientApplication, 0, CONTENT.applicationData, POLL_REQUEST),
        ]),
      ],
      [
        'down',
        Buffer.concat([
          tls13Record(suite, serverApplication, 0, CONTENT.handshake, ticket),
          tls13Record(suite, serverApplication, 1, CONTENT.applicationData, POLL_ANSWER.subarray(0, 70), paddingBytes),
          tls13Record(suite, serverApplication, 2, CONTENT.applicationData, POLL_ANSWER.subarray(70)),
          tls13Record(suite, serverApplication, 3, CONTENT.handshake, keyUpdate),
        ]),
      ],
      // the message's head and body in two records
      [
        'up',
        Buffer.concat([
          tls13Record(suite, clientApplication, 1, CONTENT.applicationData, MESSAGE_HEAD),
          tls13Record(suite, clientApplication, 2, CONTENT.applicationData, MESSAGE_BODY),
        ]),
      ],
      [
        'down',
        Buffer.concat([
          tls13Record(suite, serverApplicationNext, 0, CONTENT.applicationData, ACCEPTED),
          tls13Record(suite, serverApplicationNext, 1, CONTENT.alert, closeNotify),
        ]),
      ],
      ['up', tls13Record(suite, clientApplication, 3, CONTENT.alert, closeNotify)],
    ];
    const wire = accountAnyChunking('http', steps, { tls: true });

    const inner = plaintextSplit();
    const sealedBytes = HEADER_BYTES + TAG_BYTES + 1; // a protected record's header, tag and content type
    assert.deepEqual(
      wire.up,
      plus(inner.up, {
        setup: CLIENT_HELLO.length + 1 + clientFinished.length + closeNotify.length,
        tls: HEADER_BYTES + HEADER_BYTES + 5 * sealedBytes,
      }),
    );
    assert.deepEqual(
      wire.down,
      plus(inner.down, {
        setup: hello.length + 1 + serverFlight.length + ticket.length + keyUpdate.length + closeNotify.length,
        tls: HEADER_BYTES + HEADER_BYTES + 8 * sealedBytes + paddingBytes,
      }),
    );
  });
}

for (const suiteId of [0xc02f, 0xc030, 0xcca8]) {
  const suite = cipherSuite('TLSv1.2', suiteId)!;
  test(`tls 1.2 (${suite.name}): handshake in the clear, encrypted Finished and alerts setup by their length, application data opened`, () => {
    const masterSecret = randomBytes(48);
    const serverRandom = randomBytes(32);
    // RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random), cut into
    // client_write_key, server_write_key, client_write_IV, server_write_IV (no MAC keys with an AEAD suite)
    const block = tls12Prf(
      suite.hash,
      masterSecret,
      'key expansion',
      Buffer.concat([serverRandom, CLIENT_RANDOM]),
      2 * suite.keyBytes + 2 * suite.fixedIvBytes,
    );
    const k = suite.keyBytes;
    const iv = suite.fixedIvBytes;
    const client = { key: block.subarray(0, k), iv: block.subarray(2 * k, 2 * k + iv) };
    const server = { key: block.subarray(k, 2 * k), iv: block.subarray(2 * k + iv, 2 * k + 2 * iv) };

    const hello = serverHello('TLSv1.2', suiteId, serverRandom);
    const serverFlight = Buffer.concat([
      hello,
      handshakeMessage(11, randomBytes(600)),
      handshakeMessage(12, randomBytes(100)),
      handshakeMessage(14, Buffer.alloc(0)),
    ]);
    const clientKeyExchange = handshakeMessage(16, randomBytes(33));
    const finished = (): Buffer => handshakeMessage(20, randomBytes(12));
    const changeCipherSpec = plainRecord(CONTENT.changeCipherSpec, Buffer.from([1]));
    const closeNotify = Buffer.from([1, 0]);
    const clientFinished = finished();
    const serverFinished = finished();

    const steps: Step[] = [
      ['up', plainRecord(CONTENT.handshake, CLIENT_HELLO)],
      ['down', Buffer.concat([plainRecord(CONTENT.handshake, serverFlight.subarray(0, 300)), plainRecord(CONTENT.handshake, serverFlight.subarray(300))])],
      ['keylog', keylogLine('CLIENT_RANDOM', masterSecret)],
      [
        'up',
        Buffer.concat([
          plainRecord(CONTENT.handshake, clientKeyExchange),
          changeCipherSpec,
          tls12Record(suite, client, 0, CONTENT.handshake, clientFinished),
          tls12Record(suite, client, 1, CONTENT.applicationData, POLL_REQUEST),
        ]),
      ],
      [
        'down',
        Buffer.concat([
          changeCipherSpec,
          tls12Record(suite, server, 0, CONTENT.handshake, serverFinished),
          tls12Record(suite, server, 1, CONTENT.applicationData, POLL_ANSWER.subarray(0, 100)),
          tls12Record(suite, server, 2, CONTENT.applicationData, POLL_ANSWER.subarray(100)),
        ]),
      ],
      ['up', Buffer.concat([tls12Record(suite, client, 2, CONTENT.applicationData, Buffer.concat([MESSAGE_HEAD, MESSAGE_BODY]))])],
      ['down', Buffer.concat([tls12Record(suite, server, 3, CONTENT.applicationData, ACCEPTED), tls12Record(suite, server, 4, CONTENT.alert, closeNotify)])],
      ['up', tls12Record(suite, client, 3, CONTENT.alert, closeNotify)],
    ];
    const wire = accountAnyChunking('http', steps, { tls: true });

    const inner = plaintextSplit();
    const sealedBytes = HEADER_BYTES + suite.explicitNonceBytes + TAG_BYTES;
    assert.deepEqual(
      wire.up,
      plus(inner.up, {
        setup: CLIENT_HELLO.length + clientKeyExchange.length + 1 + clientFinished.length + closeNotify.length,
        tls: 3 * HEADER_BYTES + 4 * sealedBytes,
      }),
    );
    assert.deepEqual(
      wire.down,
      plus(inner.down, {
        setup: serverFlight.length + 1 + serverFinished.length + closeNotify.length,
        tls: 3 * HEADER_BYTES + 5 * sealedBytes,
      }),
    );
  });
}

test('tls: records that cannot be read stay tls whole, and the accountant says why', () => {
  const unread = (suiteId: number, record: Buffer): { wire: WireBytes; problem: string | undefined } => {
    const wire = emptyWireBytes();
    const accountant = new ConnectionAccountant('http', wire, { tls: true });
    accountant.read(plainRecord(CONTENT.handshake, serverHello('TLSv1.3', suiteId, Buffer.alloc(32, 1))));
    accountant.keylog(keylogLine('SERVER_HANDSHAKE_TRAFFIC_SECRET', Buffer.alloc(32, 2)));
    accountant.read(record);
    return { wire, problem: accountant.tlsProblem };
  };
  const suite = cipherSuite('TLSv1.3', 0x1301)!;
  const sealed = tls13Record(suite, Buffer.alloc(32, 3), 0, CONTENT.handshake, handshakeMessage(8, Buffer.alloc(2)));
  const helloBytes = HEADER_BYTES + serverHello('TLSv1.3', 0x1301, Buffer.alloc(32, 1)).length;

  const wrongKeys = unread(0x1301, sealed);
  assert.deepEqual(wrongKeys.wire.down, split({ setup: helloBytes - HEADER_BYTES, tls: HEADER_BYTES + sealed.length }));
  assert.match(wrongKeys.problem ?? '', /did not authenticate/);

  const ccm = unread(0x1304, sealed);
  assert.deepEqual(ccm.wire.down, split({ setup: helloBytes - HEADER_BYTES, tls: HEADER_BYTES + sealed.length }));
  assert.match(ccm.problem ?? '', /cipher suite 0x1304/);

  // a record cut short by the connection's end stays tls, and is no problem
  const cutShort = unread(0x1301, sealed.subarray(0, 20));
  assert.deepEqual(cutShort.wire.down, split({ setup: helloBytes - HEADER_BYTES, tls: HEADER_BYTES + 20 }));
  assert.equal(cutShort.problem, undefined);
});

test('tls: a plaintext connection has no tls part, and ignores a key log line', () => {
  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant('http', wire);
  accountant.keylog(keylogLine('CLIENT_TRAFFIC_SECRET_0', Buffer.alloc(32)));
  accountant.written(POLL_REQUEST);
  assert.deepEqual(wire.up, split({ headers: POLL_REQUEST.length }));
  assert.equal(accountant.tlsProblem, undefined);
});
