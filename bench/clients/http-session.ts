/**
 * The HTTP side of a polling or SSE client: its own keep-alive connections (a browser keeps
 * a few per host), every socket tapped for the byte split, and the wirecost routes.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ROUTES, type BroadcastRequest, type PushRequest } from '../../servers/contract.ts';
import { openTappedConnection, type ClientOptions, type ClientWire } from './transport-client.ts';

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

export class HttpSession {
  readonly agent: http.Agent;
  clientId = '';
  /** Aborts whatever is in flight when the client closes. */
  private readonly aborter = new AbortController();
  /** Every socket not yet closed, so close() can wait for them all. */
  private readonly sockets = new Set<Socket>();

  /**
   * `maxSockets`: two for a client (one may be held by a long poll or an SSE stream while a
   * message goes out); more for a session that sets up many clients at once.
   */
  constructor(
    private readonly options: ClientOptions,
    wire: ClientWire,
    maxSockets = 2,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
    this.agent.createConnection = (connectOptions: http.ClientRequestArgs): Duplex => {
      const socket = openTappedConnection(wire, 'http', {
        host: connectOptions.host ?? options.host,
        port: Number(connectOptions.port ?? options.port),
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        noDelay: true,
      });
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      return socket;
    };
  }

  /** `path` with this client's id (and more query parameters). */
  path(route: string, query: Record<string, string | number> = {}): string {
    const params = new URLSearchParams({ client: this.clientId, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
    return `${route}?${params.toString()}`;
  }

  /** Opens a request; the caller reads the response (used for streams and held polls). */
  open(method: string, path: string, headers: http.OutgoingHttpHeaders = {}): http.ClientRequest {
    return http.request({ agent: this.agent, host: this.options.host, port: this.options.port, method, path, headers, signal: this.aborter.signal });
  }

  /** A whole request and response. */
  request(method: string, path: string, body?: string, contentType = 'text/plain; charset=utf-8'): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = body === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body, 'utf8') };
      const req = this.open(method, path, headers);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(body);
    });
  }

  /** Registers a client; returns its id (a session that is one client keeps it as clientId). */
  async register(): Promise<string> {
    const answer = await this.request('POST', ROUTES.clients);
    if (answer.status !== 201) throw new HttpStatusError(answer.status, answer.body, 'POST /clients');
    return (JSON.parse(answer.body) as { clientId: string }).clientId;
  }

  async send(message: string): Promise<void> {
    const answer = await this.request('POST', this.path(ROUTES.messages), message);
    if (answer.status !== 202) throw new HttpStatusError(answer.status, answer.body, 'POST /messages');
  }

  async requestPush(request: PushRequest, clientId = this.clientId): Promise<void> {
    const answer = await this.request('POST', `${ROUTES.push}?client=${encodeURIComponent(clientId)}`, JSON.stringify(request), 'application/json');
    if (answer.status !== 202) throw new HttpStatusError(answer.status, answer.body, 'POST /push');
  }

  async requestBroadcast(request: BroadcastRequest): Promise<void> {
    const answer = await this.request('POST', ROUTES.broadcast, JSON.stringify(request), 'application/json');
    if (answer.status !== 202) throw new HttpStatusError(answer.status, answer.body, 'POST /broadcast');
  }

  /** Aborts what is in flight and closes every socket (the server forgets the client after its TTL). */
  /** Destroys every socket: what is in flight fails, and the next request opens a new connection. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Pauses (or resumes) reading on every socket. */
  pauseReading(paused: boolean): void {
    for (const socket of this.sockets) {
      if (paused) socket.pause();
      else socket.resume();
    }
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  async close(): Promise<void> {
    const closed = [...this.sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    this.aborter.abort();
    this.agent.destroy();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
  }
}
