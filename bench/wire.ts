/**
 * Where every byte of a connection goes: the one place in wirecost where bytes are counted and
 * split.
 *
 * A ConnectionAccountant is fed the raw bytes one client socket carried, in both directions
 * (tapSocket does the feeding), and classifies each byte as payload, headers, framing, setup or
 * tls. The parsers are incremental: a chunk may end anywhere, even inside a header or a frame
 * length, and the split is the same whatever the chunking.
 *
 * The protocols are HTTP/1.1 (wire/http1.ts, with the WebSocket frames after an upgrade), the
 * TCP transport's frames, and HTTP/2 (wire/http2.ts); the HTTP versions share what an exchange
 * is for (wire/http-exchange.ts). Any of them may run inside TLS (wire/tls.ts): then the bytes
 * fed are TLS records, counted as the socket carried them; the record layer's own bytes are
 * tls, the handshake setup, and the plaintext of application data goes to the protocol's
 * parser as if it had come over plain TCP.
 *
 * Some bytes cannot be classified when they arrive: a request head is setup or headers
 * depending on its last header (Upgrade), an SSE event's data is payload only once its blank
 * line completes it, a poll body is payload and framing only if it parses, a TLS record is what
 * it is only once it is complete and opened. Such bytes are counted at once under a provisional
 * kind and moved when their kind is known, so that
 * total === payload + headers + framing + setup + tls at every moment.
 */
import type { Socket } from 'node:net';
import { TCP_CONTROL_FLAG, TCP_HEADER_BYTES } from '../servers/tcp-framing.ts';
import {
  HttpMessageParser,
  bodilessResponse,
  framedBodyLength,
  type ByteCounter,
  type ByteKind,
  type HttpHead,
  type HttpSide,
  type MessagePlan,
} from './wire/http1.ts';
import { HEAD_KIND, chunkFramingKind, pathOf, purposeOf, requestSink, responseSink, type Purpose } from './wire/http-exchange.ts';
import { Http2Connection } from './wire/http2.ts';
import { TlsRecordLayer, type TlsCounter } from './wire/tls.ts';

export type { ByteKind } from './wire/http1.ts';

export type Direction = 'up' | 'down'; // up = client to server

export interface ByteSplit {
  total: number;
  payload: number;
  headers: number;
  framing: number;
  setup: number;
  /** TLS's record headers and AEAD overhead (wire/tls.ts); 0 on a plaintext connection. */
  tls: number;
}

export interface WireBytes {
  up: ByteSplit;
  down: ByteSplit;
}

const DIRECTIONS: readonly Direction[] = ['up', 'down'];
/** Heads a connection's header series (AccountantOptions.headerSeries) keeps, each way. */
export const HEADER_SERIES_LENGTH = 16;

const SPLIT_FIELDS: readonly (keyof ByteSplit)[] = ['total', 'payload', 'headers', 'framing', 'setup', 'tls'];

function emptyByteSplit(): ByteSplit {
  return { total: 0, payload: 0, headers: 0, framing: 0, setup: 0, tls: 0 };
}

export function emptyWireBytes(): WireBytes {
  return { up: emptyByteSplit(), down: emptyByteSplit() };
}

/** Adds `from` into `into`, field by field. */
export function addWireBytes(into: WireBytes, from: WireBytes): void {
  for (const direction of DIRECTIONS) {
    for (const field of SPLIT_FIELDS) into[direction][field] += from[direction][field];
  }
}

/** Counts one direction's bytes into its ByteSplit; the only code that writes a ByteSplit. */
class Tally implements ByteCounter, TlsCounter {
  constructor(
    private readonly split: ByteSplit,
    /** Where each complete head counted as headers is listed (its bytes), up to HEADER_SERIES_LENGTH. */
    private readonly series?: number[],
  ) {}

  head(kind: ByteKind, bytes: number): void {
    if (kind === 'headers' && this.series !== undefined && this.series.length < HEADER_SERIES_LENGTH) this.series.push(bytes);
  }

  add(kind: ByteKind, bytes: number): void {
    this.split[kind] += bytes;
    this.split.total += bytes;
  }

