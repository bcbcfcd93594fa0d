/**
 * Where every byte of a connection goes: the one place in wirecost where bytes are counted and
 * split.
 *
 * A ConnectionAccountant is fed the raw bytes one client socket carried, in both directions
 * (tapSocket does the feeding), and classifies each byte as payload, headers, framing or setup.
 * The parsers are incremental: a chunk may end anywhere, even inside a header or a frame
 * length, and the split is the same whatever the chunking.
 *
 * Some bytes cannot be classified when they arrive: a request head is setup or headers
 * depending on its last header (Upgrade), an SSE event's data is payload only once its blank
 * line completes it, a poll body is payload and framing only if it parses. Such bytes are
 * counted at once under a provisional kind and moved when their kind is known, so that
 * total === payload + headers + framing + setup at every moment.
 */
import type { Socket } from 'node:net';
import { ROUTES } from '../servers/contract.ts';
import { TCP_CONTROL_FLAG, TCP_HEADER_BYTES } from '../servers/tcp-framing.ts';
import {
  HttpMessageParser,
  bodilessResponse,
  framedBodyLength,
  type BodySink,
  type ByteCounter,
  type ByteKind,
  type HttpHead,
  type HttpSide,
  type MessagePlan,
} from './wire/http1.ts';

export type { ByteKind } from './wire/http1.ts';

export type Direction = 'up' | 'down'; // up = client to server

export interface ByteSplit {
  total: number;
  payload: number;
  headers: number;
  framing: number;
  setup: number;
}

export interface WireBytes {
  up: ByteSplit;
  down: ByteSplit;
}

const DIRECTIONS: readonly Direction[] = ['up', 'down'];
const SPLIT_FIELDS: readonly (keyof ByteSplit)[] = ['total', 'payload', 'headers', 'framing', 'setup'];

