/**
 * What an HTTP exchange is for, and what each part of it is: the rules HTTP/1.1 (wire.ts with
 * http1.ts) and HTTP/2 (http2.ts) share, so that the same request costs the same kinds of bytes
 * over either.
 *
 * An exchange's purpose comes from its request's method and path (ROUTES in
 * servers/contract.ts): a message, a poll, an event stream, the client's setup (registering,
 * asking for a push), a WebSocket upgrade, or something else. The purpose tells the kind of the
 * heads and of the request body; the purpose and the status tell how a response body splits.
 */
import { ROUTES } from '../../servers/contract.ts';
import type { BodySink, ByteCounter, ByteKind } from './http1.ts';

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;

/** A body whose every byte is of one kind. */
export class KindSink implements BodySink {
  constructor(
    private readonly counter: ByteCounter,
    private readonly kind: ByteKind,
  ) {}

  content(bytes: Buffer): void {
    this.counter.add(this.kind, bytes.length);
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

  constructor(private readonly counter: ByteCounter) {}

  content(bytes: Buffer): void {
    this.counter.add('headers', bytes.length);
    this.parts.push(Buffer.from(bytes));
    this.bodyBytes += bytes.length;
  }

  end(): void {
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bodyBytes);
    const payloadBytes = pollPayloadBytes(body);
    if (payloadBytes === undefined) return;
    this.counter.move('headers', 'framing', this.bodyBytes - payloadBytes);
    this.counter.move('headers', 'payload', payloadBytes);
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

  constructor(private readonly counter: ByteCounter) {}

  content(bytes: Buffer): void {
    this.counter.add('framing', bytes.length);
    this.counter.move('framing', 'payload', this.events.push(bytes));
  }
}

/** What an exchange is for, from its request's method and path (and Upgrade header). */
export type Purpose = 'message' | 'poll' | 'stream' | 'setup' | 'upgrade' | 'other';

const SETUP_ROUTES: ReadonlySet<string> = new Set([
  `POST ${ROUTES.clients}`,
  `DELETE ${ROUTES.clients}`,
  `POST ${ROUTES.push}`,
  `POST ${ROUTES.broadcast}`,
  `GET ${ROUTES.stats}`,
]);

/** The kind of an exchange's request and response heads (HTTP/1.1) or header blocks (HTTP/2). */
export const HEAD_KIND: Readonly<Record<Purpose, ByteKind>> = {
  message: 'headers',
  poll: 'headers',
  stream: 'setup',
  setup: 'setup',
  upgrade: 'setup',
  other: 'headers',
};

/** Every byte of a setup exchange is setup, chunked encoding's included; elsewhere that is framing. */
export function chunkFramingKind(purpose: Purpose): ByteKind {
  return purpose === 'setup' || purpose === 'upgrade' ? 'setup' : 'framing';
}

const REQUEST_BODY_KIND: Readonly<Record<Purpose, ByteKind>> = {
  message: 'payload',
  poll: 'headers',
  stream: 'setup',
  setup: 'setup',
  upgrade: 'setup',
  other: 'payload',
};

/** The path of a request target, as the servers route it (query string ignored). */
export function pathOf(target: string): string {
  if (target.startsWith('/')) {
    const query = target.indexOf('?');
    return query === -1 ? target : target.slice(0, query);
  }
  const base = 'http://localhost'; // absolute-form, or no path at all
  return URL.canParse(target, base) ? new URL(target, base).pathname : target;
}

/** The purpose of a request of `method` to `path`; `upgrade` is its Upgrade header (HTTP/1.1 only). */
export function purposeOf(method: string, path: string, upgrade: string | undefined): Purpose {
  if (method === 'GET' && /\bwebsocket\b/i.test(upgrade ?? '')) return 'upgrade';
  const route = `${method} ${path}`;
  if (route === `POST ${ROUTES.messages}`) return 'message';
  if (route === `GET ${ROUTES.messages}`) return 'poll';
  if (route === `GET ${ROUTES.events}`) return 'stream';
  return SETUP_ROUTES.has(route) ? 'setup' : 'other';
}

/** Where the body of a request of this purpose goes. */
export function requestSink(counter: ByteCounter, purpose: Purpose): BodySink {
  return new KindSink(counter, REQUEST_BODY_KIND[purpose]);
}

/** Where the body of a response of this status to a request of this purpose goes. */
export function responseSink(counter: ByteCounter, purpose: Purpose, status: number): BodySink {
  switch (purpose) {
    case 'poll':
      return status === 200 ? new PollBodySink(counter) : new KindSink(counter, 'headers');
    case 'stream':
      return status === 200 ? new SseBodySink(counter) : new KindSink(counter, 'headers');
    case 'message':
      return new KindSink(counter, 'headers'); // a status or error body, not application data
    case 'setup':
    case 'upgrade':
      return new KindSink(counter, 'setup');
    case 'other':
      return new KindSink(counter, 'payload');
  }
}