  /** Reclassifies bytes already counted as `from` (the total does not change). */
  move(from: ByteKind, to: ByteKind, bytes: number): void {
    this.split[from] -= bytes;
    this.split[to] += bytes;
  }

  /**
   * Takes back bytes counted as `kind`: TLS counts a record's plaintext as tls until it is
   * opened, then hands it to the parser inside, which counts it again, within the same call.
   */
  remove(kind: ByteKind, bytes: number): void {
    this.split[kind] -= bytes;
    this.split.total -= bytes;
  }
}

/** An incremental classifier of one direction of a connection. */
interface StreamParser {
  /**
   * Classifies bytes of `chunk` from `offset` on and returns the offset it stopped at: after
   * at least one byte, before the end only where the connection changes protocol (the
   * accountant then hands the rest to the next parser).
   */
  consume(chunk: Buffer, offset: number): number;
}

// ---------------------------------------------------------------------------------------------
// Length-prefixed frames: raw TCP and WebSocket.
// ---------------------------------------------------------------------------------------------

/** What tells one length-prefixed frame format from another. */
interface FrameFormat {
  readonly maxHeaderBytes: number;
  /** The header's length, given `haveBytes` of its bytes from `at` in `bytes` (which may not yet tell it all). */
  headerBytes(bytes: Buffer, at: number, haveBytes: number): number;
  /**
   * The payload's length and kind, once the header (from `at` in `bytes`) is complete. A frame
   * whose payload is setup (a control request, a close, a ping) is setup whole, header and all.
   */
  payload(bytes: Buffer, at: number): { bytes: number; kind: ByteKind };
}

type FrameState = 'header' | 'payload';

/** Frames of a header (framing) and a payload (of the kind the format gives). */
class FrameParser implements StreamParser {
  private state: FrameState = 'header';
  /** A header split across chunks is gathered here; one whole in its chunk is read where it is. */
  private readonly header: Buffer;
  private headerHaveBytes = 0;
  private payloadLeftBytes = 0;
  private payloadKind: ByteKind = 'payload';

  constructor(
    private readonly tally: Tally,
    private readonly format: FrameFormat,
  ) {
    this.header = Buffer.alloc(format.maxHeaderBytes);
  }

  consume(chunk: Buffer, offset: number): number {
    return this.state === 'header' ? this.readHeader(chunk, offset) : this.readPayload(chunk, offset);
  }

  private readHeader(chunk: Buffer, offset: number): number {
    const available = chunk.length - offset;
    if (this.headerHaveBytes === 0) {
      const wholeBytes = this.format.headerBytes(chunk, offset, available);
      if (wholeBytes <= available && this.format.headerBytes(chunk, offset, wholeBytes) === wholeBytes) {
        this.tally.add('framing', wholeBytes);
        this.startPayload(chunk, offset, wholeBytes);
        return offset + wholeBytes;
      }
    }
    const wantedBytes = this.format.headerBytes(this.header, 0, this.headerHaveBytes) - this.headerHaveBytes;
    const takenBytes = Math.min(wantedBytes, available);
    chunk.copy(this.header, this.headerHaveBytes, offset, offset + takenBytes);
    this.headerHaveBytes += takenBytes;
    this.tally.add('framing', takenBytes);
    // A WebSocket header tells its full length only after its first two bytes: check again.
    if (this.headerHaveBytes === this.format.headerBytes(this.header, 0, this.headerHaveBytes)) {
      const headerBytes = this.headerHaveBytes;
      this.headerHaveBytes = 0;
      this.startPayload(this.header, 0, headerBytes);
    }
    return offset + takenBytes;
  }

  /** The header (`headerBytes`, counted as framing) is complete: a setup frame's header is setup too. */
  private startPayload(header: Buffer, at: number, headerBytes: number): void {
    const { bytes, kind } = this.format.payload(header, at);
    if (kind === 'setup') this.tally.move('framing', 'setup', headerBytes);
    this.payloadLeftBytes = bytes;
    this.payloadKind = kind;
    if (bytes > 0) this.state = 'payload';
  }

