/**
 * The listener of an HTTP server, in each form a run can ask for: HTTP/1.1 in plaintext or over
 * TLS (https), and HTTP/2 over TLS (h2, negotiated by ALPN) or in plaintext (h2c, prior
 * knowledge: for experiments, no browser speaks it). One request handler serves them all, through
 * Node's HTTP/2 compatibility API; the counters and the graceful stop are the same.
 *
 * The limits of HTTP/1.1 as HTTP/2 has them:
 * - limits.maxHeaderBytes is the SETTINGS_MAX_HEADER_LIST_SIZE the server announces; a request
 *   over it (names, values and 32 bytes a field, uncompressed) is reset with ENHANCE_YOUR_CALM
 *   before the handler sees it, where HTTP/1.1 answers 431; Node does not count it. A request
 *   sent before the client had the server's SETTINGS is not held to it (HTTP/2's settings apply
 *   once acknowledged).
 * - limits.keepAliveTimeoutMs closes a connection (GOAWAY) that has had no open stream for that
 *   long, as HTTP/1.1 closes an idle keep-alive connection.
 * - A 413 resets its stream with NO_ERROR once answered (see sendError), where HTTP/1.1 closes
 *   the connection.
 * - limits.headersTimeoutMs (and Node's 300 s request timeout) do not apply: Node's HTTP/2 has no
 *   such timer. A request's header block arrives in frames of a connection whose memory Node
 *   bounds (maxSessionMemory, 10 MB), and a connection with no stream open is closed after the
 *   keep-alive timeout.
 * - Node's other HTTP/2 defaults stay: unlimited concurrent streams per connection (within that
 *   memory), at most 128 header fields a request.
 */
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type net from 'node:net';
import type { ErrorCause, HttpVersion, ServerLimits, ServerTls } from './contract.ts';
import type { ServerMetrics } from './metrics.ts';
import { answerClientError, httpServerOptions, type ServerRequest, type ServerResponse } from './http-responses.ts';
import { countConnections, listenOn } from './listen.ts';
import { countTlsClientErrors, tlsServerOptions } from './tls.ts';

export type RequestHandler = (req: ServerRequest, res: ServerResponse) => void;

export interface ListenerSettings {
  limits: ServerLimits;
  metrics: ServerMetrics;
  /** undefined: plaintext. */
  tls?: ServerTls;
}

export interface HttpListener {
  readonly httpVersion: HttpVersion;
  readonly server: net.Server;
  /** `exclusive`: a cluster worker's own port (servers/cluster.ts). */
  listen(port: number, host: string, exclusive?: boolean): Promise<number>;
  /**
   * Graceful stop: no new connection; idle connections are closed at once, the others once
   * their exchanges end, or after `graceMs` at the latest.
   */
  close(graceMs: number): Promise<void>;
}

/** HTTP/1.1, plaintext or https; its 'upgrade' event is the websocket server's. */
export class Http1Listener implements HttpListener {
  readonly httpVersion = '1.1' as const;
  readonly server: http.Server | https.Server;

  constructor(settings: ListenerSettings, handler: RequestHandler) {
    const { limits, metrics, tls } = settings;
    const options = httpServerOptions(limits);
    this.server = tls === undefined ? http.createServer(options, handler) : https.createServer({ ...options, ...tlsServerOptions(tls, ['http/1.1']) }, handler);
    countConnections(this.server, metrics, limits.maxConnections);
    this.server.on('clientError', (error, socket) => answerClientError(error, socket, metrics, limits));
    if (tls !== undefined) countTlsClientErrors(this.server as https.Server, metrics);
  }

  listen(port: number, host: string, exclusive = false): Promise<number> {
    return listenOn(this.server, port, host, exclusive);
  }

  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const grace = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(grace);
  }
}

/** A connection error of an HTTP/2 session: a peer gone, or one that broke the protocol (a bad preface, bad frames). */
function sessionErrorCause(error: Error & { code?: string }): ErrorCause {
  return error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 'socket' : 'bad-request';
}

/** HTTP/2 over TLS (ALPN h2 only: a client that offers no h2 is closed and counted), or h2c in plaintext. */
export class Http2Listener implements HttpListener {
  readonly httpVersion = '2' as const;
  readonly server: http2.Http2Server | http2.Http2SecureServer;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly limits: ServerLimits;

  constructor(settings: ListenerSettings, handler: RequestHandler) {
    const { limits, metrics, tls } = settings;
    this.limits = limits;
    const options: http2.ServerOptions = { settings: { maxHeaderListSize: limits.maxHeaderBytes } };
    if (tls === undefined) {
      this.server = http2.createServer(options, handler);
    } else {
      const secure = http2.createSecureServer({ ...options, ...tlsServerOptions(tls), allowHTTP1: false }, handler);
      countTlsClientErrors(secure, metrics);
      secure.on('unknownProtocol', (socket) => {
        metrics.error('bad-request');
        socket.destroy();
      });
      this.server = secure;
    }
    countConnections(this.server, metrics, limits.maxConnections);
    this.server.on('session', (session) => this.track(session));
    this.server.on('sessionError', (error: Error & { code?: string }) => metrics.error(sessionErrorCause(error)));
  }

  listen(port: number, host: string, exclusive = false): Promise<number> {
    return listenOn(this.server, port, host, exclusive);
  }

  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.close(); // GOAWAY: it ends once its open streams have
    const grace = setTimeout(() => {
      for (const session of this.sessions) session.destroy();
    }, graceMs);
    await closed;
    clearTimeout(grace);
  }

  /** Keeps the session for a graceful stop, and closes it after limits.keepAliveTimeoutMs with no stream open. */
  private track(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    let openStreams = 0;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      idle = setTimeout(() => session.close(), this.limits.keepAliveTimeoutMs);
    };
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      openStreams += 1;
      clearTimeout(idle);
      stream.once('close', () => {
        openStreams -= 1;
        if (openStreams === 0 && !session.closed) armIdle();
      });
    });
    session.once('close', () => {
      clearTimeout(idle);
      this.sessions.delete(session);
    });
    armIdle();
  }
}

export function createHttpListener(httpVersion: HttpVersion, settings: ListenerSettings, handler: RequestHandler): HttpListener {
  return httpVersion === '2' ? new Http2Listener(settings, handler) : new Http1Listener(settings, handler);
}
