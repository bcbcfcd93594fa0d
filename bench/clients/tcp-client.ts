/** TCP client (plain, or over TLS with ClientOptions.tls) with the length-prefixed frames of servers/tcp-framing.ts. */
import type net from 'node:net';
import { clockNowMs, type BroadcastRequest, type PushRequest } from '../../servers/contract.ts';
import { TcpFrameDecoder, encodeTcpFrame } from '../../servers/tcp-framing.ts';
import { ClientBase, SENT, countError, type TransportClient } from './transport-client.ts';
import { connectionClosed, openClientConnection, openEvent } from './secure-connection.ts';

/** Far above any message the servers allow: the client never refuses what a server sends. */
const MAX_FRAME_BYTES = 0x7fff_ffff;

export class TcpClient extends ClientBase implements TransportClient {
  readonly transport = 'tcp' as const;
  private socket: net.Socket | undefined;

  connect(): Promise<void> {
    return this.firstOpen(() => this.open());
  }

  /** Opens the connection; one that closes without close() reconnects on its own. */
  private open(): Promise<void> {
    const socket = openClientConnection(this.wire, 'tcp', this.options.tls, {
      host: this.options.host,
      port: this.options.port,
      ...this.localEndpoint(),
      noDelay: true,
    });
    this.socket = socket;
    const decoder = new TcpFrameDecoder(MAX_FRAME_BYTES);
    const onFrame = (control: boolean, payload: Buffer): void => {
      if (!control) this.onMessage(payload, receivedAtMs);
      else countError(this.errors, new Error(`server error frame: ${payload.toString('utf8')}`));
    };
    let receivedAtMs = 0;
    socket.on('data', (chunk: Buffer) => {
      receivedAtMs = clockNowMs();
      decoder.decode(chunk, onFrame, () => {}); // the client's limit is above any frame a server may send
    });
    return this.opened(socket, openEvent(this.options.tls), () => this.open());
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

  interrupt(): void {
    this.socket?.destroy();
  }

  pauseReading(paused: boolean): void {
    if (paused) this.socket?.pause();
    else this.socket?.resume();
  }

  close(): Promise<void> {
    this.closing = true;
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return Promise.resolve();
    const closed = connectionClosed(socket);
    socket.end();
    return closed;
  }

  /** Hands the frame to the socket (no write callback: a write that fails closes the socket, and its error is counted). */
  private write(frame: Buffer): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || !socket.writable) return Promise.reject(new Error('the TCP connection is not open'));
    socket.write(frame);
    return SENT;
  }
}
