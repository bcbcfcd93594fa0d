/**
 * Plain TCP with length-prefixed frames (see tcp-framing.ts): the floor any transport costs.
 * A message frame is echoed; a control frame starts a push or a broadcast. A frame over
 * limits.maxMessageBytes, bad UTF-8 or a bad control request is answered with an error control
 * frame `{"code","error"}`; the frame is skipped and the connection goes on. A frame that does
 * not arrive whole within limits.frameTimeoutMs of its first byte gets an error frame
 * `{"code":"timeout"}` and the connection is closed; an idle connection (no frame begun) stays.
 * The decoder holds at most one frame of limits.maxMessageBytes. With options.tls the same frames
 * go over TLS (no ALPN): the counters count the TCP sockets, so bytes are the ciphertext.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  ContractError,
  echoReply,
  parseControlRequest,
  type BroadcastRequest,
  type ErrorCause,
  type ServerLimits,
  type ServerOptions,
  type ServerStats,
  type TransportServer,
} from './contract.ts';
import { ServerMetrics } from './metrics.ts';
import { BroadcastSequence, startPushEvents, stopPushEvents, type PushTarget } from './push-stream.ts';
import { TcpFrameDecoder, encodeTcpFrame } from './tcp-framing.ts';
import { countConnections, listenOn } from './listen.ts';
import { countTlsClientErrors, tlsServerOptions } from './tls.ts';

interface Connection extends PushTarget {
  socket: net.Socket;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class TcpTransportServer implements TransportServer {
  readonly transport = 'tcp' as const;
  private readonly server: net.Server | tls.Server;
  private readonly metrics = new ServerMetrics('tcp');
  private readonly connections = new Set<Connection>();
  private readonly limits: ServerLimits;
  private readonly broadcasts = new BroadcastSequence(this.metrics);

  constructor(options: ServerOptions) {
    this.limits = options.limits;
    const accept = (socket: net.Socket): void => this.accept(socket);
    if (options.tls === undefined) {
      this.server = net.createServer({ noDelay: true }, accept);
    } else {
      const secure = tls.createServer({ noDelay: true, ...tlsServerOptions(options.tls) }, accept);
      countTlsClientErrors(secure, this.metrics);
      this.server = secure;
    }
    countConnections(this.server, this.metrics, this.limits.maxConnections);
  }

  async listen(port: number, host: string, exclusive = false): Promise<number> {
    return listenOn(this.server, port, host, exclusive);
  }

  stats(): ServerStats {
    return this.metrics.snapshot(this.connections.size);
  }

  broadcast(request: BroadcastRequest): number {
    const frame = encodeTcpFrame(this.broadcasts.next(request.sizeBytes));
    let sent = 0;
    for (const connection of this.connections) if (this.send(connection, frame)) sent += 1;
    return sent;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) {
      stopPushEvents(connection);
      connection.socket.end();
    }
    const grace = setTimeout(() => {
      for (const connection of this.connections) connection.socket.destroy();
    }, 2_000);
    await closed;
    clearTimeout(grace);
  }

  /** A connection ready for frames: the TCP socket, or the TLS socket once its handshake is done. */
  private accept(socket: net.Socket): void {
    if (this.connections.size >= this.limits.maxClients) {
      this.metrics.error('too-many-clients');
      closeWithFrame(socket, errorFrame('too-many-clients', `the server holds its maximum of ${this.limits.maxClients} connections`));
      return;
    }
    const connection: Connection = { socket, pushSeq: 0, pushStreams: new Set() };
    this.connections.add(connection);
    const decoder = new TcpFrameDecoder(this.limits.maxMessageBytes);
    let frameTimer: NodeJS.Timeout | undefined;
    const stalled = (): void => {
      this.metrics.error('timeout');
      closeWithFrame(socket, errorFrame('timeout', `a frame must arrive whole within ${this.limits.frameTimeoutMs} ms of its first byte`));
    };
    socket.on('data', (chunk: Buffer) => {
      const frames = decoder.push(chunk);
      // the clock runs from a frame's first byte: a finished frame restarts it for the next one
      if (frames.length > 0 || !decoder.hasPartialFrame) {
        clearTimeout(frameTimer);
        frameTimer = undefined;
      }
      if (decoder.hasPartialFrame && frameTimer === undefined) frameTimer = setTimeout(stalled, this.limits.frameTimeoutMs);
      for (const frame of frames) {
        try {
          if (frame.kind === 'too-large') {
            throw new ContractError('too-large', `the frame carries ${frame.length} bytes; at most ${this.limits.maxMessageBytes} are allowed`);
          }
          const text = decodeUtf8(frame.payload);
          if (frame.kind === 'message') {
            this.metrics.counters.messagesIn += 1;
            this.send(connection, encodeTcpFrame(echoReply(text)));
          } else {
            this.control(connection, text);
          }
        } catch (error) {
          if (!(error instanceof ContractError)) throw error;
          this.metrics.error(error.code);
          this.sendError(connection, error);
        }
      }
    });
    socket.on('error', () => this.metrics.error('socket'));
    socket.on('close', () => {
      clearTimeout(frameTimer);
      stopPushEvents(connection);
      this.connections.delete(connection);
    });
  }

  private control(connection: Connection, text: string): void {
    const request = parseControlRequest(text, this.limits);
    if (request.op === 'broadcast') {
      this.broadcast(request);
      return;
    }
    startPushEvents(connection, request, this.metrics, this.limits.maxPushStreams, (text) => this.send(connection, encodeTcpFrame(text)));
  }

  /**
   * Writes an error frame. A client that sends bad frames without reading the answers is closed
   * (and counted) once its unread output passes limits.maxBufferedBytes: the answers are never
   * skipped silently, and never pile up.
   */
  private sendError(connection: Connection, error: ContractError): void {
    const { socket } = connection;
    if (socket.destroyed || !socket.writable) return;
    if (socket.writableLength > this.limits.maxBufferedBytes) {
      this.metrics.error('closed-slow-consumer');
      socket.destroy();
      return;
    }
    socket.write(errorFrame(error.code, error.message));
  }

  /** Writes a message frame unless the client is gone or too far behind (then it is counted). */
  private send(connection: Connection, frame: Buffer): boolean {
    if (connection.socket.destroyed || !connection.socket.writable) return false;
    if (connection.socket.writableLength > this.limits.maxBufferedBytes) {
      this.metrics.error('dropped-slow-consumer');
      return false;
    }
    connection.socket.write(frame);
    this.metrics.counters.messagesOut += 1;
    return true;
  }
}

function decodeUtf8(payload: Buffer): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new ContractError('bad-request', 'the message is not valid UTF-8 text');
  }
}

function errorFrame(code: ErrorCause, message: string): Buffer {
  return encodeTcpFrame(JSON.stringify({ code, error: message }), true);
}

/** Writes a last frame, then closes the connection once it is flushed. */
function closeWithFrame(socket: net.Socket, frame: Buffer): void {
  socket.once('finish', () => socket.destroy());
  socket.end(frame);
}

export function createTcpServer(options: ServerOptions): TcpTransportServer {
  return new TcpTransportServer(options);
}