  private readPayload(chunk: Buffer, offset: number): number {
    const takenBytes = Math.min(this.payloadLeftBytes, chunk.length - offset);
    this.tally.add(this.payloadKind, takenBytes);
    this.payloadLeftBytes -= takenBytes;
    if (this.payloadLeftBytes === 0) this.state = 'header';
    return offset + takenBytes;
  }
}

/** The TCP transport's frames (servers/tcp-framing.ts): a control frame (a request, an error) is setup whole. */
const TCP_FRAME_FORMAT: FrameFormat = {
  maxHeaderBytes: TCP_HEADER_BYTES,
  headerBytes: () => TCP_HEADER_BYTES,
  payload(header, at) {
    const word = header.readUInt32BE(at);
    const control = word >= TCP_CONTROL_FLAG;
    return { bytes: control ? word - TCP_CONTROL_FLAG : word, kind: control ? 'setup' : 'payload' };
  },
};

const WS_BASE_HEADER_BYTES = 2;
const WS_MASK_BYTES = 4;
const WS_MAX_HEADER_BYTES = WS_BASE_HEADER_BYTES + 8 + WS_MASK_BYTES;
const WS_LENGTH_16 = 126; // the 7-bit length saying "16-bit length follows"
const WS_LENGTH_64 = 127; // the 7-bit length saying "64-bit length follows"
const WS_OPCODE_CONTINUATION = 0x0;
const WS_OPCODE_TEXT = 0x1;
const WS_OPCODE_BINARY = 0x2;
const WS_FIRST_CONTROL_OPCODE = 0x8; // close, ping, pong and the reserved control opcodes

/**
 * RFC 6455 frames of one direction. Text is payload; binary is payload going down and setup
 * going up (the driver's binary messages are control requests); control frames (close, ping,
 * pong) are the connection's life, not its messages: setup, like the handshake. So the framing
 * of a message is its data frames' headers only.
 */
class WebSocketFrameFormat implements FrameFormat {
  readonly maxHeaderBytes = WS_MAX_HEADER_BYTES;
  /** Opcode of the message the next continuation frame belongs to. */
  private messageOpcode = WS_OPCODE_TEXT;

  constructor(private readonly direction: Direction) {}

  headerBytes(header: Buffer, at: number, haveBytes: number): number {
    if (haveBytes < WS_BASE_HEADER_BYTES) return WS_BASE_HEADER_BYTES;
    const second = header[at + 1]!;
    const length7 = second & 0x7f;
    const extendedBytes = length7 === WS_LENGTH_16 ? 2 : length7 === WS_LENGTH_64 ? 8 : 0;
    return WS_BASE_HEADER_BYTES + extendedBytes + ((second & 0x80) !== 0 ? WS_MASK_BYTES : 0);
  }

  payload(header: Buffer, at: number): { bytes: number; kind: ByteKind } {
    const length7 = header[at + 1]! & 0x7f;
    let bytes = length7;
    if (length7 === WS_LENGTH_16) bytes = header.readUInt16BE(at + 2);
    // Exact up to 2^53 bytes, far beyond any frame a peer could send.
    if (length7 === WS_LENGTH_64) bytes = Number(header.readBigUInt64BE(at + 2));
    return { bytes, kind: this.kindOf(header[at]! & 0x0f) };
  }

