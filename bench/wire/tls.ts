/**
 * TLS (1.2 and 1.3) of one client connection, read from the ciphertext its TCP socket carried,
 * for the byte accountant (wire.ts). Every byte the socket carried is counted; what TLS's
 * record layer adds is `tls`, the handshake is `setup`, and the plaintext of application data
 * is handed on, to be split by the parser of the protocol inside (HTTP, WebSocket, TCP framing,
 * HTTP/2) as if it had come over plain TCP.
 *
 * - `tls`: every record's 5-byte header, and the AEAD overhead of a protected record: its tag
 *   (16 bytes), TLS 1.2 GCM's explicit nonce (8 bytes), TLS 1.3's inner content type (1 byte)
 *   and any zero padding after it.
 * - `setup`: what the records of the handshake protocol carry (ClientHello, ServerHello,
 *   certificates, Finished, TLS 1.3's NewSessionTicket and KeyUpdate after the handshake), of
 *   ChangeCipherSpec, and alerts.
 * - the plaintext of application data records: whatever the protocol inside says.
 *
 * Which record carries what is exact, not guessed from lengths or timing. A record's type is in
 * its header, except for TLS 1.3's protected records, which all say application_data: their
 * true type is the last non-zero byte of their plaintext (RFC 8446 §5.2), read by opening the
 * record (AEAD, authenticated) with the keys the client's own TLS stack logged (Node's
 * 'keylog' event: keylog()). The handshake messages inside tell when each direction's keys
 * change (its Finished; a KeyUpdate). TLS 1.2's protected records need opening only for their
 * plaintext: their overhead is fixed by the cipher suite, which the ServerHello names.
 *
 * Bytes count as `tls` when they arrive and move to their kind when their record is complete
 * and opened, so that the total is always the bytes the socket carried: a record cut short by
 * the connection's end, or one whose keys were never logged, stays `tls`. A record that comes
 * before its keys (the server's flight arrives before the client's TLS stack has read the
 * ServerHello that derives them) waits, copied, with those after it, until they are logged.
 */
import type { ByteKind } from './http1.ts';
import {
  AEAD_TAG_BYTES,
  cipherSuite,
  nextTrafficSecret,
  openRecord,
  tls12TrafficKeys,
  tls13TrafficKeys,
  type CipherSuite,
  type RecordKeys,
  type TlsVersion,
} from './tls-keys.ts';

type Direction = 'up' | 'down';

/** Where the record layer counts: a ByteCounter that can also take back bytes it counted. */
export interface TlsCounter {
  add(kind: ByteKind, bytes: number): void;
  move(from: ByteKind, to: ByteKind, bytes: number): void;
  /** Takes back bytes counted as `kind`, about to be counted again by the parser of the plaintext. */
  remove(kind: ByteKind, bytes: number): void;
}

/** Receives the plaintext of one application data record. */
export type PlaintextListener = (direction: Direction, plaintext: Buffer) => void;

export const TLS_RECORD_HEADER_BYTES = 5;

export const TLS_CONTENT = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
} as const;

export const TLS_HANDSHAKE = {
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  finished: 20,
  keyUpdate: 24,
} as const;

const HANDSHAKE_HEADER_BYTES = 4;
const RANDOM_BYTES = 32;
const EXTENSION_SUPPORTED_VERSIONS = 43;
const VERSION_TLS12 = 0x0303;
const VERSION_TLS13 = 0x0304;
/** A ServerHello with this random is a HelloRetryRequest (RFC 8446 §4.1.3): the real one is still to come. */
const HELLO_RETRY_REQUEST_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/**
 * Cuts one direction's ciphertext into records, across chunks. A record whole in its chunk is
 * handed on where it is; one split across chunks is copied together (a written chunk may be
 * reused once its write is done).
 */
class RecordReader {
  private readonly header = Buffer.alloc(TLS_RECORD_HEADER_BYTES);
  private headerHaveBytes = 0;
  private body: Buffer | undefined;
  private bodyHaveBytes = 0;

