/**
 * HTTP/2 (RFC 9113) of one connection, both directions, parsed incrementally for the byte
 * accountant (wire.ts): a chunk may end anywhere, even inside a frame header.
 *
 * - The client's connection preface (24 bytes) is setup.
 * - Every frame's 9-byte header is framing, and so are the frames that are HTTP/2's own
 *   (SETTINGS, WINDOW_UPDATE, PING, RST_STREAM, GOAWAY, PRIORITY, and any unknown type), and
 *   the padding, pad length, priority and promised-stream fields of the others.
 * - A stream is an HTTP exchange, split by the rules HTTP/1.1 follows (http-exchange.ts): its
 *   header blocks (HEADERS, PUSH_PROMISE and their CONTINUATIONs) are its heads, of the kind
 *   its purpose gives them (headers for a message or a poll, setup for an event stream or a
 *   registration); its DATA goes to the same body sinks as an HTTP/1.1 body (a poll answer
 *   split into payload and framing, an event stream through the SSE parser), END_STREAM ending
 *   the body.
 *
 * A stream's purpose comes from its request's :method and :path, so every header block is
 * decoded (HPACK, with one dynamic table per direction): until a block is complete its bytes
 * count as headers, then they move to their kind.
 */
import type { BodySink, ByteCounter, ByteKind } from './http1.ts';
import { HEAD_KIND, pathOf, purposeOf, requestSink, responseSink, type Purpose } from './http-exchange.ts';
import { HpackDecoder, type HeaderField } from './hpack.ts';

type Direction = 'up' | 'down';

/** The client's connection preface (RFC 9113 §3.4). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const HTTP2_FRAME_HEADER_BYTES = 9;

export const HTTP2_FRAME = {
  data: 0x0,
  headers: 0x1,
  priority: 0x2,
  rstStream: 0x3,
  settings: 0x4,
  pushPromise: 0x5,
  ping: 0x6,
  goaway: 0x7,
  windowUpdate: 0x8,
  continuation: 0x9,
} as const;

export const HTTP2_FLAG = {
  endStream: 0x1,
  endHeaders: 0x4,
  padded: 0x8,
  priority: 0x20,
} as const;

const PRIORITY_FIELD_BYTES = 5;
const PROMISED_STREAM_BYTES = 4;
const STREAM_ID_MASK = 0x7fff_ffff;

/** One stream: the exchange it is, and where each direction's body goes. */
interface Http2Stream {
  purpose: Purpose;
  /** The response's final status (0 until it came). */
  status: number;
  sinks: Record<Direction, BodySink | undefined>;
  ended: Record<Direction, boolean>;
}

/** What both directions of a connection share: its streams, by id. */
export class Http2Connection {
  private readonly streams = new Map<number, Http2Stream>();

  /** The parser of one direction, counting into `counter`. */
  parser(direction: Direction, counter: ByteCounter): Http2FrameParser {
    return new Http2FrameParser(direction, counter, this);
  }

  /** Streams still open (for tests: a connection's streams are forgotten once ended both ways). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** The stream, made as an exchange of no known purpose if it is new (a frame on a stream never opened). */
  stream(id: number): Http2Stream {
    let stream = this.streams.get(id);
    if (stream === undefined) {
      stream = { purpose: 'other', status: 0, sinks: { up: undefined, down: undefined }, ended: { up: false, down: false } };
      this.streams.set(id, stream);
    }
    return stream;
  }

  /** A request's header block: it tells the stream's purpose. */
  requestHead(id: number, fields: readonly HeaderField[] | undefined, counter: ByteCounter, pushed: boolean): ByteKind {
    const stream = this.stream(id);
    if (fields !== undefined && stream.sinks.up === undefined) {
      const method = fieldValue(fields, ':method') ?? '';
      stream.purpose = purposeOf(method, pathOf(fieldValue(fields, ':path') ?? ''), undefined);
    }
    if (pushed) stream.ended.up = true; // a pushed stream has no request body
    stream.sinks.up ??= requestSink(counter, stream.purpose);
    return HEAD_KIND[stream.purpose];
  }