function emptyByteSplit(): ByteSplit {
  return { total: 0, payload: 0, headers: 0, framing: 0, setup: 0 };
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
class Tally implements ByteCounter {
  constructor(private readonly split: ByteSplit) {}

  add(kind: ByteKind, bytes: number): void {
    this.split[kind] += bytes;
    this.split.total += bytes;
  }

  /** Reclassifies bytes already counted as `from` (the total does not change). */
  move(from: ByteKind, to: ByteKind, bytes: number): void {
    this.split[from] -= bytes;
    this.split[to] += bytes;
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

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

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

/** A body whose every byte is of one kind. */
class KindSink implements BodySink {
  constructor(
    private readonly tally: Tally,
    private readonly kind: ByteKind,
  ) {}

  content(bytes: Buffer): void {
    this.tally.add(this.kind, bytes.length);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** The answer to a poll that found nothing new. */
const EMPTY_POLL = Buffer.from('{"messages":[]}', 'latin1');

/**
 * The summed UTF-8 lengths of a poll answer's `data` strings, or undefined when the body is no
 * poll answer. The sum never exceeds the body: a JSON escape is never shorter than the UTF-8
 * of what it stands for, and the strict decoding admits no replacement characters (3 bytes
 * standing for 1 invalid one).
 */
function pollPayloadBytes(body: Buffer): number | undefined {
  if (body.length === EMPTY_POLL.length && body.equals(EMPTY_POLL)) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(body));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const messages: unknown = (parsed as { messages?: unknown }).messages;
  if (!Array.isArray(messages)) return undefined;
  let payloadBytes = 0;
  for (const message of messages as unknown[]) {
    const data: unknown = typeof message === 'object' && message !== null ? (message as { data?: unknown }).data : undefined;
    if (typeof data === 'string') payloadBytes += Buffer.byteLength(data, 'utf8');
  }
  return payloadBytes;
}

/**
 * A 200 answer to a poll: headers while it arrives (what it is if it turns out not to be
 * `{"messages":[...]}`), then its messages' data payload and the JSON around them framing.
 */
class PollBodySink implements BodySink {
  private readonly parts: Buffer[] = [];
  private bodyBytes = 0;

  constructor(private readonly tally: Tally) {}

  content(bytes: Buffer): void {
    this.tally.add('headers', bytes.length);
    this.parts.push(Buffer.from(bytes));
    this.bodyBytes += bytes.length;
  }

  end(): void {
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bodyBytes);
    const payloadBytes = pollPayloadBytes(body);
    if (payloadBytes === undefined) return;
    this.tally.move('headers', 'framing', this.bodyBytes - payloadBytes);
    this.tally.move('headers', 'payload', payloadBytes);
  }
}

type SseLineState = 'field' | 'after-colon' | 'value' | 'after-cr';
const SSE_DATA_FIELD = Buffer.from('data', 'latin1');

/**
 * The event-stream format (HTML Living Standard §9.2.6), byte by byte, keeping no line: only
 * whether the field is `data` and how long the value is. Lines end at CRLF, LF or CR.
 */
class SseEventParser {
  private state: SseLineState = 'field';
  private fieldBytes = 0;
  private fieldIsData = true;
  private valueBytes = 0;
  private eventDataLines = 0;
  private eventDataBytes = 0;

  /** Parses more of the stream; returns the data bytes of the events it completed. */
  push(bytes: Buffer): number {
    let completedBytes = 0;
    for (const byte of bytes) completedBytes += this.step(byte);
    return completedBytes;
  }

  private step(byte: number): number {
    switch (this.state) {
      case 'after-cr':
        this.state = 'field';
        return byte === LF ? 0 : this.step(byte); // CRLF: the LF is part of the line end
      case 'field':
        if (byte === COLON) {
          this.state = 'after-colon';
          return 0;
        }
        if (byte === LF || byte === CR) return this.endLine(byte);
        this.fieldIsData &&= byte === SSE_DATA_FIELD[this.fieldBytes];
        this.fieldBytes += 1;
        return 0;
      case 'after-colon':
        this.state = 'value';
        return byte === SPACE ? 0 : this.step(byte); // one space after the colon is no value
      case 'value':
        if (byte === LF || byte === CR) return this.endLine(byte);
        this.valueBytes += 1;
        return 0;
    }
  }

  /** Ends a line at `byte` (CR or LF); returns the data bytes of the event it completed. */
  private endLine(byte: number): number {
    const blank = this.state === 'field' && this.fieldBytes === 0;
    const isData = this.fieldIsData && this.fieldBytes === SSE_DATA_FIELD.length;
    if (isData) {
      this.eventDataLines += 1;
      this.eventDataBytes += this.valueBytes;
    }
    this.state = byte === CR ? 'after-cr' : 'field';
    this.fieldBytes = 0;
    this.fieldIsData = true;
    this.valueBytes = 0;
    return blank ? this.dispatch() : 0;
  }

  /** A blank line ends the event: its data is its data lines joined by "\n". */
  private dispatch(): number {
    const dataBytes = this.eventDataLines === 0 ? 0 : this.eventDataBytes + this.eventDataLines - 1;
    this.eventDataLines = 0;
    this.eventDataBytes = 0;
    return dataBytes;
  }
}

/** A text/event-stream body: framing as it arrives, an event's data moved to payload when it completes. */
class SseBodySink implements BodySink {
  private readonly events = new SseEventParser();

  constructor(private readonly tally: Tally) {}

  content(bytes: Buffer): void {
    this.tally.add('framing', bytes.length);
    this.tally.move('framing', 'payload', this.events.push(bytes));
  }
}

/** What an exchange is for, from its request's method and path (and Upgrade header). */
type Purpose = 'message' | 'poll' | 'stream' | 'setup' | 'upgrade' | 'other';

interface Exchange {
  purpose: Purpose;
  method: string;
}

/** A response with no request waiting for it (a server's error on garbage, say). */
const UNMATCHED_EXCHANGE: Exchange = { purpose: 'other', method: 'GET' };

const SETUP_ROUTES: ReadonlySet<string> = new Set([
  `POST ${ROUTES.clients}`,
  `DELETE ${ROUTES.clients}`,
  `POST ${ROUTES.push}`,
  `POST ${ROUTES.broadcast}`,
  `GET ${ROUTES.stats}`,
]);

const HEAD_KIND: Record<Purpose, ByteKind> = {
  message: 'headers',
  poll: 'headers',
  stream: 'setup',
  setup: 'setup',
  upgrade: 'setup',
  other: 'headers',
};

/** Every byte of a setup exchange is setup, chunked encoding's included; elsewhere that is framing. */
function chunkFramingKind(purpose: Purpose): ByteKind {
  return purpose === 'setup' || purpose === 'upgrade' ? 'setup' : 'framing';
}

const REQUEST_BODY_KIND: Record<Purpose, ByteKind> = {
  message: 'payload',
  poll: 'headers',
  stream: 'setup',
  setup: 'setup',
  upgrade: 'setup',
  other: 'payload',
};

/** The path of a request target, as the servers route it (query string ignored). */
function pathOf(target: string): string {
  if (target.startsWith('/')) {
    const query = target.indexOf('?');
    return query === -1 ? target : target.slice(0, query);
  }
  const base = 'http://localhost'; // absolute-form, or no path at all
  return URL.canParse(target, base) ? new URL(target, base).pathname : target;
}

function purposeOf(method: string, path: string, head: HttpHead): Purpose {
  if (method === 'GET' && /\bwebsocket\b/i.test(head.header('upgrade') ?? '')) return 'upgrade';
  const route = `${method} ${path}`;
  if (route === `POST ${ROUTES.messages}`) return 'message';
  if (route === `GET ${ROUTES.messages}`) return 'poll';
  if (route === `GET ${ROUTES.events}`) return 'stream';
  return SETUP_ROUTES.has(route) ? 'setup' : 'other';
}

/** Requests: each one queues the exchange its response will complete. */
class RequestSide implements HttpSide {
  constructor(
    private readonly tally: Tally,
    private readonly exchanges: Exchange[],
  ) {}

  onHead(head: HttpHead): MessagePlan {
    const { method, target } = head.request;
    const purpose = purposeOf(method, pathOf(target), head);
    this.exchanges.push({ purpose, method });
    return {
      headKind: HEAD_KIND[purpose],
      bodyLength: framedBodyLength(head) ?? 0,
      chunkFramingKind: chunkFramingKind(purpose),
      sink: new KindSink(this.tally, REQUEST_BODY_KIND[purpose]),
    };
  }

  onMessageEnd(): void {}
}

function responseSink(tally: Tally, purpose: Purpose, status: number): BodySink {
  switch (purpose) {
    case 'poll':
      return status === 200 ? new PollBodySink(tally) : new KindSink(tally, 'headers');
    case 'stream':
      return status === 200 ? new SseBodySink(tally) : new KindSink(tally, 'headers');
    case 'message':
      return new KindSink(tally, 'headers'); // a status or error body, not application data
    case 'setup':
    case 'upgrade':
      return new KindSink(tally, 'setup');
    case 'other':
      return new KindSink(tally, 'payload');
  }
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

/** 'websocket' is HTTP whose first exchange is the upgrade; both are parsed alike. */
export type WireProtocol = 'http' | 'websocket' | 'tcp';

/** Classifies every byte of one TCP connection (both directions) into `sink`, which it mutates. */
export class ConnectionAccountant {
  /** Bytes seen per direction (always equal to the sink totals contributed by this accountant). */
  readonly seen: { up: number; down: number } = { up: 0, down: 0 };
  private readonly tallies: Record<Direction, Tally>;
  private readonly parsers: Record<Direction, StreamParser>;

  constructor(protocol: WireProtocol, sink: WireBytes) {
    this.tallies = { up: new Tally(sink.up), down: new Tally(sink.down) };
    this.parsers = protocol === 'tcp' ? this.tcpParsers() : this.httpParsers();
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