  constructor(private readonly onRecord: (header: Buffer, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === undefined && this.headerHaveBytes === 0 && chunk.length - offset >= TLS_RECORD_HEADER_BYTES) {
        const end = offset + TLS_RECORD_HEADER_BYTES + chunk.readUInt16BE(offset + 3);
        if (end <= chunk.length) {
          this.onRecord(chunk.subarray(offset, offset + TLS_RECORD_HEADER_BYTES), chunk.subarray(offset + TLS_RECORD_HEADER_BYTES, end));
          offset = end;
          continue;
        }
      }
      offset = this.body === undefined ? this.readHeader(chunk, offset) : this.readBody(this.body, chunk, offset);
    }
  }

  private readHeader(chunk: Buffer, offset: number): number {
    const takenBytes = Math.min(TLS_RECORD_HEADER_BYTES - this.headerHaveBytes, chunk.length - offset);
    chunk.copy(this.header, this.headerHaveBytes, offset, offset + takenBytes);
    this.headerHaveBytes += takenBytes;
    if (this.headerHaveBytes === TLS_RECORD_HEADER_BYTES) {
      this.headerHaveBytes = 0;
      this.body = Buffer.allocUnsafe(this.header.readUInt16BE(3));
      this.bodyHaveBytes = 0;
      if (this.body.length === 0) this.endRecord(this.body);
    }
    return offset + takenBytes;
  }

  private readBody(body: Buffer, chunk: Buffer, offset: number): number {
    const takenBytes = Math.min(body.length - this.bodyHaveBytes, chunk.length - offset);
    chunk.copy(body, this.bodyHaveBytes, offset, offset + takenBytes);
    this.bodyHaveBytes += takenBytes;
    if (this.bodyHaveBytes === body.length) this.endRecord(body);
    return offset + takenBytes;
  }

  private endRecord(body: Buffer): void {
    this.body = undefined;
    this.onRecord(this.header, body);
  }
}

/** Reads the handshake messages of one direction, across records; keeps only a ServerHello's body. */
class HandshakeReader {
  private readonly header = Buffer.alloc(HANDSHAKE_HEADER_BYTES);
  private headerHaveBytes = 0;
  private bodyLeftBytes = 0;
  private type = 0;
  private bodyParts: Buffer[] | undefined;

  constructor(private readonly onMessage: (type: number, body: Buffer | undefined) => void) {}

  push(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) {
      if (this.headerHaveBytes < HANDSHAKE_HEADER_BYTES) {
        const takenBytes = Math.min(HANDSHAKE_HEADER_BYTES - this.headerHaveBytes, bytes.length - offset);
        bytes.copy(this.header, this.headerHaveBytes, offset, offset + takenBytes);
        this.headerHaveBytes += takenBytes;
        offset += takenBytes;
        if (this.headerHaveBytes < HANDSHAKE_HEADER_BYTES) continue;
        this.type = this.header[0]!;
        this.bodyLeftBytes = this.header.readUIntBE(1, 3);
        this.bodyParts = this.type === TLS_HANDSHAKE.serverHello ? [] : undefined;
      } else {
        const takenBytes = Math.min(this.bodyLeftBytes, bytes.length - offset);
        this.bodyParts?.push(Buffer.from(bytes.subarray(offset, offset + takenBytes)));
        this.bodyLeftBytes -= takenBytes;
        offset += takenBytes;
      }
      if (this.bodyLeftBytes === 0) {
        this.headerHaveBytes = 0;
        this.onMessage(this.type, this.bodyParts === undefined ? undefined : Buffer.concat(this.bodyParts));
      }
    }
  }
}

/** What the ServerHello chose: the version, the cipher suite (by id) and the server's random. */
interface ServerHello {
  version: number;
  suiteId: number;
  random: Buffer;
}

/** A ServerHello's body (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3); undefined if it is too short to be one. */
function parseServerHello(body: Buffer): ServerHello | undefined {
  if (body.length < 2 + RANDOM_BYTES + 1) return undefined;
  let version = body.readUInt16BE(0);
  const random = body.subarray(2, 2 + RANDOM_BYTES);
  let offset = 2 + RANDOM_BYTES;
  offset += 1 + body[offset]!; // legacy_session_id_echo
  if (offset + 3 > body.length) return undefined;
  const suiteId = body.readUInt16BE(offset);
  offset += 3; // cipher_suite, legacy_compression_method
  if (offset + 2 <= body.length) {
    const end = Math.min(body.length, offset + 2 + body.readUInt16BE(offset));
    offset += 2;
    while (offset + 4 <= end) {
      const type = body.readUInt16BE(offset);
      const length = body.readUInt16BE(offset + 2);
      if (type === EXTENSION_SUPPORTED_VERSIONS && length === 2 && offset + 6 <= end) version = body.readUInt16BE(offset + 4);
      offset += 4 + length;
    }
  }
  return { version, suiteId, random };
}

/** One direction: whose keys protect it, where it is in the handshake, and the records waiting for keys. */
interface DirectionState {
  /** The label of its secrets in the key log. */
  readonly side: 'CLIENT' | 'SERVER';
  /** TLS 1.2: a ChangeCipherSpec came; every later record is protected. */
  protectedRecords: boolean;
  /** TLS 1.3: the epoch of its protected records, handshake until its Finished. */
  epoch: 'handshake' | 'application';
  /** TLS 1.3: the application traffic secret now in use (one more KeyUpdate derives the next). */
  applicationSecret: Buffer | undefined;
  keys: RecordKeys | undefined;
  /** Protected records read in this epoch (the AEAD nonce's and additional data's sequence number). */
  sequence: number;
  /** Records that could not be read yet, in order. */
  readonly waiting: { header: Buffer; body: Buffer }[];
  readonly records: RecordReader;
  readonly handshake: HandshakeReader;
}

