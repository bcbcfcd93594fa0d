/**
 * The contract's clients on node's own modules, for the servers the driver's clients cannot reach
 * (they speak plaintext HTTP/1.1, ws:// and plain TCP): polls and SSE over an HttpChannel (https,
 * HTTP/2), WebSocket with `ws` (wss, trusting a CA), TCP frames over `tls.connect`. Each does
 * what the contract asks of a client and no more: no reconnection, no byte accounting.
 */
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import tls from 'node:tls';
import WebSocket from 'ws';
import { ROUTES, clockNowMs, type BroadcastRequest, type PollResponse, type PushRequest, type TransportName } from '../servers/contract.ts';
import { TcpFrameDecoder, encodeTcpFrame } from '../servers/tcp-framing.ts';
import { SseParser } from '../bench/clients/sse-parser.ts';
import type { TransportClient } from '../bench/clients/transport-client.ts';
import { ANSWER_TIMEOUT_MS, openHttpChannel, type HttpChannel, type HttpRequest, type HttpTarget, type OpenResponse } from './http-channel.ts';

/** What the contract suite asks of a client, the driver's or one of these. */
export type ContractClient = Pick<TransportClient, 'onMessage' | 'connect' | 'send' | 'requestPush' | 'requestBroadcast' | 'close'>;

/** Where a client connects: the server's address, its CA when it speaks TLS, and its HTTP version. */
export type NodeClientTarget = HttpTarget;

const SHORT_POLL_INTERVAL_MS = 20;
const RETRY_AFTER_ERROR_MS = 100;

/** What the polls and SSE share: a registered client id, and POSTs that must answer `expected`. */
abstract class NodeHttpClient implements ContractClient {
  onMessage: ContractClient['onMessage'] = () => {};
  protected readonly channel: HttpChannel;
  protected clientId = '';
  protected closing = false;

  constructor(target: NodeClientTarget) {
    this.channel = openHttpChannel(target);
  }

  protected async expect(request: HttpRequest, status: number): Promise<string> {
    const answer = await this.channel.request(request);
    if (answer.status !== status) throw new Error(`${request.method} ${request.path} answered ${answer.status}: ${answer.body}`);
    return answer.body;
  }

  protected path(route: string): string {
    return `${route}?client=${this.clientId}`;
  }

  async connect(): Promise<void> {
    this.clientId = (JSON.parse(await this.expect({ method: 'POST', path: ROUTES.clients }, 201)) as { clientId: string }).clientId;
    await this.receive();
  }

  /** Starts receiving; resolves once it has. */
  protected abstract receive(): Promise<void>;

  async send(message: string | Buffer): Promise<void> {
    await this.expect({ method: 'POST', path: this.path(ROUTES.messages), body: message }, 202);
  }

  async requestPush(request: PushRequest): Promise<void> {
    await this.expect({ method: 'POST', path: this.path(ROUTES.push), body: JSON.stringify(request) }, 202);
  }

  async requestBroadcast(request: BroadcastRequest): Promise<void> {
    await this.expect({ method: 'POST', path: ROUTES.broadcast, body: JSON.stringify(request) }, 202);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.channel.request({ method: 'DELETE', path: this.path(ROUTES.clients) }).catch(() => {}); // a stopped server forgets by itself
    this.channel.close();
  }
}

/** Short polling (a poll every 20 ms after the last answer) or long polling (again at once). */
export class NodePollClient extends NodeHttpClient {
  private lastId = 0;

  constructor(
    target: NodeClientTarget,
    private readonly pauseMs: number,
  ) {
    super(target);
  }

  protected receive(): Promise<void> {
    void this.pollForever();
    return Promise.resolve();
  }

  private async pollForever(): Promise<void> {
    while (!this.closing) {
      try {
        const body = await this.expect({ method: 'GET', path: `${this.path(ROUTES.messages)}&after=${this.lastId}` }, 200);
        const receivedAtMs = clockNowMs();
        for (const message of (JSON.parse(body) as PollResponse).messages) {
          this.lastId = message.id;
          if (!this.closing) this.onMessage(message.data, receivedAtMs);
        }
        if (this.pauseMs > 0) await delay(this.pauseMs);
      } catch {
        if (!this.closing) await delay(RETRY_AFTER_ERROR_MS); // a stopped server: the test ends the client
      }
    }
  }
}

/** One SSE stream, opened once: a test's server is not lost midway. */
export class NodeSseClient extends NodeHttpClient {
  private stream: OpenResponse | undefined;

