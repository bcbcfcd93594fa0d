/**
 * WebSocket (RFC 6455) with the `ws` package, on GET /ws (and GET /, where the textbook's page
 * opens ws://host:port) of an HTTP server that also answers GET /stats. A text message is echoed; a binary message is a control request (JSON, see
 * ControlRequest). permessage-deflate is off unless options.perMessageDeflate is set.
 * `ws` closes a connection that breaks the protocol: 1002 for an unknown opcode, an unmasked
 * frame, reserved bits set, a control frame over 125 bytes or a fragmented one; 1007 for invalid
 * UTF-8; 1009 for a message over limits.maxMessageBytes or a 64-bit length beyond 2^53 - 1.
 * Each is counted, and the server goes on serving the others. An upgrade from a browser origin
 * that is not allowed (see origin.ts) gets 403. With options.tls the HTTP server is https, and the
 * WebSockets wss: the upgrade is always HTTP/1.1's (RFC 8441, WebSockets over HTTP/2, is not served).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import {
  ContractError,
  ROUTES,
  WEBSOCKET_PATHS,
  echoReply,
  parseControlRequest,
  type BroadcastRequest,
  type ServerLimits,
  type ServerOptions,
  type ServerStats,
  type TransportServer,
} from './contract.ts';
import { ServerMetrics } from './metrics.ts';
import { BroadcastSequence, startPushEvents, stopPushEvents, type PushTarget } from './push-stream.ts';
import { requestPath, sendError, writeAndClose, sendJson, STATUS_BY_CODE, type ServerRequest, type ServerResponse } from './http-responses.ts';
import { OriginPolicy, addCorsHeaders, answerPreflight, requestOrigin } from './origin.ts';
import { Http1Listener } from './http-listener.ts';

interface Connection extends PushTarget {
  socket: WebSocket;
}

/** How long a graceful stop waits for the clients' closing handshakes before it ends their connections. */
const CLOSE_GRACE_MS = 2_000;

/** Close code for a control request that is not valid (RFC 6455: 1008 policy violation). */
const CLOSE_BAD_CONTROL = 1008;