/** The TLS of one connection, both directions. */
export class TlsRecordLayer {
  private version: TlsVersion | 'unsupported' | undefined;
  private suite: CipherSuite | undefined;
  private serverRandom: Buffer | undefined;
  private clientRandom: Buffer | undefined;
  private masterSecret: Buffer | undefined;
  private readonly secrets = new Map<string, Buffer>();
  private readonly directions: Record<Direction, DirectionState>;
  /** Why some protected records stay `tls` whole (their plaintext unread); undefined while every record was read. */
  problem: string | undefined;

  constructor(
    private readonly counters: Record<Direction, TlsCounter>,
    private readonly onPlaintext: PlaintextListener,
  ) {
    this.directions = { up: this.directionState('up'), down: this.directionState('down') };
  }

  /** The version the ServerHello chose, once it came. */
  get negotiatedVersion(): TlsVersion | undefined {
    return this.version === 'unsupported' ? undefined : this.version;
  }

  /** Ciphertext of one direction, as the socket carried it. */
  consume(direction: Direction, chunk: Buffer): void {
    this.counters[direction].add('tls', chunk.length);
    this.directions[direction].records.push(chunk);
  }

  /** One line of the client's key log (NSS format: `LABEL <client random> <secret>`, in hex). */
  keylog(line: Buffer | string): void {
    const [label, clientRandom, secret] = line.toString().trim().split(/\s+/);
    if (label === undefined || clientRandom === undefined || secret === undefined) return;
    if (label === 'CLIENT_RANDOM') {
      this.clientRandom = Buffer.from(clientRandom, 'hex');
      this.masterSecret = Buffer.from(secret, 'hex');
    } else {
      this.secrets.set(label, Buffer.from(secret, 'hex'));
    }
    this.readWaiting();
  }

  private directionState(direction: Direction): DirectionState {
    return {
      side: direction === 'up' ? 'CLIENT' : 'SERVER',
      protectedRecords: false,
      epoch: 'handshake',
      applicationSecret: undefined,
      keys: undefined,
      sequence: 0,
      waiting: [],
      records: new RecordReader((header, body) => this.onRecord(direction, header, body)),
      handshake: new HandshakeReader((type, body) => this.onHandshakeMessage(direction, type, body)),
    };
  }

  private onRecord(direction: Direction, header: Buffer, body: Buffer): void {
    const state = this.directions[direction];
    if (state.waiting.length === 0 && this.read(direction, header, body)) return;
    state.waiting.push({ header: Buffer.from(header), body: Buffer.from(body) });
  }

  /** Reads the records that waited, in order, as far as the keys known now allow. */
  private readWaiting(): void {
    for (const direction of ['up', 'down'] as const) {
      const { waiting } = this.directions[direction];
      while (waiting.length > 0 && this.read(direction, waiting[0]!.header, waiting[0]!.body)) waiting.shift();
    }
  }

  /** Classifies one whole record; false when it cannot be read yet (no ServerHello yet, or its keys not logged yet). */
  private read(direction: Direction, header: Buffer, body: Buffer): boolean {
    const state = this.directions[direction];
    const counter = this.counters[direction];
    const type = header[0]!;
    if (type === TLS_CONTENT.changeCipherSpec) {
      counter.move('tls', 'setup', body.length);
      if (this.version === 'TLSv1.2') {
        state.protectedRecords = true;
        state.sequence = 0;
      } // TLS 1.3's is for middleboxes only (RFC 8446 §D.4): it changes nothing
      return true;
    }
    const isProtected = type === TLS_CONTENT.applicationData || (this.version === 'TLSv1.2' && state.protectedRecords);
    if (!isProtected) {
      counter.move('tls', 'setup', body.length); // a handshake message or an alert, in the clear
      if (type === TLS_CONTENT.handshake) state.handshake.push(body);
      return true;
    }
    if (this.version === undefined) return false;
    if (this.version === 'unsupported' || this.suite === undefined) return true; // stays tls: see `problem`
    return this.version === 'TLSv1.3' ? this.readTls13(direction, state, header, body) : this.readTls12(direction, state, header, body);
  }