  protected async receive(): Promise<void> {
    const parser = new SseParser((event) => {
      if (!this.closing) this.onMessage(event.data, clockNowMs());
    });
    this.stream = await this.channel.open({ method: 'GET', path: this.path(ROUTES.events), headers: { accept: 'text/event-stream' } }, (chunk) =>
      parser.push(chunk),
    );
    if (this.stream.status !== 200) throw new Error(`GET ${ROUTES.events} answered ${this.stream.status}`);
  }

  override async close(): Promise<void> {
    this.closing = true;
    this.stream?.close();
    await super.close();
  }
}

/** A WebSocket (ws:// or, with a CA, wss://) on ROUTES.websocket: text to echo, binary control requests. */
export class NodeWebSocketClient implements ContractClient {
  onMessage: ContractClient['onMessage'] = () => {};
  private socket: WebSocket | undefined;

  constructor(private readonly target: NodeClientTarget) {}

  async connect(): Promise<void> {
    const scheme = this.target.ca === undefined ? 'ws' : 'wss';
    const socket = new WebSocket(`${scheme}://${this.target.host}:${this.target.port}${ROUTES.websocket}`, {
      perMessageDeflate: false,
      handshakeTimeout: ANSWER_TIMEOUT_MS,
      ...(this.target.ca === undefined ? {} : { ca: this.target.ca }),
    });
    socket.on('message', (data: Buffer) => this.onMessage(data, clockNowMs()));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    this.socket = socket;
  }

  private open(): WebSocket {
    if (this.socket === undefined) throw new Error('not connected');
    return this.socket;
  }

  send(message: string | Buffer): Promise<void> {
    this.open().send(message, { binary: false });
    return Promise.resolve();
  }

  requestPush(request: PushRequest): Promise<void> {
    this.open().send(Buffer.from(JSON.stringify({ op: 'push', ...request })), { binary: true });
    return Promise.resolve();
  }

  requestBroadcast(request: BroadcastRequest): Promise<void> {
    this.open().send(Buffer.from(JSON.stringify({ op: 'broadcast', ...request })), { binary: true });
    return Promise.resolve();
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close();
    const timer = setTimeout(() => socket.terminate(), 2_000);
    await closed;
    clearTimeout(timer);
  }
}

/** TCP frames (tcp-framing.ts) over plain TCP or, with a CA, TLS. */
export class NodeTcpClient implements ContractClient {
  onMessage: ContractClient['onMessage'] = () => {};
  private socket: net.Socket | undefined;

  constructor(private readonly target: NodeClientTarget) {}

  async connect(): Promise<void> {
    const { host, port, ca } = this.target;
    const socket = ca === undefined ? net.connect({ host, port }) : tls.connect({ host, port, ca });
    const decoder = new TcpFrameDecoder(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      const receivedAtMs = clockNowMs();
      for (const frame of decoder.push(chunk)) if (frame.kind === 'message') this.onMessage(frame.payload, receivedAtMs);
    });
    socket.setTimeout(ANSWER_TIMEOUT_MS, () => socket.destroy(new Error(`no connection within ${ANSWER_TIMEOUT_MS} ms`)));
    await new Promise<void>((resolve, reject) => {
      socket.once(ca === undefined ? 'connect' : 'secureConnect', () => resolve());
      socket.once('error', reject);
    });
    socket.setTimeout(0);
    socket.on('error', () => {}); // a stopped server resets it: close() ends the client
    this.socket = socket;
  }

  private write(frame: Buffer): Promise<void> {
    if (this.socket === undefined) throw new Error('not connected');
    this.socket.write(frame);
    return Promise.resolve();
  }

  send(message: string | Buffer): Promise<void> {
    return this.write(encodeTcpFrame(message));
  }

  requestPush(request: PushRequest): Promise<void> {
    return this.write(encodeTcpFrame(JSON.stringify({ op: 'push', ...request }), true));
  }

  requestBroadcast(request: BroadcastRequest): Promise<void> {
    return this.write(encodeTcpFrame(JSON.stringify({ op: 'broadcast', ...request }), true));
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.end();
    const timer = setTimeout(() => socket.destroy(), 2_000);
    await closed;
    clearTimeout(timer);
  }
}

export function createNodeClient(transport: TransportName, target: NodeClientTarget): ContractClient {
  switch (transport) {
    case 'short-poll':
      return new NodePollClient(target, SHORT_POLL_INTERVAL_MS);
    case 'long-poll':
      return new NodePollClient(target, 0);
    case 'sse':
      return new NodeSseClient(target);
    case 'websocket':
      return new NodeWebSocketClient(target);
    case 'tcp':
      return new NodeTcpClient(target);
  }
}
