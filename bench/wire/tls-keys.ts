/**
 * The keys of a TLS connection's records, from the secrets its client logged (Node's 'keylog'
 * event, in the NSS key log format), and the opening of one protected record with them.
 *
 * TLS 1.3 (RFC 8446 §7): each direction's traffic secret, logged per epoch (handshake, then
 * application), gives its key and IV by HKDF-Expand-Label; a KeyUpdate derives the next
 * application secret from the last. TLS 1.2 (RFC 5246 §6.3): the master secret, logged with the
 * client random, and the server random give the key block by the TLS PRF.
 *
 * Only AEAD cipher suites are known here (AES-GCM and ChaCha20-Poly1305): those TLS 1.3 has, and
 * the ones Node negotiates by default under TLS 1.2. A record's overhead under them is fixed
 * (its nonce, if explicit, and its 16-byte tag), which is what lets the accountant count it.
 */
import { createDecipheriv, createHmac } from 'node:crypto';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HashAlgorithm = 'sha256' | 'sha384';

export const AEAD_TAG_BYTES = 16;
const AEAD_NONCE_BYTES = 12;
const SEQUENCE_BYTES = 8;

export interface CipherSuite {
  id: number;
  name: string;
  aead: AeadAlgorithm;
  keyBytes: number;
  hash: HashAlgorithm;
  /** TLS 1.2: the IV bytes the key block gives each direction (GCM's 4-byte salt; ChaCha20's whole 12-byte nonce mask). */
  fixedIvBytes: number;
  /** TLS 1.2: the nonce bytes each record carries before its ciphertext (GCM's 8; none for ChaCha20). */
  explicitNonceBytes: number;
}

function suite(id: number, name: string, aead: AeadAlgorithm, hash: HashAlgorithm): CipherSuite {
  const gcm = aead !== 'chacha20-poly1305';
  return { id, name, aead, keyBytes: aead === 'aes-128-gcm' ? 16 : 32, hash, fixedIvBytes: gcm ? 4 : 12, explicitNonceBytes: gcm ? 8 : 0 };
}

