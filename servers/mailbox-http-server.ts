/**
 * The HTTP server shared by the three HTTP transports (short-poll, long-poll, sse).
 *
 * It registers clients, accepts their messages (echo) and push requests, broadcasts, serves
 * the counters, and answers every bad request with a clear JSON error. Each client has a
 * bounded Mailbox; how the mailbox reaches the client is the one thing a transport adds, as
 * its DeliveryRoute (GET /messages for the polls, GET /events for SSE). It serves HTTP/1.1 or
 * HTTP/2, in plaintext or over TLS (see http-listener.ts), with the same handlers.
 */
import { randomUUID } from 'node:crypto';
import {
  ContractError,
  ROUTES,
  echoReply,
  parseBroadcastRequest,
  parseJsonObject,
  parsePushRequest,
  type BroadcastRequest,
  type ServerLimits,
  type ServerOptions,
  type ServerStats,
  type TransportName,
  type TransportServer,
} from './contract.ts';
import { Mailbox } from './mailbox.ts';
import { ServerMetrics } from './metrics.ts';
import { BroadcastSequence, startPushEvents, stopPushEvents, type PushTarget } from './push-stream.ts';
import {
  ClientGoneError,
  readBody,
  requestUrl,
  sendError,
  sendJson,
  sendEmpty,
  STATUS_BY_CODE,
  type ServerRequest,
  type ServerResponse,
} from './http-responses.ts';
import { OriginPolicy, addCorsHeaders, answerPreflight, requestOrigin } from './origin.ts';
import { createHttpListener, type HttpListener } from './http-listener.ts';

export interface HttpClient extends PushTarget {
  readonly id: string;
  readonly mailbox: Mailbox;
  lastSeenMs: number;
  /** Open deliveries (a held poll, an SSE stream): a client with one is never expired. */
  openDeliveries: number;
}

export interface DeliveryContext {
  req: ServerRequest;
  res: ServerResponse;
  url: URL;
  client: HttpClient;
  metrics: ServerMetrics;
  limits: ServerLimits;
  /** Acknowledges every message up to `id`; a resume from an evicted point is counted. */
  acknowledge(id: number): void;
}

export interface DeliveryRoute {
  /** ROUTES.messages or ROUTES.events. */
  readonly path: string;
  /** Answers a GET on `path` for a known client. */
  handle(context: DeliveryContext): void;
  /** Graceful stop: answers or ends every open delivery. */
  closeAll(): void;
}

/** How long a graceful stop waits for open exchanges before it closes their connections. */
const CLOSE_GRACE_MS = 2_000;