  private kindOf(opcode: number): ByteKind {
    if (opcode >= WS_FIRST_CONTROL_OPCODE) return 'setup';
    // Control frames may come between the fragments of a message, so only data frames set it.
    if (opcode !== WS_OPCODE_CONTINUATION) this.messageOpcode = opcode;
    if (this.messageOpcode === WS_OPCODE_TEXT) return 'payload';
    if (this.messageOpcode === WS_OPCODE_BINARY) return this.direction === 'up' ? 'setup' : 'payload';
    return 'framing'; // a reserved data opcode: the peer fails the connection, nothing of ours
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 (the parser is wire/http1.ts): what each part of an exchange is, by its purpose.
// ---------------------------------------------------------------------------------------------

interface Exchange {
  purpose: Purpose;
  method: string;
}

/** A response with no request waiting for it (a server's error on garbage, say). */
const UNMATCHED_EXCHANGE: Exchange = { purpose: 'other', method: 'GET' };

/** Requests: each one queues the exchange its response will complete. */
class RequestSide implements HttpSide {
  constructor(
    private readonly tally: Tally,
    private readonly exchanges: Exchange[],
  ) {}

  onHead(head: HttpHead): MessagePlan {
    const { method, target } = head.request;
    // Only a GET can upgrade: the head's fields are looked up only then.
    const purpose = purposeOf(method, pathOf(target), method === 'GET' ? head.header('upgrade') : undefined);
    this.exchanges.push({ purpose, method });
    return {
      headKind: HEAD_KIND[purpose],
      bodyLength: framedBodyLength(head) ?? 0,
      chunkFramingKind: chunkFramingKind(purpose),
      sink: requestSink(this.tally, purpose),
    };
  }

  onMessageEnd(): void {}
}

const STATUS_SWITCHING_PROTOCOLS = 101;

/** Responses, matched to requests in order; a 101 to a WebSocket upgrade ends HTTP on the connection. */
class ResponseSide implements HttpSide {
  private status = 0;

  constructor(
    private readonly tally: Tally,
    private readonly exchanges: Exchange[],
    private readonly switchToWebSocket: () => void,
  ) {}

  onHead(head: HttpHead): MessagePlan {
    this.status = head.status;
    const { purpose, method } = this.exchanges[0] ?? UNMATCHED_EXCHANGE;
    const bodiless = bodilessResponse(method, this.status);
    return {
      headKind: HEAD_KIND[purpose],
      bodyLength: bodiless ? 0 : (framedBodyLength(head) ?? Number.POSITIVE_INFINITY),
      chunkFramingKind: chunkFramingKind(purpose),
      sink: responseSink(this.tally, purpose, this.status),
    };
  }

  onMessageEnd(): void {
    const exchange = this.exchanges[0];
    if (this.status === STATUS_SWITCHING_PROTOCOLS && exchange?.purpose === 'upgrade') {
      this.exchanges.shift();
      this.switchToWebSocket();
    } else if (this.status >= 200) {
      this.exchanges.shift();
    } // else an informational response (100 Continue): the final one is still to come
  }
}

// ---------------------------------------------------------------------------------------------
// The accountant and the socket tap.
// ---------------------------------------------------------------------------------------------

/** 'websocket' is HTTP whose first exchange is the upgrade; both are parsed alike. 'http2' starts with its preface. */
export type WireProtocol = 'http' | 'websocket' | 'tcp' | 'http2';

export interface AccountantOptions {
  /**
   * The connection is TLS (wire/tls.ts): the bytes fed are records, the protocol is what their
   * application data carries, and keylog() must be given the client's key log lines.
   */
  tls?: boolean;
  /** Lists the bytes of each request head (requests) and response head (responses) counted as headers, in order: the first HEADER_SERIES_LENGTH each way. */
  headerSeries?: { requests: number[]; responses: number[] };
}

/** Classifies every byte of one TCP connection (both directions) into `sink`, which it mutates. */
export class ConnectionAccountant {
  /** Bytes seen per direction (always equal to the sink totals contributed by this accountant). */
  readonly seen: { up: number; down: number } = { up: 0, down: 0 };
  private readonly tallies: Record<Direction, Tally>;
  private readonly parsers: Record<Direction, StreamParser>;
  /** TLS's records, when the connection is TLS: they hand their plaintext to `parsers`. */
  private readonly records: TlsRecordLayer | undefined;

  constructor(protocol: WireProtocol, sink: WireBytes, options: AccountantOptions = {}) {
    this.tallies = { up: new Tally(sink.up, options.headerSeries?.requests), down: new Tally(sink.down, options.headerSeries?.responses) };
    this.parsers = protocol === 'tcp' ? this.tcpParsers() : protocol === 'http2' ? this.http2Parsers() : this.httpParsers();
    this.records = options.tls === true ? new TlsRecordLayer(this.tallies, (direction, plaintext) => this.parse(direction, plaintext)) : undefined;
  }

  /** One line of the TLS client's key log (its 'keylog' event), which opens its records; ignored on a plaintext connection. */
  keylog(line: Buffer | string): void {
    this.records?.keylog(line);
  }

  /** Why some of a TLS connection's records could not be read (they stay tls whole); undefined when all could. */
  get tlsProblem(): string | undefined {
    return this.records?.problem;
  }

  /** Bytes the client wrote (up). */
  written(chunk: Buffer): void {
    this.feed('up', chunk);
  }

  /** Bytes the client read (down). */
  read(chunk: Buffer): void {
    this.feed('down', chunk);
  }

  private feed(direction: Direction, chunk: Buffer): void {
    this.seen[direction] += chunk.length;
    if (this.records !== undefined) {
      this.records.consume(direction, chunk);
      return;
    }
    this.parse(direction, chunk);
  }

  /** Splits bytes of the protocol: the connection's own, or the plaintext of its TLS records. */
  private parse(direction: Direction, chunk: Buffer): void {
    let offset = 0;
    // The parser is looked up on every turn: a 101 response hands the rest to the WebSocket parser.
    while (offset < chunk.length) offset = this.parsers[direction].consume(chunk, offset);
  }

  private tcpParsers(): Record<Direction, StreamParser> {
    return {
      up: new FrameParser(this.tallies.up, TCP_FRAME_FORMAT),
      down: new FrameParser(this.tallies.down, TCP_FRAME_FORMAT),
    };
  }

  private http2Parsers(): Record<Direction, StreamParser> {
    const connection = new Http2Connection();
    return { up: connection.parser('up', this.tallies.up), down: connection.parser('down', this.tallies.down) };
  }

  private httpParsers(): Record<Direction, StreamParser> {
    const exchanges: Exchange[] = [];
    const switchToWebSocket = (): void => {
      // The client writes no frame before it has the 101 (RFC 6455 §4.1), so the request side
      // is between messages: both directions switch here.
      for (const direction of DIRECTIONS) {
        this.parsers[direction] = new FrameParser(this.tallies[direction], new WebSocketFrameFormat(direction));
      }
    };
    return {
      up: new HttpMessageParser(this.tallies.up, new RequestSide(this.tallies.up, exchanges)),
      down: new HttpMessageParser(this.tallies.down, new ResponseSide(this.tallies.down, exchanges, switchToWebSocket)),
    };
  }
}

/** A socket's chunk as bytes: Writable has already turned any Uint8Array into a Buffer. */
function chunkBytes(chunk: unknown, encoding: BufferEncoding): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  if (Buffer.isBuffer(chunk)) return chunk;
  throw new TypeError(`tapSocket: a socket carried a ${typeof chunk}, not bytes`);
}

/**
 * Taps a client socket: every byte written (write/end/writev, strings with their encoding) and
 * every byte read goes to the accountant. Must be called right after the socket is created,
 * before anything is written. Does not change the socket's behaviour (return values,
 * callbacks, backpressure).
 *
 * Writes are taken at `_write`/`_writev`, where every write(), end(data) and corked batch
 * arrives in order, with its encoding, once the stream hands it on: exactly what
 * socket.bytesWritten counts (a write refused after end() is not counted). Reads are taken at
 * `push`, where the socket hands on what the kernel gave it, rather than by a 'data' listener,
 * which would switch a paused socket to flowing and would count twice the bytes a consumer
 * unshifts (the `ws` client unshifts the frames that came with the 101 response). A socket
 * created with the `onread` option bypasses `push` and cannot be tapped.
 */
export function tapSocket(socket: Socket, accountant: ConnectionAccountant): void {
  const write = socket._write;
  socket._write = function tappedWrite(this: Socket, chunk: unknown, encoding, callback) {
    accountant.written(chunkBytes(chunk, encoding));
    write.call(this, chunk, encoding, callback);
  };
  const writev = socket._writev;
  if (writev !== undefined) {
    socket._writev = function tappedWritev(this: Socket, chunks, callback) {
      for (const { chunk, encoding } of chunks) accountant.written(chunkBytes(chunk, encoding));
      writev.call(this, chunks, callback);
    };
  }
  const push = socket.push;
  socket.push = function tappedPush(this: Socket, chunk: unknown, encoding?: BufferEncoding) {
    if (chunk !== null && chunk !== undefined) accountant.read(chunkBytes(chunk, encoding ?? 'utf8'));
    return push.call(this, chunk, encoding);
  };
}
