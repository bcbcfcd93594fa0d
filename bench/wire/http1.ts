/**
 * HTTP/1.1 messages of one direction of a connection, parsed incrementally: heads (start line,
 * field lines, blank line) and bodies framed by Content-Length, chunked encoding or the
 * connection's end. A chunk may end anywhere, even inside a head or a chunk-size line.
 *
 * One parser serves two users: the byte accountant (wire.ts), which is told how many bytes each
 * part of a message took, and the driver's HTTP client (clients/http-connection.ts), which is
 * told the heads and the body bytes. Both get the same parse of the same bytes.
 *
 * The common case is made cheap: a head that arrives whole in one chunk is cut out with one
 * search and one latin1 string; its fields are looked up by name only when asked for.
 */

/** What a byte is for; `tls` is what TLS's record layer adds (wire.ts, wire/tls.ts), never a byte of HTTP. */
export type ByteKind = 'payload' | 'headers' | 'framing' | 'setup' | 'tls';

/** Where the parser reports how many bytes it took as what (the accountant's tally, or nothing). */
export interface ByteCounter {
  add(kind: ByteKind, bytes: number): void;
  /** Reclassifies bytes already counted as `from`. */
  move(from: ByteKind, to: ByteKind, bytes: number): void;
  /** A message's head (HTTP/1.1) or header block (HTTP/2) is complete: `bytes` of it, counted as `kind`. */
  head?(kind: ByteKind, bytes: number): void;
}

/** A counter for a parser whose bytes someone else counts. */
export const NO_COUNTER: ByteCounter = { add() {}, move() {} };

const LF = 0x0a;
const CR = 0x0d;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** A message head: its start line and its field lines, as latin1 text (HTTP heads are octets). */
export class HttpHead {
  constructor(
    readonly startLine: string,
    /** The field lines, each without its line end. */
    private readonly fieldLines: readonly string[],
  ) {}

  /** The value of field `name` (any case); repeated fields joined with ", "; undefined when absent. */
  header(name: string): string | undefined {
    let value: string | undefined;
    for (const line of this.fieldLines) {
      if (line.length <= name.length || line.charCodeAt(name.length) !== 0x3a /* : */) continue;
      if (line.slice(0, name.length).toLowerCase() !== name) continue;
      const field = line.slice(name.length + 1).trim();
      value = value === undefined ? field : `${value}, ${field}`;
    }
    return value;
  }

  /** The status code of a response head (NaN for a request). */
  get status(): number {
    const space = this.startLine.indexOf(' ');
    return space === -1 ? Number.NaN : Number(this.startLine.slice(space + 1, space + 4));
  }

  /** The method and the request target of a request head. */
  get request(): { method: string; target: string } {
    const space = this.startLine.indexOf(' ');
    const targetEnd = this.startLine.indexOf(' ', space + 1);
    return {
      method: space === -1 ? this.startLine : this.startLine.slice(0, space),
      target: space === -1 ? '' : this.startLine.slice(space + 1, targetEnd === -1 ? undefined : targetEnd),
    };
  }
}

/** A head from its lines (the first is the start line); `name: value` lines of any shape are kept as they are. */
function headOf(lines: string[]): HttpHead {
  return new HttpHead(lines[0] ?? '', lines.slice(1));
}

/** Collects one line across chunks; its text has no CR/LF. */
class LineReader {
  private parts: Buffer[] = [];

  /** Whether part of a line is held, waiting for its LF. */
  get holding(): boolean {
    return this.parts.length > 0;
  }

  /** Takes bytes up to and including the next LF; the line once that LF arrived. */
  read(chunk: Buffer, offset: number): { next: number; line: string | undefined } {
    const lf = chunk.indexOf(LF, offset);
    const next = lf === -1 ? chunk.length : lf + 1;
    if (lf === -1) {
      // A copy: a written buffer may be reused before the line ends.
      this.parts.push(Buffer.from(chunk.subarray(offset, next)));
      return { next, line: undefined };
    }
    let text: string;
    if (this.parts.length === 0) {
      text = chunk.toString('latin1', offset, lf);
    } else {
      this.parts.push(chunk.subarray(offset, lf));
      text = Buffer.concat(this.parts).toString('latin1');
      this.parts = [];
    }
    return { next, line: text.endsWith('\r') ? text.slice(0, -1) : text };
  }
}