/** `ws` error codes for input over a size limit (it closes with 1009); every other WS_ERR_ is bad input. */
const WS_TOO_LARGE = new Set(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH']);

/** A refusal of an upgrade request, written on the raw socket (there is no ServerResponse). */
function refuseUpgrade(socket: Duplex, status: 403 | 404 | 503, reason: string): void {
  writeAndClose(socket, `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class WebSocketTransportServer implements TransportServer {
  readonly transport = 'websocket' as const;
  private readonly listener: Http1Listener;
  private readonly wss: WebSocketServer;
  private readonly metrics = new ServerMetrics('websocket');
  private readonly connections = new Set<Connection>();
  private readonly limits: ServerLimits;
  private readonly broadcasts = new BroadcastSequence(this.metrics);
  private readonly origins: OriginPolicy;

  constructor(options: ServerOptions) {
    this.limits = options.limits;
    this.origins = new OriginPolicy(options.allowOrigins);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.limits.maxMessageBytes,
      perMessageDeflate: options.perMessageDeflate,
      clientTracking: false,
    });
    const settings = { limits: this.limits, metrics: this.metrics, ...(options.tls === undefined ? {} : { tls: options.tls }) };
    this.listener = new Http1Listener(settings, (req, res) => this.http(req, res));
    this.listener.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listen(port: number, host: string, exclusive = false): Promise<number> {
    return this.listener.listen(port, host, exclusive);
  }

  stats(): ServerStats {
    return this.metrics.snapshot(this.connections.size);
  }

  broadcast(request: BroadcastRequest): number {
    const text = this.broadcasts.next(request.sizeBytes);
    let sent = 0;
    for (const connection of this.connections) if (this.send(connection, text)) sent += 1;
    return sent;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) {
      stopPushEvents(connection);
      connection.socket.close(1001, 'server shutting down');
    }
    // the upgraded sockets are the WebSockets' own, not the listener's: past the grace, they end here
    const grace = setTimeout(() => {
      for (const connection of this.connections) connection.socket.terminate();
    }, CLOSE_GRACE_MS);
    await this.listener.close(CLOSE_GRACE_MS);
    clearTimeout(grace);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.metrics.counters.requests += 1;
    const path = requestPath(req);
    if (!this.origins.allows(requestOrigin(req))) {
      this.metrics.error('origin-not-allowed');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    if (path === undefined || !WEBSOCKET_PATHS.includes(path)) {
      this.metrics.error('not-found');
      return refuseUpgrade(socket, 404, 'Not Found');
    }
    if (this.connections.size >= this.limits.maxClients) {
      this.metrics.error('too-many-clients');
      return refuseUpgrade(socket, 503, 'Service Unavailable');
    }
    let accepted = false;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      this.accept(ws);
    });
    // ws answers a bad handshake (method, Upgrade, key, version) itself, at once: count it
    if (!accepted && socket.writableEnded) this.metrics.error('bad-request');
  }

  private http(req: ServerRequest, res: ServerResponse): void {
    this.metrics.counters.requests += 1;
    const path = requestPath(req);
    const origin = requestOrigin(req);
    if (!this.origins.allows(origin)) {
      this.metrics.error('origin-not-allowed');
      return sendError(res, 403, 'origin-not-allowed', `origin ${origin} is not allowed: start the server with --allow-origin to allow it`);
    }
    addCorsHeaders(req, res);
    if (req.method === 'OPTIONS') return answerPreflight(req, res);
    if (path === ROUTES.stats && req.method === 'GET') return sendJson(res, 200, this.stats());
    const error =
      path === undefined
        ? new ContractError('bad-request', 'the request target is not a valid path')
        : path === ROUTES.stats
          ? new ContractError('method-not-allowed', 'method not allowed here; allowed: GET')
          : WEBSOCKET_PATHS.includes(path)
            ? new ContractError('bad-request', `GET ${path} needs a WebSocket upgrade (Upgrade: websocket)`)
            : new ContractError(
                'not-found',
                `no route ${path}: the websocket server answers GET ${WEBSOCKET_PATHS.join(' or ')} (upgrade) and GET ${ROUTES.stats}`,
              );
    this.metrics.error(error.code);
    if (error.code === 'method-not-allowed') res.setHeader('Allow', 'GET');
    sendError(res, STATUS_BY_CODE[error.code], error.code, error.message);
  }

  private accept(socket: WebSocket): void {
    const connection: Connection = { socket, pushSeq: 0, pushStreams: new Set() };
    this.connections.add(connection);
    socket.on('message', (data, isBinary) => this.receive(connection, data, isBinary));
    socket.on('error', (error: Error & { code?: string }) => {
      // ws has closed the connection itself, with the code the error calls for (see above)
      const code = error.code ?? '';
      this.metrics.error(WS_TOO_LARGE.has(code) ? 'too-large' : code.startsWith('WS_ERR') ? 'bad-request' : 'socket');
    });
    socket.on('close', () => {
      stopPushEvents(connection);
      this.connections.delete(connection);
    });
  }

  private receive(connection: Connection, data: RawData, isBinary: boolean): void {
    const text = rawText(data);
    if (!isBinary) {
      this.metrics.counters.messagesIn += 1;
      this.send(connection, echoReply(text));
      return;
    }
    try {
      const request = parseControlRequest(text, this.limits);
      if (request.op === 'broadcast') {
        this.broadcast(request);
        return;
      }
      startPushEvents(connection, request, this.metrics, this.limits.maxPushStreams, (text) => this.send(connection, text));
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      this.metrics.error(error.code);
      connection.socket.close(CLOSE_BAD_CONTROL, error.message.slice(0, 120));
    }
  }

  /** Sends a text message unless the client is gone or too far behind (then it is counted). */
  private send(connection: Connection, text: string): boolean {
    if (connection.socket.readyState !== WebSocket.OPEN) return false;
    if (connection.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      this.metrics.error('dropped-slow-consumer');
      return false;
    }
    connection.socket.send(text);
    this.metrics.counters.messagesOut += 1;
    return true;
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export function createWebSocketServer(options: ServerOptions): WebSocketTransportServer {
  return new WebSocketTransportServer(options);
}