  /** A response's header block: a final status opens the body's sink. */
  responseHead(id: number, fields: readonly HeaderField[] | undefined, counter: ByteCounter): ByteKind {
    const stream = this.stream(id);
    const status = Number(fieldValue(fields ?? [], ':status') ?? Number.NaN);
    if (stream.sinks.down === undefined && !(status < 200)) {
      stream.status = Number.isNaN(status) ? 0 : status;
      stream.sinks.down = responseSink(counter, stream.purpose, stream.status);
    } // else an informational response (1xx), or trailers
    return HEAD_KIND[stream.purpose];
  }

  /** Where a DATA frame's content goes (a body that came before any head goes where an unknown exchange's would). */
  sink(direction: Direction, id: number, counter: ByteCounter): BodySink {
    const stream = this.stream(id);
    const existing = stream.sinks[direction];
    if (existing !== undefined) return existing;
    const sink = direction === 'up' ? requestSink(counter, stream.purpose) : responseSink(counter, stream.purpose, stream.status);
    stream.sinks[direction] = sink;
    return sink;
  }

  /** END_STREAM: the body is complete; a stream ended both ways is forgotten. */
  endStream(direction: Direction, id: number): void {
    const stream = this.streams.get(id);
    if (stream === undefined) return;
    stream.sinks[direction]?.end?.();
    stream.ended[direction] = true;
    if (stream.ended.up && stream.ended.down) this.streams.delete(id);
  }

  /** RST_STREAM: the stream is gone, its bodies unfinished (a poll answer cut short is no poll answer). */
  resetStream(id: number): void {
    this.streams.delete(id);
  }
}

function fieldValue(fields: readonly HeaderField[], name: string): string | undefined {
  for (const [fieldName, value] of fields) if (fieldName === name) return value;
  return undefined;
}

type FrameState = 'preface' | 'header' | 'pad-length' | 'fields' | 'content' | 'padding' | 'opaque';

/** The frames of one direction. */
export class Http2FrameParser {
  private state: FrameState;
  private prefaceLeftBytes: number;
  /** A frame header split across chunks is gathered here. */
  private readonly header = Buffer.alloc(HTTP2_FRAME_HEADER_BYTES);
  private headerHaveBytes = 0;
  private frameType = 0;
  private flags = 0;
  private streamId = 0;
  /** Bytes of the current part of the frame's payload still to come. */
  private leftBytes = 0;
  /** Bytes of the content still to come after the current part (the fields), and of padding after that. */
  private contentBytes = 0;
  private padBytes = 0;
  /** The promised stream id of a PUSH_PROMISE, gathered across chunks. */
  private promisedId = 0;
  /** The header block being gathered (HEADERS or PUSH_PROMISE, then CONTINUATIONs). */
  private blockParts: Buffer[] = [];
  private blockBytes = 0;
  private blockStreamId = 0;
  private blockEndsStream = false;
  private blockPushed = false;
  private readonly decoder = new HpackDecoder();
  /** Set when a block would not decode: the dynamic table is lost, and no later block can be read either. */
  private decoderLost = false;

  constructor(
    private readonly direction: Direction,
    private readonly counter: ByteCounter,
    private readonly connection: Http2Connection,
  ) {
    this.prefaceLeftBytes = direction === 'up' ? HTTP2_PREFACE.length : 0;
    this.state = this.prefaceLeftBytes > 0 ? 'preface' : 'header';
  }

  /** Classifies bytes of `chunk` from `offset` on; returns where it stopped (after at least one byte). */
  consume(chunk: Buffer, offset: number): number {
    switch (this.state) {
      case 'preface':
        return this.readPreface(chunk, offset);
      case 'header':
        return this.readHeader(chunk, offset);
      case 'pad-length':
        return this.readPadLength(chunk, offset);
      case 'fields':
        return this.readFields(chunk, offset);
      case 'content':
        return this.readContent(chunk, offset);
      case 'padding':
      case 'opaque':
        return this.readFraming(chunk, offset);
    }
  }