/** Reads a message head across chunks. */
class HeadReader {
  private readonly line = new LineReader();
  private lines: string[] = [];

  /** Returns where it stopped and, once the blank line arrived, the head. */
  read(chunk: Buffer, offset: number): { next: number; head: HttpHead | undefined } {
    if (this.lines.length === 0 && !this.line.holding) {
      const whole = this.readWhole(chunk, offset);
      if (whole !== undefined) return whole;
    }
    let next = offset;
    while (next < chunk.length) {
      const { next: lineEnd, line } = this.line.read(chunk, next);
      next = lineEnd;
      if (line === undefined) break;
      if (line !== '') {
        this.lines.push(line);
      } else if (this.lines.length > 0) {
        const head = headOf(this.lines);
        this.lines = [];
        return { next, head };
      } // else: an empty line before a start line, which RFC 9112 §2.2 says to ignore
    }
    return { next, head: undefined };
  }

  /**
   * A head that begins at `offset` and ends in this chunk with CRLF CRLF, with CRLF line ends
   * throughout and no blank line before its end: one search, one string. Anything else (a bare
   * LF, a head split across chunks, a leading blank line) takes the line-by-line way.
   */
  private readWhole(chunk: Buffer, offset: number): { next: number; head: HttpHead } | undefined {
    const end = chunk.indexOf(HEAD_END, offset);
    if (end === -1 || chunk[offset] === CR || chunk[offset] === LF) return undefined;
    const text = chunk.toString('latin1', offset, end);
    const lines = text.split('\r\n');
    for (const line of lines) if (line.length === 0 || line.includes('\n') || line.includes('\r')) return undefined;
    return { next: end + HEAD_END.length, head: headOf(lines) };
  }
}

/** Receives a body's content (chunked encoding already taken off). */
export interface BodySink {
  content(bytes: Buffer): void;
  /** The body is complete. */
  end?(): void;
}

interface BodyReader {
  readonly done: boolean;
  consume(chunk: Buffer, offset: number): number;
}

/** A body of known length (0: none; Infinity: until the connection closes). */
class LengthBody implements BodyReader {
  constructor(
    private leftBytes: number,
    private readonly sink: BodySink,
  ) {}

  get done(): boolean {
    return this.leftBytes === 0;
  }

  consume(chunk: Buffer, offset: number): number {
    const end = offset + Math.min(this.leftBytes, chunk.length - offset);
    this.sink.content(chunk.subarray(offset, end));
    this.leftBytes -= end - offset;
    return end;
  }
}

type ChunkedState = 'size-line' | 'data' | 'data-crlf' | 'trailer' | 'done';

/** A chunked body: size lines, CRLFs, the last chunk and trailers are `framingKind`; chunk data goes to the sink. */
class ChunkedBody implements BodyReader {
  private state: ChunkedState = 'size-line';
  private dataLeftBytes = 0;
  private readonly line = new LineReader();

