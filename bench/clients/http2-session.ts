/**
 * The HTTP/2 side of a polling or SSE client: every request of the client is a stream of ONE
 * connection, as a browser's requests to one origin are (its polls, its sends, its push requests,
 * its registration and its event stream alike), over TLS (ALPN h2) on a tapped socket whose bytes
 * the accountant splits as HTTP/2 ('http2'); h2c (prior knowledge, plaintext) when the client has
 * no TLS, which no browser speaks.
 *
 * Node's HTTP/2 client does the protocol: a stream per request, HPACK, flow control. What is
 * allocated per request is what it needs (the stream and its header object), one small record of
 * the exchange, and, for a Buffer body, its copy (a send's caller may reuse its buffer at once,
 * and HTTP/2 writes it later). The stream's listeners are shared functions, not closures.
 *
 * A connection that is lost (the server gone, interrupt(), a GOAWAY) fails the streams it had,
 * as HTTP/1.1's lost connection fails its request, and the next request opens a new one: the
 * clients' own retries (a poll again, a stream with Last-Event-ID) come back on it. Reading is
 * paused stream by stream (pauseReading): the server is then held back by HTTP/2's flow control.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import { COOKIE_NAME, ConnectionClosedError, cookieValue, type ResponseHandler } from './http-connection.ts';
import { CONTENT_TYPES, RouteSession, collect, type BodyType, type HttpAnswer, type RequestHeaders } from './http-session.ts';
import { TLS_CLOSE_WAIT_MS, connectionClosed, openClientConnection } from './secure-connection.ts';
import type { ClientOptions, ClientWire } from './transport-client.ts';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_STATUS, HTTP2_HEADER_COOKIE, HTTP2_HEADER_CONTENT_TYPE } = http2.constants;

/** One request on its stream: who hears the response, and how far it got. */
interface Exchange {
  owner: Http2Session;
  handler: ResponseHandler;
  status: number;
  ended: boolean;
  failure: Error | undefined;
}

/** The stream's exchange, kept on the stream itself so that its listeners can be shared functions. */
const EXCHANGE = Symbol('exchange');
type ExchangeStream = http2.ClientHttp2Stream & { [EXCHANGE]: Exchange };

/**
 * The response's head. Node emits it a tick after it came, so the body's first bytes may already
 * be waiting: the body is read from here on, in order, after its head.
 */
function onResponse(this: ExchangeStream, headers: http2.IncomingHttpHeaders): void {
  const exchange = this[EXCHANGE];
  exchange.status = Number(headers[HTTP2_HEADER_STATUS]);
  exchange.handler.onHead?.(exchange.status);
  this.on('data', onData);
  // before Node's own listener, which destroys a stream the server ended once it has ended
  this.prependListener('end', onEnd);
  if (exchange.owner.readingPaused) this.pause();
}

function onData(this: ExchangeStream, chunk: Buffer): void {
  this[EXCHANGE].handler.onData?.(chunk);
}

/**
 * The body's end: the response is whole when the server ended its stream (END_STREAM), and cut
 * short when the stream was destroyed (its connection lost, a reset), which ends it too: that
 * one fails at 'close'. Node destroys a stream the server ended only at this event, in a listener
 * of its own that this one goes before.
 */
function onEnd(this: ExchangeStream): void {
  if (this.destroyed) return;
  const exchange = this[EXCHANGE];
  exchange.ended = true;
  exchange.handler.onEnd(exchange.status);
}

function onError(this: ExchangeStream, error: Error): void {
  this[EXCHANGE].failure ??= error;
}

function onClose(this: ExchangeStream): void {
  const exchange = this[EXCHANGE];
  exchange.owner.streamClosed(this);
  if (exchange.ended) return;
  exchange.handler.onError(exchange.owner.failureOf(exchange));
}

export class Http2Session extends RouteSession {
  private session: http2.ClientHttp2Session | undefined;
  /** Why the current connection failed, for the streams it took with it. */
  private sessionFailure: Error | undefined;
  private readonly authority: string;
  /** Streams still open: paused with the session, failed by close(). */
  private readonly streams = new Set<ExchangeStream>();
  /** TLS (or TCP) sockets not yet closed, so close() can wait for their counts. */
  private readonly sockets = new Set<net.Socket>();
  /** The cookie every request carries (undefined: none). */
  private readonly cookie: string | undefined;
  private paused = false;
  /** Whether the client's chosen local port was tried (by its first connection only). */
  private localPortUsed = false;

  constructor(
    private readonly options: ClientOptions,
    private readonly wire: ClientWire,
  ) {
    super();
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.authority = `${options.tls === undefined ? 'http' : 'https'}://${host}:${options.port}`;
    const bytes = options.cookieBytes ?? 0;
    // name=value, `bytes` long in all, as the HTTP/1.1 clients' Cookie line
    this.cookie = bytes > 0 ? `${COOKIE_NAME}=${cookieValue(bytes)}`.slice(0, bytes) : undefined;
  }

  /** Whether pauseReading(true) holds the streams' bodies back. */
  get readingPaused(): boolean {
    return this.paused;
  }