  private readPreface(chunk: Buffer, offset: number): number {
    const takenBytes = Math.min(this.prefaceLeftBytes, chunk.length - offset);
    this.counter.add('setup', takenBytes);
    this.prefaceLeftBytes -= takenBytes;
    if (this.prefaceLeftBytes === 0) this.state = 'header';
    return offset + takenBytes;
  }

  private readHeader(chunk: Buffer, offset: number): number {
    const available = chunk.length - offset;
    if (this.headerHaveBytes === 0 && available >= HTTP2_FRAME_HEADER_BYTES) {
      this.counter.add('framing', HTTP2_FRAME_HEADER_BYTES);
      this.startFrame(chunk, offset);
      return offset + HTTP2_FRAME_HEADER_BYTES;
    }
    const takenBytes = Math.min(HTTP2_FRAME_HEADER_BYTES - this.headerHaveBytes, available);
    chunk.copy(this.header, this.headerHaveBytes, offset, offset + takenBytes);
    this.headerHaveBytes += takenBytes;
    this.counter.add('framing', takenBytes);
    if (this.headerHaveBytes === HTTP2_FRAME_HEADER_BYTES) {
      this.headerHaveBytes = 0;
      this.startFrame(this.header, 0);
    }
    return offset + takenBytes;
  }

  /** A frame header (at `at` in `bytes`) is complete: what its payload holds, part by part. */
  private startFrame(bytes: Buffer, at: number): void {
    const length = bytes.readUIntBE(at, 3);
    this.frameType = bytes[at + 3]!;
    this.flags = bytes[at + 4]!;
    this.streamId = bytes.readUInt32BE(at + 5) & STREAM_ID_MASK;
    this.padBytes = 0;
    const type = this.frameType;
    const carriesContent = type === HTTP2_FRAME.data || type === HTTP2_FRAME.headers || type === HTTP2_FRAME.pushPromise || type === HTTP2_FRAME.continuation;
    if (!carriesContent) {
      this.leftBytes = length;
      this.state = 'opaque';
      if (length === 0) this.endFrame();
      return;
    }
    const padded = type !== HTTP2_FRAME.continuation && (this.flags & HTTP2_FLAG.padded) !== 0;
    const fieldBytes =
      (type === HTTP2_FRAME.headers && (this.flags & HTTP2_FLAG.priority) !== 0 ? PRIORITY_FIELD_BYTES : 0) +
      (type === HTTP2_FRAME.pushPromise ? PROMISED_STREAM_BYTES : 0);
    if (type === HTTP2_FRAME.headers || type === HTTP2_FRAME.pushPromise) this.startBlock();
    // A frame too short for its own fields is a protocol error (the connection ends): its bytes are framing.
    this.contentBytes = Math.max(0, length - (padded ? 1 : 0) - fieldBytes);
    this.leftBytes = Math.min(fieldBytes, Math.max(0, length - (padded ? 1 : 0)));
    if (padded && length > 0) this.state = 'pad-length';
    else this.afterPadLength();
  }

  private readPadLength(chunk: Buffer, offset: number): number {
    this.counter.add('framing', 1);
    // Padding longer than what is left is a protocol error: what is left is then padding.
    this.padBytes = Math.min(chunk[offset]!, this.contentBytes);
    this.contentBytes -= this.padBytes;
    this.afterPadLength();
    return offset + 1;
  }

  private afterPadLength(): void {
    if (this.leftBytes > 0) {
      this.state = 'fields';
    } else {
      this.startContent();
    }
  }

