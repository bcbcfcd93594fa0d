/**
 * WebSocket client on the `ws` package: text messages are echoed by the server, a binary
 * message carries a control request (push, broadcast). Its socket is tapped from the first byte
 * of the upgrade request, so the handshake counts as setup. The upgrade carries an Origin header,
 * as a browser's always does (see ClientOptions.origin). With ClientOptions.tls it speaks wss:
 * TLS (ALPN http/1.1) on the tapped socket, the records split by the same accountant.
 */
import WebSocket from 'ws';
import { ROUTES, clockNowMs, type BroadcastRequest, type PushRequest } from '../../servers/contract.ts';
import { ClientBase, SENT, type TransportClient } from './transport-client.ts';
import type net from 'node:net';
import { connectionClosed, openClientConnection } from './secure-connection.ts';

/** The origin of a page served where the WebSocket is: ws://host:port gives http://host:port, wss:// https://. */
export function ownOrigin(url: URL): string {
  return `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`;
}

export class WebSocketClient extends ClientBase implements TransportClient {
  readonly transport = 'websocket' as const;
  private socket: WebSocket | undefined;
  /** The connection under the WebSocket (its TCP or TLS socket), whose close ends close(). */
  private connection: net.Socket | undefined;

  get url(): string {
    return this.options.url ?? `${this.options.tls === undefined ? 'ws' : 'wss'}://${this.options.host}:${this.options.port}${ROUTES.websocket}`;
  }

  connect(): Promise<void> {
    return this.firstOpen(() => this.open());
  }

  /** Opens the WebSocket; one that closes without close() reconnects on its own. */
  private open(): Promise<void> {
    const target = new URL(this.url);
    const secure = target.protocol === 'wss:';
    if (secure !== (this.options.tls !== undefined))
      return Promise.reject(new Error(`${target.href}: a wss:// URL goes with the client's TLS options, a ws:// one without`));
    const origin = this.options.origin === undefined ? ownOrigin(target) : this.options.origin;
    const socket = new WebSocket(this.url, {
      perMessageDeflate: this.options.perMessageDeflate,
      ...(origin === null ? {} : { origin }),
      createConnection: () =>
        (this.connection = openClientConnection(
          this.wire,
          'websocket',
          this.options.tls,
          { host: target.hostname, port: Number(target.port || (secure ? 443 : 80)), ...this.localEndpoint(), noDelay: true },
          ['http/1.1'],
        )),
    });
    this.socket = socket;
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) this.onMessage(data, clockNowMs());
    });
    return this.opened(socket, 'open', () => this.open());
  }

  send(message: string | Buffer): Promise<void> {
    return this.sendFrame(message, false);
  }

  requestPush(request: PushRequest): Promise<void> {
    return this.sendFrame(JSON.stringify({ op: 'push', ...request }), true);
  }

  requestBroadcast(request: BroadcastRequest): Promise<void> {
    return this.sendFrame(JSON.stringify({ op: 'broadcast', ...request }), true);
  }

  interrupt(): void {
    this.socket?.terminate();
  }

  pauseReading(paused: boolean): void {
    if (paused) this.socket?.pause();
    else this.socket?.resume();
  }

  /** Closes the WebSocket (its closing handshake); resolves once its connection has closed and every byte is counted. */
  async close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    const connection = this.connection;
    if (socket !== undefined && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(1000);
      });
    }
    if (connection !== undefined) await connectionClosed(connection);
  }

  /** Hands the frame to `ws` (no write callback: a write that fails closes the socket, and its error is counted). */
  private sendFrame(message: string | Buffer, binary: boolean): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return Promise.reject(new Error('the WebSocket is not open'));
    // ws frames (and masks) a message into a buffer of its own at once, except while it compresses: then it keeps it
    const kept = typeof message !== 'string' && this.options.perMessageDeflate ? Buffer.from(message) : message;
    socket.send(binary && typeof kept === 'string' ? Buffer.from(kept) : kept, { binary });
    return SENT;
  }
}