  exchange(method: string, path: string, handler: ResponseHandler, headers?: RequestHeaders): void {
    this.stream(method, path, handler, headers, undefined, 'text');
  }

  fetchBytes(method: string, path: string, body?: string | Buffer, type: BodyType = 'text'): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) =>
      this.stream(
        method,
        path,
        collect((status, bytes) => resolve({ status, body: bytes }), reject),
        undefined,
        body,
        type,
      ),
    );
  }

  async request(method: string, path: string, body?: string | Buffer, type: BodyType = 'text'): Promise<HttpAnswer> {
    const answer = await this.fetchBytes(method, path, body, type);
    return { status: answer.status, body: answer.body.toString('utf8') };
  }

  /** Destroys the connection: its streams fail, and the next request opens a new one. */
  dropConnections(): void {
    this.session?.destroy();
  }

  /** Pauses (or resumes) reading every stream, and the streams opened meanwhile. */
  pauseReading(paused: boolean): void {
    this.paused = paused;
    for (const stream of this.streams) {
      if (paused) stream.pause();
      else if (stream.listenerCount('data') > 0) stream.resume(); // one whose head has not come starts reading at it
    }
  }

  /**
   * Fails what is in flight (its streams cancelled) and closes the connection gracefully: the
   * server's last bytes (its close_notify) are read and counted before the socket closes, as a
   * capture sees them; destroyed if that takes over TLS_CLOSE_WAIT_MS. Resolves once the socket
   * has closed.
   */
  async close(): Promise<void> {
    this.markClosed();
    const closing = [...this.sockets].map(connectionClosed);
    const session = this.session;
    if (session !== undefined && !session.destroyed) {
      for (const stream of this.streams) stream.close(http2.constants.NGHTTP2_CANCEL);
      const timer = setTimeout(() => session.destroy(), TLS_CLOSE_WAIT_MS);
      session.once('close', () => clearTimeout(timer));
      session.close();
    }
    await Promise.all(closing);
  }

  /** Called by a stream's 'close'. */
  streamClosed(stream: ExchangeStream): void {
    this.streams.delete(stream);
  }

  /** Why an exchange ended without its response. */
  failureOf(exchange: Exchange): Error {
    if (this.closed) return new ConnectionClosedError('the client is closed');
    return exchange.failure ?? this.sessionFailure ?? new ConnectionClosedError('the connection closed before the response was complete');
  }

  private stream(
    method: string,
    path: string,
    handler: ResponseHandler,
    headers: RequestHeaders | undefined,
    body: string | Buffer | undefined,
    type: BodyType,
  ): void {
    if (this.closed) {
      handler.onError(new ConnectionClosedError('the client is closed'));
      return;
    }
    const request: http2.OutgoingHttpHeaders = { [HTTP2_HEADER_METHOD]: method, [HTTP2_HEADER_PATH]: path };
    if (this.cookie !== undefined) request[HTTP2_HEADER_COOKIE] = this.cookie;
    if (body !== undefined) request[HTTP2_HEADER_CONTENT_TYPE] = CONTENT_TYPES[type];
    if (headers !== undefined) for (const name in headers) request[name.toLowerCase()] = headers[name];
    let stream: ExchangeStream;
    try {
      stream = this.current().request(request, { endStream: body === undefined }) as ExchangeStream;
    } catch (error) {
      handler.onError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    stream[EXCHANGE] = { owner: this, handler, status: 0, ended: false, failure: undefined };
    this.streams.add(stream);
    stream.on('response', onResponse);
    stream.on('error', onError);
    stream.on('close', onClose);
    // the caller may write its next message into a Buffer body at once: HTTP/2 sends a copy
    if (body !== undefined) stream.end(typeof body === 'string' ? body : Buffer.from(body));
  }

  /** The connection to send on: the open one, or a new one where there is none (or it is going away). */
  private current(): http2.ClientHttp2Session {
    const open = this.session;
    if (open !== undefined && !open.closed && !open.destroyed) return open;
    const tcp = { host: this.options.host, port: this.options.port, ...this.localEndpoint(), noDelay: true };
    const session = http2.connect(this.authority, {
      createConnection: () => {
        const socket = openClientConnection(this.wire, 'http2', this.options.tls, tcp, ['h2']);
        this.sockets.add(socket);
        void connectionClosed(socket).then(() => this.sockets.delete(socket));
        return socket;
      },
    });
    this.session = session;
    this.sessionFailure = undefined;
    // its streams fail with the error; counted once, there
    session.on('error', (error: Error) => {
      if (this.session === session) this.sessionFailure = error;
    });
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    return session;
  }

  /** The local end of the next connection: the client's address, and for its first connection, its chosen port. */
  private localEndpoint(): { localAddress?: string; localPort?: number } {
    if (this.options.localAddress === undefined) return {};
    const port = this.localPortUsed ? undefined : this.options.localPort;
    this.localPortUsed = true;
    return port === undefined ? { localAddress: this.options.localAddress } : { localAddress: this.options.localAddress, localPort: port };
  }
}