  /** The priority fields of a HEADERS frame, or the promised stream id of a PUSH_PROMISE. */
  private readFields(chunk: Buffer, offset: number): number {
    const takenBytes = Math.min(this.leftBytes, chunk.length - offset);
    this.counter.add('framing', takenBytes);
    if (this.frameType === HTTP2_FRAME.pushPromise) {
      for (let index = offset; index < offset + takenBytes; index += 1) this.promisedId = ((this.promisedId << 8) | chunk[index]!) >>> 0;
    }
    this.leftBytes -= takenBytes;
    if (this.leftBytes === 0) this.startContent();
    return offset + takenBytes;
  }

  private startContent(): void {
    if (this.frameType === HTTP2_FRAME.pushPromise) {
      this.blockStreamId = this.promisedId & STREAM_ID_MASK;
      this.blockPushed = true;
    }
    this.leftBytes = this.contentBytes;
    this.state = 'content';
    if (this.leftBytes === 0) this.startPadding();
  }

  private readContent(chunk: Buffer, offset: number): number {
    const end = offset + Math.min(this.leftBytes, chunk.length - offset);
    const content = chunk.subarray(offset, end);
    if (this.frameType === HTTP2_FRAME.data) {
      this.connection.sink(this.direction, this.streamId, this.counter).content(content);
    } else {
      this.counter.add('headers', content.length); // until the block is complete and tells its kind
      this.blockParts.push(Buffer.from(content)); // a copy: a written buffer may be reused before the block ends
      this.blockBytes += content.length;
    }
    this.leftBytes -= content.length;
    if (this.leftBytes === 0) this.startPadding();
    return end;
  }

  private startPadding(): void {
    this.leftBytes = this.padBytes;
    this.state = 'padding';
    if (this.leftBytes === 0) this.endFrame();
  }

  private readFraming(chunk: Buffer, offset: number): number {
    const takenBytes = Math.min(this.leftBytes, chunk.length - offset);
    this.counter.add('framing', takenBytes);
    this.leftBytes -= takenBytes;
    if (this.leftBytes === 0) this.endFrame();
    return offset + takenBytes;
  }

  private endFrame(): void {
    this.state = 'header';
    const endsStream = (this.flags & HTTP2_FLAG.endStream) !== 0;
    switch (this.frameType) {
      case HTTP2_FRAME.data:
        if (endsStream) this.connection.endStream(this.direction, this.streamId);
        return;
      case HTTP2_FRAME.headers:
        this.blockEndsStream = endsStream;
        if ((this.flags & HTTP2_FLAG.endHeaders) !== 0) this.endBlock();
        return;
      case HTTP2_FRAME.pushPromise:
      case HTTP2_FRAME.continuation:
        if ((this.flags & HTTP2_FLAG.endHeaders) !== 0) this.endBlock();
        return;
      case HTTP2_FRAME.rstStream:
        this.connection.resetStream(this.streamId);
        return;
    }
  }

  private startBlock(): void {
    this.blockParts = [];
    this.blockBytes = 0;
    this.blockStreamId = this.streamId;
    this.blockEndsStream = false;
    this.blockPushed = false;
    this.promisedId = 0;
  }

  /** A header block is complete: decoded, it tells the stream's purpose and its bytes' kind. */
  private endBlock(): void {
    const fields = this.decodeBlock();
    const id = this.blockStreamId;
    const request = this.direction === 'up' || this.blockPushed;
    const kind = request ? this.connection.requestHead(id, fields, this.counter, this.blockPushed) : this.connection.responseHead(id, fields, this.counter);
    if (kind !== 'headers') this.counter.move('headers', kind, this.blockBytes);
    this.counter.head?.(kind, this.blockBytes);
    if (this.blockEndsStream) this.connection.endStream(this.direction, id);
    this.blockParts = [];
    this.blockBytes = 0;
  }

  private decodeBlock(): HeaderField[] | undefined {
    if (this.decoderLost) return undefined;
    try {
      return this.decoder.decode(this.blockParts.length === 1 ? this.blockParts[0]! : Buffer.concat(this.blockParts, this.blockBytes));
    } catch {
      this.decoderLost = true; // the peer fails the connection (COMPRESSION_ERROR): nothing more is read
      return undefined;
    }
  }
}
