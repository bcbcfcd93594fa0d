/**
 * One keep-alive HTTP/1.1 connection of a driver client, on a raw socket: one request at a time
 * (its owner queues the others, see http-session.ts), each written as one buffer, and responses
 * parsed by the same parser the byte accountant uses (wire/http1.ts). Made for load: no
 * per-request objects beyond the request itself, no streams, no header objects unless asked for.
 *
 * A connection the server closes (or that fails) is opened again for the next request, as a
 * browser's or Node's agent does; the request that was in flight on it fails. With
 * ClientOptions.tls the socket is TLS (https, ALPN http/1.1), tapped underneath.
 */
import type net from 'node:net';
import { HttpMessageParser, NO_COUNTER, bodilessResponse, framedBodyLength, type HttpHead, type HttpSide, type MessagePlan } from '../wire/http1.ts';
import type { ClientOptions, ClientWire } from './transport-client.ts';
import { connectionClosed, endTlsConnection, openClientConnection } from './secure-connection.ts';

/** What the caller of a request hears: the response's head, its body bytes (chunked encoding taken off), its end or an error. */
export interface ResponseHandler {
  /** `head`: the HTTP/1.1 head as parsed (an HTTP/2 response has none). */
  onHead?(status: number, head?: HttpHead): void;
  onData?(bytes: Buffer): void;
  onEnd(status: number): void;
  onError(error: Error): void;
}

interface PendingRequest {
  method: string;
  bytes: Buffer;
  handler: ResponseHandler;
}

export class ConnectionClosedError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'ConnectionClosedError';
  }
}

/** Connections of one HTTP client that get a local port chosen for them (ClientOptions.localPort, +1): a held poll or a stream, and a send. */
export const HTTP_LOCAL_PORTS = 2;

/** The name of the cookie the clients (and the real browser) send with --cookie-bytes. */
export const COOKIE_NAME = 'session';

/** The cookie's value, so that `session=` and it make `bytes` bytes (name=value) — for a browser's cookie jar. */
export function cookieValue(bytes: number): string {
  return 'c'.repeat(Math.max(0, bytes - COOKIE_NAME.length - 1));
}

/**
 * A `Cookie` header line whose value (name=value) is `bytes` long, or '' for none: the size a
 * real site's cookies add to every request the page makes to it.
 */
export function cookieLine(bytes: number | undefined): string {
  if (bytes === undefined || bytes <= 0) return '';
  return `Cookie: ${`${COOKIE_NAME}=${cookieValue(bytes)}`.slice(0, bytes)}\r\n`;
}

/** The request line, Host, the extra header lines (each ending in CRLF) and the body, as one buffer. */
export function encodeRequest(method: string, path: string, hostHeader: string, headerLines: string, body?: string | Buffer): Buffer {
  if (body === undefined) return Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\n${headerLines}\r\n`, 'latin1');
  const bodyBytes = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\n${headerLines}Content-Length: ${bodyBytes}\r\n\r\n`;
  const bytes = Buffer.allocUnsafe(head.length + bodyBytes);
  bytes.write(head, 0, 'latin1');
  if (typeof body === 'string') bytes.write(body, head.length, 'utf8');
  else body.copy(bytes, head.length);
  return bytes;
}

export class HttpConnection implements HttpSide {
  private socket: net.Socket | undefined;
  private parser: HttpMessageParser | undefined;
  private inFlight: PendingRequest | undefined;
  private status = 0;
  /** The response in flight has no length: it ends when the connection does. */
  private untilClose = false;
  /** The server said `Connection: close`: the next request needs a new connection. */
  private closeAfterResponse = false;
  private paused = false;
  private closed = false;
  /** Sockets not yet closed, so close() can wait for them. */
  private readonly open = new Set<net.Socket>();

  /** `idle` is called whenever the connection is done with a request and has no other. */
  constructor(
    private readonly options: ClientOptions,
    private readonly wire: ClientWire,
    private readonly idle: () => void,
    /** Its place among its session's connections (the first HTTP_LOCAL_PORTS have a local port of their own). */
    private readonly index = 0,
  ) {}

