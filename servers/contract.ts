/**
 * The contract every transport server implements and every client relies on.
 *
 * - Echo: a client sends a text message m; the server answers that same client with
 *   exactly `"Received:  " + m` (two spaces, as in the textbook's Go echo server).
 * - Push: on request, the server streams `count` messages of `sizeBytes` bytes at
 *   `ratePerSecond` to the requesting client. Each message is a server event (below).
 * - Broadcast: one server event delivered to every connected (or registered) client.
 *
 * The same logical message has the same payload bytes on every transport: a transport may
 * add headers and framing around a message, never change it.
 */
import { performance } from 'node:perf_hooks';

export const TRANSPORTS = ['short-poll', 'long-poll', 'sse', 'websocket', 'tcp'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

export function isTransportName(value: string): value is TransportName {
  return (TRANSPORTS as readonly string[]).includes(value);
}

/** The textbook's echo: `"Received:  " + m`, with two spaces. */
export const ECHO_PREFIX = 'Received:  ';

export function echoReply(message: string): string {
  return ECHO_PREFIX + message;
}

/**
 * Wall-clock milliseconds (with sub-millisecond fraction) that another process on the same
 * host can compare with its own reading: `performance.timeOrigin + performance.now()`.
 */
export function clockNowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Server events: the envelope of every message the server originates (push and broadcast).
//
//   "<kind> <seq> <sentAtMs> <padding>"   e.g. "push 17 1764102011123.456 xxxxxxxx"
//
// kind is `push` or `broadcast`; seq counts from 1 (per client for push, per server for
// broadcast); sentAtMs is clockNowMs() when the server created the event, with three decimals.
// The padding of `x` brings the message to the requested size; a size smaller than the
// envelope without padding gives the bare envelope, so the real size is always reported by
// the byte counts, never assumed.
// ---------------------------------------------------------------------------------------------

export type ServerEventKind = 'push' | 'broadcast';

export interface ServerEvent {
  kind: ServerEventKind;
  seq: number;
  sentAtMs: number;
}

export function encodeServerEvent(event: ServerEvent, sizeBytes: number): string {
  const head = `${event.kind} ${event.seq} ${event.sentAtMs.toFixed(3)}`;
  const padding = sizeBytes - head.length - 1;
  return padding >= 0 ? `${head} ${'x'.repeat(padding)}` : head;
}

/** A message's character (or byte) at `index`: the envelopes are ASCII, so text and UTF-8 bytes read alike. */
function codeAt(message: string | Uint8Array, index: number): number {
  return typeof message === 'string' ? message.charCodeAt(index) : (message[index] ?? Number.NaN);
}

const SPACE_CODE = 0x20;
const DOT_CODE = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** Digits a sequence number or a time may have (2^53 has 16). */
const MAX_DIGITS = 16;

/** Whether `message` starts with `prefix` (ASCII). */
function startsWithAscii(message: string | Uint8Array, prefix: string): boolean {
  if (message.length < prefix.length) return false;
  for (let index = 0; index < prefix.length; index++) if (codeAt(message, index) !== prefix.charCodeAt(index)) return false;
  return true;
}

/**
 * Reads the digits from `start` (at least one, at most MAX_DIGITS); `end` is where they stop.
 * Returns undefined when there is no digit there.
 */
function readDigits(message: string | Uint8Array, start: number): { value: number; end: number } | undefined {
  let value = 0;
  let index = start;
  for (; index < message.length && index - start < MAX_DIGITS; index++) {
    const code = codeAt(message, index);
    if (code < DIGIT_0 || code > DIGIT_9) break;
    value = value * 10 + (code - DIGIT_0);
  }
  return index === start ? undefined : { value, end: index };
}

/** Whether `index` is the end of the envelope: the message's end, or the space before the padding. */
function envelopeEnds(message: string | Uint8Array, index: number): boolean {
  return index === message.length || codeAt(message, index) === SPACE_CODE;
}

/**
 * Parses a server event, as text or as its UTF-8 bytes (a driver reads only the envelope, never
 * decoding the padding); undefined for any other message (an echo reply, say).
 */
export function decodeServerEvent(message: string | Uint8Array): ServerEvent | undefined {
  const kind: ServerEventKind | undefined = startsWithAscii(message, 'push ') ? 'push' : startsWithAscii(message, 'broadcast ') ? 'broadcast' : undefined;
  if (kind === undefined) return undefined;
  const seq = readDigits(message, kind.length + 1);
  if (seq === undefined || codeAt(message, seq.end) !== SPACE_CODE) return undefined;
  const whole = readDigits(message, seq.end + 1);
  if (whole === undefined) return undefined;
  let end = whole.end;
  if (codeAt(message, end) === DOT_CODE) {
    const fraction = readDigits(message, end + 1);
    if (fraction === undefined) return undefined;
    end = fraction.end;
  }
  if (!envelopeEnds(message, end)) return undefined;
  // the time as Number() reads its decimal text: the same double the server's toFixed(3) meant
  const time =
    typeof message === 'string'
      ? message.slice(seq.end + 1, end)
      : Buffer.from(message.buffer, message.byteOffset + seq.end + 1, end - seq.end - 1).toString('latin1');
  return { kind, seq: seq.value, sentAtMs: Number(time) };
}

/** Whether a message (text or its UTF-8 bytes) is an echo reply: it starts with ECHO_PREFIX. */
export function isEchoReply(message: string | Uint8Array): boolean {
  return startsWithAscii(message, ECHO_PREFIX);
}

// ---------------------------------------------------------------------------------------------
// Echo messages as the driver writes them: "<seq> <padding>" of the requested size, so that a
// reply from any echo server that quotes the message can be matched to its request.
// ---------------------------------------------------------------------------------------------

/** The padding of the last size asked for: a driver sends many messages of one size. */
let paddingCache = { sizeBytes: -1, padding: '' };

export function encodeEchoMessage(seq: number, sizeBytes: number): string {
  const head = String(seq);
  if (paddingCache.sizeBytes !== sizeBytes) paddingCache = { sizeBytes, padding: 'x'.repeat(Math.max(0, sizeBytes)) };
  const padding = sizeBytes - head.length - 1;
  return padding >= 0 ? `${head} ${paddingCache.padding.slice(0, padding)}` : head;
}

/**
 * The same messages as encodeEchoMessage, as bytes, written into one buffer it keeps: each
 * encode() rewrites the sequence number in place, so a driver sends thousands of messages a
 * second with nothing to allocate or encode. The buffer is valid until the next encode().
 */
export class EchoEncoder {
  private readonly bytes: Buffer;
  /** Length of the last head written ("<seq> "), to restore the padding a longer one covered. */
  private headBytes = 0;

  constructor(readonly sizeBytes: number) {
    this.bytes = Buffer.alloc(sizeBytes, 'x');
  }

  encode(seq: number): Buffer {
    const head = String(seq);
    if (head.length + 1 > this.sizeBytes) return Buffer.from(head, 'latin1');
    for (let index = 0; index < head.length; index++) this.bytes[index] = head.charCodeAt(index);
    this.bytes[head.length] = SPACE_CODE;
    for (let index = head.length + 1; index < this.headBytes; index++) this.bytes[index] = X_CODE;
    this.headBytes = head.length + 1;
    return this.bytes;
  }
}

const X_CODE = 0x78;

/** The sequence number of an echo message quoted anywhere in a reply (text or its UTF-8 bytes), or undefined. */
export function decodeEchoSeq(reply: string | Uint8Array): number | undefined {
  const start = startsWithAscii(reply, ECHO_PREFIX) ? ECHO_PREFIX.length : 0;
  const seq = readDigits(reply, start);
  return seq !== undefined && envelopeEnds(reply, seq.end) ? seq.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Control requests, the same JSON on every transport.
// ---------------------------------------------------------------------------------------------

export interface PushRequest {
  /** Messages per second to this client. */
  ratePerSecond: number;
  /** Size of each message in bytes (see encodeServerEvent). */
  sizeBytes: number;
  /** How many messages in all. */
  count: number;
  /**
   * The sequence number of the first message (default: the client's next). A client that comes
   * back after losing the server asks to go on from where the stream would be, so the messages of
   * the gap stay missing and are counted lost.
   */
  firstSeq?: number;
}

export interface BroadcastRequest {
  sizeBytes: number;
}

export type ControlRequest = ({ op: 'push' } & PushRequest) | ({ op: 'broadcast' } & BroadcastRequest);

export class ContractError extends Error {
  constructor(
    readonly code:
      | 'bad-request'
      | 'too-large'
      | 'unknown-client'
      | 'mailbox-full'
      | 'not-found'
      | 'method-not-allowed'
      | 'too-many-clients'
      | 'too-many-pushes'
      | 'origin-not-allowed',
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

function requireInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ContractError('bad-request', `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function requireRate(value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new ContractError('bad-request', `ratePerSecond must be a number above 0 and at most ${max}`);
  }
  return value;
}

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ContractError('bad-request', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContractError('bad-request', 'the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function parsePushRequest(body: Record<string, unknown>, limits: ServerLimits): PushRequest {
  return {
    ratePerSecond: requireRate(body.ratePerSecond, limits.maxPushRatePerSecond),
    sizeBytes: requireInteger(body.sizeBytes, 'sizeBytes', 0, limits.maxMessageBytes),
    count: requireInteger(body.count, 'count', 1, limits.maxPushCount),
    ...(body.firstSeq === undefined ? {} : { firstSeq: requireInteger(body.firstSeq, 'firstSeq', 1, Number.MAX_SAFE_INTEGER) }),
  };
}

export function parseBroadcastRequest(body: Record<string, unknown>, limits: ServerLimits): BroadcastRequest {
  return { sizeBytes: requireInteger(body.sizeBytes, 'sizeBytes', 0, limits.maxMessageBytes) };
}

/** Parses a control request of any kind: `{"op":"push",...}` or `{"op":"broadcast",...}`. */
export function parseControlRequest(text: string, limits: ServerLimits): ControlRequest {
  const body = parseJsonObject(text);
  if (body.op === 'push') return { op: 'push', ...parsePushRequest(body, limits) };
  if (body.op === 'broadcast') return { op: 'broadcast', ...parseBroadcastRequest(body, limits) };
  throw new ContractError('bad-request', 'op must be "push" or "broadcast"');
}

export { parseJsonObject };

// ---------------------------------------------------------------------------------------------
// Routes of the HTTP transports (short-poll, long-poll, sse); the websocket server serves
// ROUTES.websocket and ROUTES.stats on its HTTP listener.
// ---------------------------------------------------------------------------------------------

export const ROUTES = {
  /** POST: register a client; answers 201 {"clientId": "..."}. */
  clients: '/clients',
  /** POST ?client=ID with the message as body: echo. GET ?client=ID&after=N: poll (short/long). */
  messages: '/messages',
  /** GET ?client=ID (Last-Event-ID header to resume): the SSE stream. */
  events: '/events',
  /** POST ?client=ID with a PushRequest as JSON body. */
  push: '/push',
  /** POST with a BroadcastRequest as JSON body. */
  broadcast: '/broadcast',
  /** GET: the server's counters as JSON. */
  stats: '/stats',
  /** GET with Upgrade: websocket. */
  websocket: '/ws',
} as const;

/** Where the websocket server accepts an upgrade: ROUTES.websocket, and / (the textbook's page opens ws://host:port). */
export const WEBSOCKET_PATHS: readonly string[] = [ROUTES.websocket, '/'];

/** One delivered message of a poll response or an SSE stream. */
export interface MailboxMessage {
  /** Per-client, increasing from 1; a poll acknowledges with `after=<id>`, SSE with Last-Event-ID. */
  id: number;
  data: string;
}

/** A poll response body: `{"messages":[{"id":1,"data":"Received:  hi"}]}`. */
export interface PollResponse {
  messages: MailboxMessage[];
}

// ---------------------------------------------------------------------------------------------
// Limits: every queue and every input is bounded.
// ---------------------------------------------------------------------------------------------

export interface ServerLimits {
  /** Largest message a client may send, in UTF-8 bytes (413 / WebSocket close 1009 above). */
  maxMessageBytes: number;
  /** Messages one client's mailbox holds before a new one is refused (HTTP 429). */
  mailboxCapacity: number;
  /** Bytes one client's mailbox holds before a new message is refused (HTTP 429). */
  mailboxCapacityBytes: number;
  /** How long a long poll is held with nothing to deliver before it answers empty. */
  longPollTimeoutMs: number;
  /** A polling/SSE client not heard from for this long is forgotten. */
  clientTtlMs: number;
  /** Registered clients (HTTP transports) or open connections (websocket, tcp) at most. */
  maxClients: number;
  maxPushRatePerSecond: number;
  maxPushCount: number;
  /** HTTP keep-alive: an idle connection is closed after this long (browsers keep theirs about a minute). */
  keepAliveTimeoutMs: number;
  /** SSE: a comment line is sent after this long without an event, so proxies keep the stream open (0: never). */
  sseHeartbeatMs: number;
  /**
   * A WebSocket/TCP client whose unsent output exceeds this is sent nothing more until it drains;
   * what is skipped is counted. An SSE stream over it is ended (its messages stay in the mailbox).
   */
  maxBufferedBytes: number;
  /** HTTP request line and headers, in bytes, at most (431 above). */
  maxHeaderBytes: number;
  /** An HTTP request's headers must arrive within this long of its first byte (408 after). */
  headersTimeoutMs: number;
  /** TCP: a frame must arrive whole within this long of its first byte, or the connection is dropped. An idle connection is never dropped. */
  frameTimeoutMs: number;
  /** Open TCP connections to a server's listener at most; one more is closed at once (all five transports). */
  maxConnections: number;
  /** Push streams running for one client at once (429, WebSocket close 1008, TCP error frame above). */
  maxPushStreams: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxMessageBytes: 64 * 1024,
  mailboxCapacity: 10_000,
  mailboxCapacityBytes: 4 * 1024 * 1024,
  longPollTimeoutMs: 30_000,
  clientTtlMs: 120_000,
  maxClients: 200_000,
  maxPushRatePerSecond: 100_000,
  maxPushCount: 100_000_000,
  keepAliveTimeoutMs: 65_000,
  sseHeartbeatMs: 15_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024, // Node's own default
  headersTimeoutMs: 10_000,
  frameTimeoutMs: 10_000,
  maxConnections: 250_000,
  maxPushStreams: 16,
};

// ---------------------------------------------------------------------------------------------
// Counters every server keeps, readable as GET /stats or over IPC.
// ---------------------------------------------------------------------------------------------

/**
 * Causes of refusals and failures a server counts. Beyond the ContractError codes:
 * `internal` (a bug), `socket` (a connection error), `dropped-slow-consumer` (a message not
 * sent because the client's buffered output was over the limit), `closed-slow-consumer` (a
 * connection or stream ended because its buffered output was over the limit), `resume-gap` (a
 * client resumed from a point older than what its mailbox still held: see Mailbox), `timeout`
 * (HTTP headers or a TCP frame that did not arrive in time) and `too-many-connections` (a
 * connection closed at once because the listener held limits.maxConnections).
 */
export type ErrorCause =
  ContractError['code'] | 'internal' | 'socket' | 'dropped-slow-consumer' | 'closed-slow-consumer' | 'resume-gap' | 'timeout' | 'too-many-connections';

export interface ServerCounters {
  connectionsAccepted: number;
  connectionsOpen: number;
  requests: number;
  messagesIn: number;
  messagesOut: number;
  /** Server events (push and broadcast) created. */
  eventsCreated: number;
  /** Delivered but unacknowledged messages evicted from full mailboxes (see Mailbox). */
  evictedDelivered: number;
  /** Every refusal and failure, by cause. */
  errors: Record<ErrorCause, number>;
  /** SSE writes the socket could not take at once (`res.write` returned false): the client reads slower than the server writes. */
  writesBackpressured: number;
  /** TCP payload bytes, as the server's sockets counted them (closed and open). */
  bytesRead: number;
  bytesWritten: number;
}

export interface ServerStats extends ServerCounters {
  transport: TransportName;
  pid: number;
  clients: number;
  cpuUserMicros: number;
  cpuSystemMicros: number;
  rssBytes: number;
  maxRssBytes: number;
  /** The event loop's busy and idle time since the process started (performance.eventLoopUtilization()), in ms. */
  eventLoopActiveMs: number;
  eventLoopIdleMs: number;
  /** A server of several processes (servers/cluster.ts): each worker's own; the fields above are their sum and the primary's. */
  workers?: ServerStats[];
}

/** What every transport server offers main.ts and the tests. */
export interface TransportServer {
  readonly transport: TransportName;
  /** Listens and resolves with the bound port; `exclusive`: a cluster worker's own port (servers/cluster.ts). */
  listen(port: number, host: string, exclusive?: boolean): Promise<number>;
  stats(): ServerStats;
  /** Delivers one server event to every client; resolves with how many it was queued for. */
  broadcast(request: BroadcastRequest): number;
  /** Graceful stop: pending long polls answered, streams ended, sockets closed. */
  close(): Promise<void>;
}

export interface ServerOptions {
  limits: ServerLimits;
  /** websocket only: negotiate permessage-deflate. */
  perMessageDeflate: boolean;
  /** Browser origins allowed beyond the loopback ones; `*` allows any (see origin.ts). None given: loopback only. */
  allowOrigins?: readonly string[];
  /** TLS on every transport (https, wss, TLS over TCP); undefined: plaintext. */
  tls?: ServerTls;
  /** short-poll, long-poll, sse: the HTTP version served (HTTP/2 over TLS, or h2c without); default '1.1'. */
  httpVersion?: HttpVersion;
}

export const HTTP_VERSIONS = ['1.1', '2'] as const;
export type HttpVersion = (typeof HTTP_VERSIONS)[number];

/** The transports that may serve HTTP/2: the websocket server upgrades HTTP/1.1, tcp speaks no HTTP. */
export const HTTP2_TRANSPORTS: readonly TransportName[] = ['short-poll', 'long-poll', 'sse'];

export const TLS_VERSIONS = ['1.3', '1.2'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** A server's certificate and key (PEM text) and the one TLS version it speaks (min and max alike). */
export interface ServerTls {
  certPem: string;
  keyPem: string;
  version: TlsVersion;
}
