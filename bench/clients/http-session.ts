/**
 * The HTTP side of a polling or SSE client: the wirecost routes (RouteSession), over HTTP/1.1
 * (HttpSession, here) or HTTP/2 (Http2Session, http2-session.ts).
 *
 * HttpSession keeps a few keep-alive connections of its own (a browser keeps a few per host),
 * every socket tapped for the byte split. A request takes the first idle connection (the first
 * are the ones already open; an idle one not yet open opens), else waits in the session's queue
 * for whichever connection is done first: as a browser reuses its connections, a client whose
 * requests never overlap keeps one, and no request waits behind a held poll or a stream.
 */
import { ROUTES, type BroadcastRequest, type PushRequest } from '../../servers/contract.ts';
import { ConnectionClosedError, HttpConnection, cookieLine, encodeRequest, type ResponseHandler } from './http-connection.ts';
import type { ClientOptions, ClientWire } from './transport-client.ts';

/** Request headers beyond the ones every request carries, by name as HTTP/1.1 writes it (e.g. `Accept`). */
export type RequestHeaders = Readonly<Record<string, string>>;

/** What a request's body is. */
export type BodyType = 'text' | 'json';

/** The Content-Type of each body type. */
export const CONTENT_TYPES: Readonly<Record<BodyType, string>> = { text: 'text/plain; charset=utf-8', json: 'application/json' };

/**
 * What the polling and SSE clients ask of their HTTP side: HttpSession speaks HTTP/1.1 over a
 * couple of connections, Http2Session (http2-session.ts) HTTP/2 over one.
 */