export class MailboxHttpServer implements TransportServer {
  private readonly listener: HttpListener;
  private readonly metrics: ServerMetrics;
  private readonly clients = new Map<string, HttpClient>();
  private readonly limits: ServerLimits;
  private readonly broadcasts: BroadcastSequence;
  private readonly origins: OriginPolicy;
  private evictedByForgotten = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly transport: TransportName,
    private readonly delivery: DeliveryRoute,
    options: ServerOptions,
  ) {
    this.limits = options.limits;
    this.metrics = new ServerMetrics(transport);
    this.broadcasts = new BroadcastSequence(this.metrics);
    this.origins = new OriginPolicy(options.allowOrigins);
    const settings = { limits: this.limits, metrics: this.metrics, ...(options.tls === undefined ? {} : { tls: options.tls }) };
    this.listener = createHttpListener(options.httpVersion ?? '1.1', settings, (req, res) => {
      this.route(req, res).catch((error: unknown) => this.fail(res, error));
    });
  }

  async listen(port: number, host: string, exclusive = false): Promise<number> {
    const bound = await this.listener.listen(port, host, exclusive);
    const sweepEveryMs = Math.max(100, Math.min(this.limits.clientTtlMs / 4, 10_000));
    this.sweeper = setInterval(() => this.expireClients(), sweepEveryMs);
    this.sweeper.unref();
    return bound;
  }

  stats(): ServerStats {
    let evicted = this.evictedByForgotten;
    for (const client of this.clients.values()) evicted += client.mailbox.evictedDelivered;
    this.metrics.counters.evictedDelivered = evicted;
    return this.metrics.snapshot(this.clients.size);
  }

  broadcast(request: BroadcastRequest): number {
    const text = this.broadcasts.next(request.sizeBytes);
    let queued = 0;
    for (const client of this.clients.values()) {
      if (this.enqueue(client, text)) queued += 1;
    }
    return queued;
  }

  async close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    for (const client of this.clients.values()) stopPushEvents(client);
    this.delivery.closeAll();
    await this.listener.close(CLOSE_GRACE_MS);
  }

  /** Queues a message for a client; false (and counted) when the mailbox refused it. */
  private enqueue(client: HttpClient, text: string): boolean {
    try {
      client.mailbox.enqueue(text);
      return true;
    } catch (error) {
      if (error instanceof ContractError) {
        this.metrics.error(error.code);
        return false;
      }
      throw error;
    }
  }

  private async route(req: ServerRequest, res: ServerResponse): Promise<void> {
    this.metrics.counters.requests += 1;
    if (!this.origins.allows(requestOrigin(req))) {
      throw new ContractError('origin-not-allowed', `origin ${requestOrigin(req)} is not allowed: start the server with --allow-origin to allow it`);
    }
    addCorsHeaders(req, res);
    const url = requestUrl(req);
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') return answerPreflight(req, res);
    switch (url.pathname) {
      case ROUTES.clients:
        if (method === 'POST') return this.register(req, res);
        if (method === 'DELETE') return this.unregister(res, this.client(url));
        throw this.methodNotAllowed(res, 'POST, DELETE');
      case ROUTES.messages:
        if (method === 'POST') return this.receive(req, res, this.client(url));
        if (method === 'GET' && this.delivery.path === ROUTES.messages) return this.deliver(req, res, url);
        throw this.methodNotAllowed(res, this.delivery.path === ROUTES.messages ? 'GET, POST' : 'POST');
      case ROUTES.push:
        if (method === 'POST') return this.push(req, res, this.client(url));
        throw this.methodNotAllowed(res, 'POST');
      case ROUTES.broadcast:
        if (method === 'POST') return this.broadcastRoute(req, res);
        throw this.methodNotAllowed(res, 'POST');
      case ROUTES.stats:
        if (method === 'GET') return sendJson(res, 200, this.stats());
        throw this.methodNotAllowed(res, 'GET');
      default:
        if (url.pathname === this.delivery.path) {
          if (method === 'GET') return this.deliver(req, res, url);
          throw this.methodNotAllowed(res, 'GET');
        }
        throw new ContractError('not-found', `no route ${url.pathname}: see README for the routes of the ${this.transport} server`);
    }
  }

  private methodNotAllowed(res: ServerResponse, allow: string): ContractError {
    res.setHeader('Allow', allow);
    return new ContractError('method-not-allowed', `method not allowed here; allowed: ${allow}`);
  }

  private client(url: URL): HttpClient {
    const id = url.searchParams.get('client');
    if (id === null || id === '') throw new ContractError('bad-request', 'the client query parameter is required (register with POST /clients)');
    const client = this.clients.get(id);
    if (client === undefined) {
      throw new ContractError('unknown-client', `unknown client id "${id}": it never registered or expired; register again with POST /clients`);
    }
    client.lastSeenMs = Date.now();
    return client;
  }

  private async register(req: ServerRequest, res: ServerResponse): Promise<void> {
    await readBody(req, this.limits.maxMessageBytes);
    if (this.clients.size >= this.limits.maxClients) {
      throw new ContractError('too-many-clients', `the server holds its maximum of ${this.limits.maxClients} clients`);
    }
    const id = randomUUID();
    this.clients.set(id, {
      id,
      mailbox: new Mailbox(this.limits.mailboxCapacity, this.limits.mailboxCapacityBytes),
      lastSeenMs: Date.now(),
      openDeliveries: 0,
      pushSeq: 0,
      pushStreams: new Set(),
    });
    sendJson(res, 201, { clientId: id });
  }

  private unregister(res: ServerResponse, client: HttpClient): void {
    this.forget(client);
    sendEmpty(res, 204);
  }

  private async receive(req: ServerRequest, res: ServerResponse, client: HttpClient): Promise<void> {
    const message = await readBody(req, this.limits.maxMessageBytes);
    this.metrics.counters.messagesIn += 1;
    const text = echoReply(message);
    client.mailbox.enqueue(text); // a full mailbox throws: the sender gets 429 and the message is not taken
    sendEmpty(res, 202);
  }

  private async push(req: ServerRequest, res: ServerResponse, client: HttpClient): Promise<void> {
    const request = parsePushRequest(parseJsonObject(await readBody(req, this.limits.maxMessageBytes)), this.limits);
    startPushEvents(client, request, this.metrics, this.limits.maxPushStreams, (text) => this.enqueue(client, text));
    sendEmpty(res, 202);
  }

  private async broadcastRoute(req: ServerRequest, res: ServerResponse): Promise<void> {
    const request = parseBroadcastRequest(parseJsonObject(await readBody(req, this.limits.maxMessageBytes)), this.limits);
    sendJson(res, 202, { clients: this.broadcast(request) });
  }

  private deliver(req: ServerRequest, res: ServerResponse, url: URL): void {
    const client = this.client(url);
    client.openDeliveries += 1;
    res.once('close', () => {
      client.openDeliveries -= 1;
      client.lastSeenMs = Date.now();
    });
    const acknowledge = (id: number): void => {
      if (!client.mailbox.acknowledge(id)) this.metrics.error('resume-gap');
    };
    this.delivery.handle({ req, res, url, client, metrics: this.metrics, limits: this.limits, acknowledge });
  }

  private forget(client: HttpClient): void {
    stopPushEvents(client);
    this.evictedByForgotten += client.mailbox.evictedDelivered;
    this.clients.delete(client.id);
  }

  private expireClients(): void {
    const oldest = Date.now() - this.limits.clientTtlMs;
    for (const client of this.clients.values()) {
      if (client.openDeliveries === 0 && client.lastSeenMs < oldest) this.forget(client);
    }
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (error instanceof ClientGoneError) {
      this.metrics.error('socket');
      res.destroy();
      return;
    }
    if (error instanceof ContractError) {
      this.metrics.error(error.code);
      sendError(res, STATUS_BY_CODE[error.code], error.code, error.message);
      return;
    }
    this.metrics.error('internal');
    sendError(res, 500, 'internal', error instanceof Error ? error.message : String(error));
  }
}