  constructor(
    private readonly counter: ByteCounter,
    private readonly framingKind: ByteKind,
    private readonly sink: BodySink,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  consume(chunk: Buffer, offset: number): number {
    if (this.state === 'data') return this.readData(chunk, offset);
    const { next, line } = this.line.read(chunk, offset);
    this.counter.add(this.framingKind, next - offset);
    if (line !== undefined) this.endLine(line);
    return next;
  }

  private readData(chunk: Buffer, offset: number): number {
    const end = offset + Math.min(this.dataLeftBytes, chunk.length - offset);
    this.sink.content(chunk.subarray(offset, end));
    this.dataLeftBytes -= end - offset;
    if (this.dataLeftBytes === 0) this.state = 'data-crlf';
    return end;
  }

  private endLine(line: string): void {
    switch (this.state) {
      case 'size-line': {
        const sizeBytes = Number.parseInt(line, 16); // stops at a chunk extension (";...")
        this.dataLeftBytes = Number.isNaN(sizeBytes) ? 0 : sizeBytes;
        this.state = this.dataLeftBytes > 0 ? 'data' : 'trailer';
        return;
      }
      case 'data-crlf':
        this.state = 'size-line';
        return;
      case 'trailer':
        if (line === '') this.state = 'done';
        return;
    }
  }
}

export type BodyLength = number | 'chunked';

/** How a message's head frames its body: chunked, Content-Length, or undefined (neither). */
export function framedBodyLength(head: HttpHead): BodyLength | undefined {
  const codings = head.header('transfer-encoding');
  if (codings !== undefined) return /(?:^|,)\s*chunked\s*$/i.test(codings) ? 'chunked' : undefined;
  const length = head.header('content-length');
  return length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
}

/** Whether a response to a request of `method` with this status has no body, whatever its head says. */
export function bodilessResponse(method: string, status: number): boolean {
  return method === 'HEAD' || status < 200 || status === 204 || status === 304;
}

/** What one side decides once a head is complete. */
export interface MessagePlan {
  /** The kind the head's bytes are (they count as headers until the head is complete). */
  headKind: ByteKind;
  bodyLength: BodyLength;
  /** The kind of chunked encoding's own bytes. */
  chunkFramingKind: ByteKind;
  sink: BodySink;
}

/** The request or the response side of the HTTP exchanges of a connection. */
export interface HttpSide {
  onHead(head: HttpHead): MessagePlan;
  onMessageEnd(): void;
}

/** HTTP/1.1 messages of one direction, one after the other (keep-alive). */
export class HttpMessageParser {
  private readonly headReader = new HeadReader();
  private headBytes = 0;
  private body: BodyReader | undefined;
  private sink: BodySink | undefined;

  constructor(
    private readonly counter: ByteCounter,
    private readonly side: HttpSide,
  ) {}

  /** Parses bytes of `chunk` from `offset` on; returns where it stopped (after at least one byte). */
  consume(chunk: Buffer, offset: number): number {
    return this.body === undefined ? this.readHead(chunk, offset) : this.readBody(this.body, chunk, offset);
  }

  /** Parses all of `chunk`, unless the side stops it (see `stopped`). */
  feed(chunk: Buffer, stopped: () => boolean = () => false): number {
    let offset = 0;
    while (offset < chunk.length && !stopped()) offset = this.consume(chunk, offset);
    return offset;
  }

  private readHead(chunk: Buffer, offset: number): number {
    const { next, head } = this.headReader.read(chunk, offset);
    // Headers until the head is complete and tells what the exchange is for.
    this.counter.add('headers', next - offset);
    this.headBytes += next - offset;
    if (head !== undefined) this.startBody(head);
    return next;
  }

  private startBody(head: HttpHead): void {
    const plan = this.side.onHead(head);
    if (plan.headKind !== 'headers') this.counter.move('headers', plan.headKind, this.headBytes);
    this.counter.head?.(plan.headKind, this.headBytes);
    this.headBytes = 0;
    this.sink = plan.sink;
    this.body = plan.bodyLength === 'chunked' ? new ChunkedBody(this.counter, plan.chunkFramingKind, plan.sink) : new LengthBody(plan.bodyLength, plan.sink);
    this.endMessageIfDone(this.body);
  }

  private readBody(body: BodyReader, chunk: Buffer, offset: number): number {
    const next = body.consume(chunk, offset);
    this.endMessageIfDone(body);
    return next;
  }

  private endMessageIfDone(body: BodyReader): void {
    if (!body.done) return;
    this.sink?.end?.();
    this.body = undefined;
    this.sink = undefined;
    this.side.onMessageEnd();
  }
}
