/** The TLS key schedule and record opening against published known answers: RFC 8448 (TLS 1.3) and the TLS 1.2 PRF vector. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cipherSuite, hkdfExpandLabel, openRecord, tls12Prf, tls13TrafficKeys, type CipherSuite } from '../bench/wire/tls-keys.ts';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

const AES_128_GCM_SHA256: CipherSuite = cipherSuite('TLSv1.3', 0x1301)!;

// RFC 8448 §3, "Simple 1-RTT Handshake" (TLS_AES_128_GCM_SHA256).
const RFC8448 = {
  clientHandshakeSecret: hex('b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21'),
  serverHandshakeSecret: hex('b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38'),
  clientApplicationSecret: hex('9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5'),
  serverApplicationSecret: hex('a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43'),
  /** The client's Finished under its handshake keys (sequence 0). */
  clientFinishedRecord: hex(
    '17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46',
  ),
  /** 50 bytes of application data, 00 01 02 ... 31, under the client's application keys (sequence 0). */
  clientApplicationRecord: hex(
    '17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e ' +
      '1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4',
  ),
  /** close_notify under the client's application keys (sequence 1). */
  clientAlertRecord: hex('17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3'),
};

test('tls keys: HKDF-Expand-Label gives RFC 8448’s record keys and IVs from its traffic secrets', () => {
  assert.deepEqual(tls13TrafficKeys(AES_128_GCM_SHA256, RFC8448.serverHandshakeSecret), {
    key: hex('3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc'),
    iv: hex('5d 31 3e b2 67 12 76 ee 13 00 0b 30'),
  });
  assert.deepEqual(tls13TrafficKeys(AES_128_GCM_SHA256, RFC8448.clientHandshakeSecret), {
    key: hex('db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01'),
    iv: hex('5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f'),
  });
  assert.deepEqual(tls13TrafficKeys(AES_128_GCM_SHA256, RFC8448.clientApplicationSecret), {
    key: hex('17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51'),
    iv: hex('5b 78 92 3d ee 08 57 90 33 e5 23 d9'),
  });
  assert.deepEqual(tls13TrafficKeys(AES_128_GCM_SHA256, RFC8448.serverApplicationSecret), {
    key: hex('9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56'),
    iv: hex('cf 78 2b 88 dd 83 54 9a ad f1 e9 84'),
  });
  // the Finished key of RFC 8448's server: the same function with another label and length
  assert.deepEqual(
    hkdfExpandLabel('sha256', RFC8448.serverHandshakeSecret, 'finished', Buffer.alloc(0), 32),
    hex('00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8'),
  );
});

test('tls keys: RFC 8448’s client records open to their inner plaintext, in sequence; a wrong sequence number does not authenticate', () => {
  const handshakeKeys = { suite: AES_128_GCM_SHA256, version: 'TLSv1.3' as const, ...tls13TrafficKeys(AES_128_GCM_SHA256, RFC8448.clientHandshakeSecret) };
  const applicationKeys = { suite: AES_128_GCM_SHA256, version: 'TLSv1.3' as const, ...tls13TrafficKeys(AES_128_GCM_SHA256, RFC8448.clientApplicationSecret) };
  const open = (keys: typeof handshakeKeys, sequence: number, record: Buffer): Buffer | undefined =>
    openRecord(keys, sequence, record.subarray(0, 5), record.subarray(5));

  const finished = open(handshakeKeys, 0, RFC8448.clientFinishedRecord);
  assert.ok(finished !== undefined);
  assert.equal(finished.length, 36 + 1, 'a 36-byte Finished and its content type');
  assert.deepEqual([finished[0], finished.readUIntBE(1, 3), finished.at(-1)], [20, 32, 22], 'Finished (20) of 32 bytes, in a handshake (22) record');

  const application = open(applicationKeys, 0, RFC8448.clientApplicationRecord);
  assert.deepEqual(application, Buffer.concat([Buffer.from(Array.from({ length: 50 }, (_, index) => index)), Buffer.from([23])]));
  assert.deepEqual(open(applicationKeys, 1, RFC8448.clientAlertRecord), Buffer.from([1, 0, 21]), 'close_notify (warning, 0) in an alert (21) record');

  assert.equal(open(applicationKeys, 1, RFC8448.clientApplicationRecord), undefined);
  assert.equal(open(handshakeKeys, 0, RFC8448.clientApplicationRecord), undefined);
});

test('tls keys: the TLS 1.2 PRF (P_SHA256) gives the published 100 bytes', () => {
  const output = tls12Prf(
    'sha256',
    hex('9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35'),
    'test label',
    hex('a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c'),
    100,
  );
  assert.deepEqual(
    output,
    hex(
      'e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af ' +
        '0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab 4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01 87 34 7b 66',
    ),
  );
});

test('tls keys: only AEAD suites are known, each under its own version', () => {
  assert.equal(cipherSuite('TLSv1.3', 0x1303)?.aead, 'chacha20-poly1305');
  assert.equal(cipherSuite('TLSv1.3', 0x1304), undefined, 'TLS_AES_128_CCM_SHA256');
  assert.equal(cipherSuite('TLSv1.2', 0xc02f)?.explicitNonceBytes, 8, 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(cipherSuite('TLSv1.2', 0xcca8)?.explicitNonceBytes, 0, 'ECDHE-RSA-CHACHA20-POLY1305');
  assert.equal(cipherSuite('TLSv1.2', 0xc027), undefined, 'ECDHE-RSA-AES128-SHA256 (CBC)');
  assert.equal(cipherSuite('TLSv1.2', 0x1301), undefined);
});