  /** Whether a request is in flight. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Sends a request (`bytes` from encodeRequest) on this idle connection; its handler hears the response. */
  request(method: string, bytes: Buffer, handler: ResponseHandler): void {
    if (this.closed) {
      handler.onError(new ConnectionClosedError('the client is closed'));
      return;
    }
    if (this.inFlight !== undefined) throw new Error('HttpConnection: a request is already in flight');
    this.inFlight = { method, bytes, handler };
    (this.socket ?? this.connect()).write(bytes);
  }

  /** Destroys the connection: what is in flight fails; the next request opens a new one. */
  drop(): void {
    this.socket?.destroy();
  }

  pauseReading(paused: boolean): void {
    this.paused = paused;
    if (paused) this.socket?.pause();
    else this.socket?.resume();
  }

  /** Fails what is in flight and waiting, and closes the connection (over TLS as TLS closes); resolves once its sockets are closed. */
  async close(): Promise<void> {
    this.closed = true;
    const closing = [...this.open].map(connectionClosed);
    for (const socket of this.open) {
      if (this.options.tls === undefined) socket.destroy();
      else endTlsConnection(socket);
    }
    const request = this.inFlight;
    this.inFlight = undefined;
    request?.handler.onError(new ConnectionClosedError('the client is closed'));
    await Promise.all(closing);
  }

  // HttpSide: the parser's view of the responses.

  onHead(head: HttpHead): MessagePlan {
    this.status = head.status;
    const request = this.inFlight;
    this.closeAfterResponse = /\bclose\b/i.test(head.header('connection') ?? '');
    request?.handler.onHead?.(this.status, head);
    const length = bodilessResponse(request?.method ?? 'GET', this.status) ? 0 : (framedBodyLength(head) ?? Number.POSITIVE_INFINITY);
    this.untilClose = length === Number.POSITIVE_INFINITY;
    return { headKind: 'headers', bodyLength: length, chunkFramingKind: 'framing', sink: this.bodySink };
  }

  onMessageEnd(): void {
    if (this.status < 200) return; // an informational response: the final one follows
    const request = this.inFlight;
    this.inFlight = undefined;
    if (this.closeAfterResponse) this.retireSocket();
    request?.handler.onEnd(this.status);
    if (this.inFlight === undefined) this.idle();
  }

  /** Whether this connection's chosen local port (ClientOptions.localPort + its index) was used: by its first socket only. */
  private localPortUsed = false;

  /** The local end of the next socket: the client's address, and for the first socket of one of its first HTTP_LOCAL_PORTS connections, its own port. */
  private localEndpoint(): { localAddress?: string; localPort?: number } {
    if (this.options.localAddress === undefined) return {};
    const port = !this.localPortUsed && this.options.localPort !== undefined && this.index < HTTP_LOCAL_PORTS ? this.options.localPort + this.index : undefined;
    this.localPortUsed = true;
    return port === undefined ? { localAddress: this.options.localAddress } : { localAddress: this.options.localAddress, localPort: port };
  }

  private readonly bodySink = {
    content: (bytes: Buffer): void => this.inFlight?.handler.onData?.(bytes),
  };

  private connect(): net.Socket {
    const socket = openClientConnection(
      this.wire,
      'http',
      this.options.tls,
      { host: this.options.host, port: this.options.port, ...this.localEndpoint(), noDelay: true },
      ['http/1.1'],
    );
    const parser = new HttpMessageParser(NO_COUNTER, this);
    this.socket = socket;
    this.parser = parser;
    this.open.add(socket);
    if (this.paused) socket.pause();
    socket.on('data', (chunk: Buffer) => {
      if (this.parser === parser) parser.feed(chunk, () => this.parser !== parser);
    });
    // 'close' follows an error and fails what was in flight with it (ECONNREFUSED, EMFILE: the run's errors name the cause)
    let failure: Error | undefined;
    socket.on('error', (error: Error) => (failure ??= error));
    socket.once('close', () => {
      this.open.delete(socket);
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.parser = undefined;
      const request = this.inFlight;
      if (request === undefined) return;
      this.inFlight = undefined;
      if (this.untilClose && this.status >= 200) request.handler.onEnd(this.status);
      else request.handler.onError(failure ?? new ConnectionClosedError('the connection closed before the response was complete'));
      this.untilClose = false;
      if (!this.closed && this.inFlight === undefined) this.idle();
    });
    return socket;
  }

  /** The server will close this connection: forget it, so the next request opens another. */
  private retireSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.parser = undefined;
    socket?.end();
  }
}