export interface HttpClientSession {
  /** The client's id, once registered: every request's `client` parameter. */
  clientId: string;
  /** `route` with this client's id (and more query parameters). */
  path(route: string, query?: Record<string, string | number>): string;
  /** Sends a bodiless request; `handler` hears its response as it comes (streams, held polls). */
  exchange(method: string, path: string, handler: ResponseHandler, headers?: RequestHeaders): void;
  /** A whole bodiless request and its response, the body as bytes. */
  fetchBytes(method: string, path: string): Promise<{ status: number; body: Buffer }>;
  /** Registers a client; returns its id. */
  register(): Promise<string>;
  send(message: string | Buffer): Promise<void>;
  requestPush(request: PushRequest): Promise<void>;
  requestBroadcast(request: BroadcastRequest): Promise<void>;
  /** Destroys every connection: what is in flight fails, and the next request opens a new connection. */
  dropConnections(): void;
  /** Stops reading (true) or reads again (false). */
  pauseReading(paused: boolean): void;
  /** Waits `ms`, or until the session closes. */
  pause(ms: number): Promise<void>;
  /** Fails what is in flight and closes every connection; resolves once they are closed. */
  close(): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 200)}`);
    this.name = 'HttpStatusError';
  }
}

/** Collects a whole response: its status and body bytes. */
export function collect(done: (status: number, body: Buffer) => void, failed: (error: Error) => void): ResponseHandler {
  let first: Buffer | undefined;
  let parts: Buffer[] | undefined;
  return {
    onData(bytes) {
      if (first === undefined) first = Buffer.from(bytes);
      else (parts ??= [first]).push(Buffer.from(bytes));
    },
    onEnd(status) {
      done(status, parts !== undefined ? Buffer.concat(parts) : (first ?? EMPTY));
    },
    onError: failed,
  };
}

const EMPTY = Buffer.alloc(0);

/** The header lines of `headers`, each ending in CRLF. */
function headerLines(headers: RequestHeaders | undefined): string {
  let lines = '';
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) lines += `${name}: ${value}\r\n`;
  return lines;
}

/** The header lines of each body type (as HttpSession has always sent them). */
const BODY_LINES: Readonly<Record<BodyType, string>> = {
  text: `Content-Type: ${CONTENT_TYPES.text}\r\n`,
  json: `Content-Type: ${CONTENT_TYPES.json}\r\n`,
};

/** The wirecost routes on any HTTP: registration, messages, push and broadcast requests, and the pauses between requests. */
export abstract class RouteSession implements HttpClientSession {
  clientId = '';
  /** The session's pauses under way (between polls, before a retry): close() ends them at once. */
  private readonly pauses = new Set<() => void>();
  /** Set by close(). */
  protected closed = false;

  abstract exchange(method: string, path: string, handler: ResponseHandler, headers?: RequestHeaders): void;
  abstract fetchBytes(method: string, path: string): Promise<{ status: number; body: Buffer }>;
  abstract dropConnections(): void;
  abstract pauseReading(paused: boolean): void;
  abstract close(): Promise<void>;
  /** A whole request (with a body of `type`, if any) and its response. */
  abstract request(method: string, path: string, body?: string | Buffer, type?: BodyType): Promise<HttpAnswer>;

  /** `path` with this client's id (and more query parameters). */
  path(route: string, query: Record<string, string | number> = {}): string {
    let path = `${route}?client=${encodeURIComponent(this.clientId)}`;
    for (const [name, value] of Object.entries(query)) path += `&${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`;
    return path;
  }

  /** Registers a client; returns its id (a session that is one client keeps it as clientId). */
  async register(): Promise<string> {
    const answer = await this.request('POST', ROUTES.clients);
    if (answer.status !== 201) throw new HttpStatusError(answer.status, answer.body, 'POST /clients');
    return (JSON.parse(answer.body) as { clientId: string }).clientId;
  }

  async send(message: string | Buffer): Promise<void> {
    const answer = await this.request('POST', this.path(ROUTES.messages), message);
    if (answer.status !== 202) throw new HttpStatusError(answer.status, answer.body, 'POST /messages');
  }

  async requestPush(request: PushRequest, clientId = this.clientId): Promise<void> {
    const answer = await this.request('POST', `${ROUTES.push}?client=${encodeURIComponent(clientId)}`, JSON.stringify(request), 'json');
    if (answer.status !== 202) throw new HttpStatusError(answer.status, answer.body, 'POST /push');
  }

  async requestBroadcast(request: BroadcastRequest): Promise<void> {
    const answer = await this.request('POST', ROUTES.broadcast, JSON.stringify(request), 'json');
    if (answer.status !== 202) throw new HttpStatusError(answer.status, answer.body, 'POST /broadcast');
  }

  /** Waits `ms`, or until the session closes: one timer, no abort listener (a driver pauses thousands of times a second). */
  pause(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pauses.add(done);
    });
  }

  /** Marks the session closed and ends its pauses. */
  protected markClosed(): void {
    this.closed = true;
    for (const wake of [...this.pauses]) wake();
  }
}

export class HttpSession extends RouteSession {
  private readonly connections: HttpConnection[];
  /** Requests waiting for a connection, first come first served. */
  private readonly waiting: { method: string; bytes: Buffer; handler: ResponseHandler }[] = [];
  private readonly hostHeader: string;
  /** The Cookie line every request carries ('' for none). */
  private readonly cookie: string;

  /**
   * `connections`: two for a client (one may be held by a long poll or an SSE stream while a
   * message goes out); more for a session that sets up many clients at once.
   */
  constructor(options: ClientOptions, wire: ClientWire, connections = 2) {
    super();
    this.connections = Array.from({ length: connections }, (_, index) => new HttpConnection(options, wire, () => this.next(), index));
    this.hostHeader = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    this.cookie = cookieLine(options.cookieBytes);
  }

  /** Sends a bodiless request; `handler` hears its response as it comes (used for streams and held polls). */
  exchange(method: string, path: string, handler: ResponseHandler, headers?: RequestHeaders): void {
    this.exchangeLines(method, path, handler, headerLines(headers));
  }

  /** A whole request and response, the body as bytes; `lines` are header lines, each ending in CRLF. */
  fetchBytes(method: string, path: string, lines = '', body?: string | Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) =>
      this.exchangeLines(
        method,
        path,
        collect((status, bytes) => resolve({ status, body: bytes }), reject),
        lines,
        body,
      ),
    );
  }

  /** A whole request and response. */
  async request(method: string, path: string, body?: string | Buffer, type: BodyType = 'text'): Promise<HttpAnswer> {
    const answer = await this.fetchBytes(method, path, body === undefined ? '' : BODY_LINES[type], body);
    return { status: answer.status, body: answer.body.toString('utf8') };
  }

  /** Destroys every connection: what is in flight fails, and the next request opens a new connection. */
  dropConnections(): void {
    for (const connection of this.connections) connection.drop();
  }

  /** Pauses (or resumes) reading on every connection. */
  pauseReading(paused: boolean): void {
    for (const connection of this.connections) connection.pauseReading(paused);
  }

  /** Fails what is in flight and closes every connection (the server forgets the client after its TTL). */
  async close(): Promise<void> {
    this.markClosed();
    for (const request of this.waiting.splice(0)) request.handler.onError(new ConnectionClosedError('the client is closed'));
    await Promise.all(this.connections.map((connection) => connection.close()));
  }

  /** Sends a request with these header lines (each ending in CRLF) and body. */
  private exchangeLines(method: string, path: string, handler: ResponseHandler, lines = '', body?: string | Buffer): void {
    const bytes = encodeRequest(method, path, this.hostHeader, this.cookie + lines, body);
    const idle = this.waiting.length === 0 ? this.connections.find((connection) => !connection.busy) : undefined;
    if (idle !== undefined) idle.request(method, bytes, handler);
    else this.waiting.push({ method, bytes, handler });
  }

  /** A connection is done: the first waiting request takes the first idle connection. */
  private next(): void {
    const idle = this.connections.find((connection) => !connection.busy);
    const request = idle === undefined ? undefined : this.waiting.shift();
    if (request !== undefined) idle!.request(request.method, request.bytes, request.handler);
  }
}