const TLS13_SUITES: ReadonlyMap<number, CipherSuite> = new Map(
  [
    suite(0x1301, 'TLS_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256'),
    suite(0x1302, 'TLS_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384'),
    suite(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256'),
  ].map((each) => [each.id, each]),
);

const TLS12_SUITES: ReadonlyMap<number, CipherSuite> = new Map(
  [
    suite(0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256'),
    suite(0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384'),
    suite(0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256'),
    suite(0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384'),
    suite(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256'),
    suite(0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384'),
    suite(0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'aes-128-gcm', 'sha256'),
    suite(0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'aes-256-gcm', 'sha384'),
    suite(0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256'),
    suite(0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256'),
    suite(0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'chacha20-poly1305', 'sha256'),
  ].map((each) => [each.id, each]),
);

/** The suite of this id under this version, if its records can be opened here. */
export function cipherSuite(version: TlsVersion, id: number): CipherSuite | undefined {
  return (version === 'TLSv1.3' ? TLS13_SUITES : TLS12_SUITES).get(id);
}

function hashBytes(hash: HashAlgorithm): number {
  return hash === 'sha256' ? 32 : 48;
}

/** HKDF-Expand (RFC 5869 §2.3). */
function hkdfExpand(hash: HashAlgorithm, secret: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let counter = 1; blocks.length * hashBytes(hash) < length; counter += 1) {
    previous = createHmac(hash, secret)
      .update(Buffer.concat([previous, info, Buffer.from([counter])]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 §7.1). */
export function hkdfExpandLabel(hash: HashAlgorithm, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, fullLabel.length]), fullLabel, Buffer.from([context.length]), context]);
  return hkdfExpand(hash, secret, info, length);
}

/** A TLS 1.3 traffic secret's record key and IV (RFC 8446 §7.3). */
export function tls13TrafficKeys(suite: CipherSuite, secret: Buffer): { key: Buffer; iv: Buffer } {
  return {
    key: hkdfExpandLabel(suite.hash, secret, 'key', Buffer.alloc(0), suite.keyBytes),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', Buffer.alloc(0), AEAD_NONCE_BYTES),
  };
}

/** The application traffic secret after a KeyUpdate (RFC 8446 §7.2). */
export function nextTrafficSecret(suite: CipherSuite, secret: Buffer): Buffer {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', Buffer.alloc(0), hashBytes(suite.hash));
}

/** The TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label + seed). */
export function tls12Prf(hash: HashAlgorithm, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const blocks: Buffer[] = [];
  let a = labelSeed;
  while (blocks.length * hashBytes(hash) < length) {
    a = createHmac(hash, secret).update(a).digest();
    blocks.push(
      createHmac(hash, secret)
        .update(Buffer.concat([a, labelSeed]))
        .digest(),
    );
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** TLS 1.2's record keys of both directions from the master secret (RFC 5246 §6.3; an AEAD suite has no MAC keys). */
export function tls12TrafficKeys(
  suite: CipherSuite,
  masterSecret: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
): { client: { key: Buffer; iv: Buffer }; server: { key: Buffer; iv: Buffer } } {
  const keyBytes = suite.keyBytes;
  const ivBytes = suite.fixedIvBytes;
  const block = tls12Prf(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * keyBytes + 2 * ivBytes);
  return {
    client: { key: block.subarray(0, keyBytes), iv: block.subarray(2 * keyBytes, 2 * keyBytes + ivBytes) },
    server: { key: block.subarray(keyBytes, 2 * keyBytes), iv: block.subarray(2 * keyBytes + ivBytes, 2 * keyBytes + 2 * ivBytes) },
  };
}

/** The IV with the record's sequence number XORed into its last 8 bytes (RFC 8446 §5.3, RFC 7905 §2). */
function sequenceNonce(iv: Buffer, sequence: number): Buffer {
  const nonce = Buffer.from(iv);
  const sequenceBytes = Buffer.alloc(SEQUENCE_BYTES);
  sequenceBytes.writeBigUInt64BE(BigInt(sequence));
  for (let index = 0; index < SEQUENCE_BYTES; index += 1) nonce[AEAD_NONCE_BYTES - SEQUENCE_BYTES + index]! ^= sequenceBytes[index]!;
  return nonce;
}

/** Decrypts and authenticates; undefined when the tag does not match (wrong keys, or a record not of this epoch). */
function aeadOpen(suite: CipherSuite, key: Buffer, nonce: Buffer, additionalData: Buffer, sealed: Buffer): Buffer | undefined {
  const ciphertextEnd = sealed.length - AEAD_TAG_BYTES;
  if (ciphertextEnd < 0) return undefined;
  const decipher =
    suite.aead === 'chacha20-poly1305'
      ? createDecipheriv(suite.aead, key, nonce, { authTagLength: AEAD_TAG_BYTES })
      : createDecipheriv(suite.aead, key, nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAAD(additionalData, { plaintextLength: ciphertextEnd });
  decipher.setAuthTag(sealed.subarray(ciphertextEnd));
  const plaintext = decipher.update(sealed.subarray(0, ciphertextEnd));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}

/** The record keys of one direction and epoch. */
export interface RecordKeys {
  suite: CipherSuite;
  version: TlsVersion;
  key: Buffer;
  iv: Buffer;
}

/**
 * Opens the protected record whose 5-byte header is `header` and body `body`, the
 * `sequence`-th of its direction and epoch. TLS 1.3 gives the inner plaintext (content, its
 * type byte, any zero padding); TLS 1.2 the content. Undefined when it does not authenticate.
 */
export function openRecord(keys: RecordKeys, sequence: number, header: Buffer, body: Buffer): Buffer | undefined {
  const { suite, key, iv } = keys;
  if (keys.version === 'TLSv1.3') return aeadOpen(suite, key, sequenceNonce(iv, sequence), header, body);
  const explicitBytes = suite.explicitNonceBytes;
  if (body.length < explicitBytes + AEAD_TAG_BYTES) return undefined;
  const nonce = explicitBytes > 0 ? Buffer.concat([iv, body.subarray(0, explicitBytes)]) : sequenceNonce(iv, sequence);
  // seq_num, type, version and the plaintext's length (RFC 5246 §6.2.3.3)
  const additionalData = Buffer.alloc(SEQUENCE_BYTES + 5);
  additionalData.writeBigUInt64BE(BigInt(sequence));
  header.copy(additionalData, SEQUENCE_BYTES, 0, 3);
  additionalData.writeUInt16BE(body.length - explicitBytes - AEAD_TAG_BYTES, SEQUENCE_BYTES + 3);
  return aeadOpen(suite, key, nonce, additionalData, body.subarray(explicitBytes));
}