  private readTls13(direction: Direction, state: DirectionState, header: Buffer, body: Buffer): boolean {
    const keys = this.tls13Keys(state);
    if (keys === undefined) return false;
    const inner = openRecord(keys, state.sequence, header, body);
    state.sequence += 1;
    if (inner === undefined) {
      this.problem ??= `a TLS 1.3 record going ${direction} did not authenticate with the logged keys`;
      return true;
    }
    let typeAt = inner.length - 1;
    while (typeAt >= 0 && inner[typeAt] === 0) typeAt -= 1; // zero padding after the type
    if (typeAt < 0) {
      this.problem ??= `a TLS 1.3 record going ${direction} had no content type`;
      return true;
    }
    const content = inner.subarray(0, typeAt);
    const innerType = inner[typeAt]!;
    if (innerType === TLS_CONTENT.applicationData) {
      this.plaintext(direction, content);
    } else {
      this.counters[direction].move('tls', 'setup', content.length);
      if (innerType === TLS_CONTENT.handshake) state.handshake.push(content);
    }
    return true;
  }

  private readTls12(direction: Direction, state: DirectionState, header: Buffer, body: Buffer): boolean {
    const suite = this.suite!;
    if (header[0] !== TLS_CONTENT.applicationData) {
      // A Finished or an alert: what it carries is its length less the fixed overhead, no need to open it.
      state.sequence += 1;
      this.counters[direction].move('tls', 'setup', Math.max(0, body.length - suite.explicitNonceBytes - AEAD_TAG_BYTES));
      return true;
    }
    const keys = (state.keys ??= this.tls12Keys(direction));
    if (keys === undefined) return false;
    const content = openRecord(keys, state.sequence, header, body);
    state.sequence += 1;
    if (content === undefined) {
      this.problem ??= `a TLS 1.2 record going ${direction} did not authenticate with the logged keys`;
      return true;
    }
    this.plaintext(direction, content);
    return true;
  }

  /** An application data record's plaintext, counted as tls so far, goes to the parser of what is inside. */
  private plaintext(direction: Direction, content: Buffer): void {
    this.counters[direction].remove('tls', content.length);
    if (content.length > 0) this.onPlaintext(direction, content);
  }

  private tls13Keys(state: DirectionState): RecordKeys | undefined {
    if (state.keys !== undefined) return state.keys;
    const secret =
      state.epoch === 'handshake'
        ? this.secrets.get(`${state.side}_HANDSHAKE_TRAFFIC_SECRET`)
        : (state.applicationSecret ??= this.secrets.get(`${state.side}_TRAFFIC_SECRET_0`));
    if (secret === undefined) return undefined;
    state.keys = { suite: this.suite!, version: 'TLSv1.3', ...tls13TrafficKeys(this.suite!, secret) };
    return state.keys;
  }

  private tls12Keys(direction: Direction): RecordKeys | undefined {
    if (this.masterSecret === undefined || this.clientRandom === undefined || this.serverRandom === undefined) return undefined;
    const keys = tls12TrafficKeys(this.suite!, this.masterSecret, this.clientRandom, this.serverRandom);
    return { suite: this.suite!, version: 'TLSv1.2', ...(direction === 'up' ? keys.client : keys.server) };
  }

  private onHandshakeMessage(direction: Direction, type: number, body: Buffer | undefined): void {
    const state = this.directions[direction];
    if (type === TLS_HANDSHAKE.serverHello && direction === 'down' && body !== undefined) {
      this.onServerHello(body);
    } else if (type === TLS_HANDSHAKE.finished && this.version === 'TLSv1.3' && state.epoch === 'handshake') {
      // Its Finished is the last message of a direction's handshake: the next record is under the application keys.
      state.epoch = 'application';
      state.keys = undefined;
      state.sequence = 0;
    } else if (type === TLS_HANDSHAKE.keyUpdate && this.version === 'TLSv1.3' && state.epoch === 'application' && state.applicationSecret !== undefined) {
      state.applicationSecret = nextTrafficSecret(this.suite!, state.applicationSecret);
      state.keys = undefined;
      state.sequence = 0;
    }
  }

  private onServerHello(body: Buffer): void {
    const hello = parseServerHello(body);
    if (hello === undefined || hello.random.equals(HELLO_RETRY_REQUEST_RANDOM)) return;
    this.serverRandom = Buffer.from(hello.random);
    const version = hello.version === VERSION_TLS13 ? 'TLSv1.3' : hello.version === VERSION_TLS12 ? 'TLSv1.2' : undefined;
    if (version === undefined) {
      this.version = 'unsupported';
      this.problem ??= `TLS version 0x${hello.version.toString(16)} is not read here (only TLS 1.2 and 1.3)`;
      return;
    }
    this.version = version;
    this.suite = cipherSuite(version, hello.suiteId);
    if (this.suite === undefined) this.problem ??= `cipher suite 0x${hello.suiteId.toString(16).padStart(4, '0')} is not read here (only AEAD suites)`;
    this.readWaiting();
  }
}
