/** The one interface every transport client implements, and what they share. */
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import type { BroadcastRequest, PushRequest, TransportName } from '../../servers/contract.ts';
import { ConnectionAccountant, emptyWireBytes, tapSocket, type AccountantOptions, type WireBytes, type WireProtocol } from '../wire.ts';

/**
 * Called for every message the client receives, with clockNowMs() at receipt. A message is
 * UTF-8 text: WebSocket and TCP clients hand over its bytes as they came (the driver reads only
 * the envelope: decoding every message would cost it more than the server), HTTP clients the
 * text they decoded anyway.
 */
export type MessageListener = (message: string | Buffer, receivedAtMs: number) => void;

/** A received message as text. */
export function messageText(message: string | Buffer): string {
  return typeof message === 'string' ? message : message.toString('utf8');
}

export interface ClientOptions {
  host: string;
  port: number;
  /** websocket: the full URL to connect to (a server the suite did not start); default ws://host:port/ws. */
  url?: string;
  /** short-poll: pause between the end of one poll and the next; 0 polls again at once. */
  pollIntervalMs: number;
  /** websocket: offer permessage-deflate. */
  perMessageDeflate: boolean;
  /**
   * websocket: the Origin header of the upgrade, as a browser always sends one. Undefined: the
   * target's own origin (ws://host:port is http://host:port); null: no Origin header at all.
   */
  origin?: string | null;
  /** HTTP transports: a `Cookie` of this many bytes (name=value) on every request, as a site's session cookie rides on every poll. */
  cookieBytes?: number;
  /** Local address for the client's sockets (several loopback addresses pass the ephemeral-port limit). */
  localAddress?: string;
  /**
   * With localAddress: the local port of the client's first connection (bench/fleet.ts chooses
   * one per client). Binding to port 0 makes the kernel search its range, which slows down more
   * and more as tens of thousands of ports of one address are in use; a port given is one step.
   * One taken already (another process's, a connection still in TIME_WAIT) gives way to the kernel's choice.
   */
  localPort?: number;
  /** Keep the first this-many bytes each way of the client's first connection (see WireCapture). */
  captureBytes?: number;
  /**
   * false: the sockets are not tapped, and no byte is split (the driver benchmark's measure of
   * what the accounting costs; never in a run whose bytes are reported).
   */
  tap?: boolean;
  /**
   * TLS on every connection (https, wss, TLS over TCP), of this version only; the server's
   * certificate is verified against `ca` (PEM; absent: Node's own CAs) and the host connected to.
   */
  tls?: ClientTls;
  /**
   * short-poll, long-poll, sse: '2' speaks HTTP/2 (over TLS, as browsers do): every request of the
   * client is a stream of one connection. Absent: HTTP/1.1.
   */
  http?: '2';
  /** Keep the header series (each head's header bytes, see AccountantOptions.headerSeries) of the client's first connection. */
  headerSeries?: boolean;
}

/** A client's TLS: the one version it offers, and the CA it trusts (PEM). */
export interface ClientTls {
  version: '1.2' | '1.3';
  ca?: string;
}

/** The first bytes of one connection, each way, as the tap saw them. */
export class WireCapture {
  private readonly chunks = { up: [] as Buffer[], down: [] as Buffer[] };
  private readonly kept = { up: 0, down: 0 };

  constructor(readonly limitBytes: number) {}

  keep(direction: 'up' | 'down', chunk: Buffer): void {
    const room = this.limitBytes - this.kept[direction];
    if (room <= 0) return;
    const part = chunk.subarray(0, room);
    this.chunks[direction].push(Buffer.from(part));
    this.kept[direction] += part.length;
  }

  bytes(direction: 'up' | 'down'): Buffer {
    return Buffer.concat(this.chunks[direction]);
  }
}

/** An accountant that also keeps the connection's first bytes. */
export class CapturingAccountant extends ConnectionAccountant {
  constructor(
    protocol: WireProtocol,
    sink: WireBytes,
    private readonly capture: WireCapture,
    options: AccountantOptions = {},
  ) {
    super(protocol, sink, options);
  }

  override written(chunk: Buffer): void {
    this.capture.keep('up', chunk);
    super.written(chunk);
  }

  override read(chunk: Buffer): void {
    this.capture.keep('down', chunk);
    super.read(chunk);
  }
}

/** Bytes (split by wire.ts) and TCP connections of one client. */
export interface ClientWire {
  bytes: WireBytes;
  connectionsOpened: number;
  /** Set when the client keeps a sample of its first connection. */
  capture?: WireCapture;
  /** Bytes the sockets themselves reported (bytesWritten/bytesRead at close), to check the split against. */
  socketBytes: { up: number; down: number };
  /** Whether the client's sockets are tapped (see ClientOptions.tap). */
  tapped: boolean;
  /** Set when the client keeps the header series of its first connection (ClientOptions.headerSeries). */
  headerSeries?: { requests: number[]; responses: number[] };
}

export interface PollCounts {
  /** Poll requests answered (short-poll and long-poll). */
  total: number;
  /** Those that carried no message. */
  empty: number;
}

export interface TransportClient {
  readonly transport: TransportName;
  readonly wire: ClientWire;
  readonly polls: PollCounts;
  /** Errors the client met and recovered from (a failed poll, a refused message), by message. */
  readonly errors: Map<string, number>;
  onMessage: MessageListener;
  /**
   * Called when the client came back by itself after losing its server (reconnected, or
   * registered again): what the server knew of it (a push it asked for) is gone.
   */
  onReconnected: () => void;
  /** Opens the connection or registers, and starts receiving (a polling client waits for start()). */
  connect(): Promise<void>;
  /** The run has started: a polling client starts to poll (the others receive from connect() on). */
  start?(): void;
  /**
   * Sends one message to echo, UTF-8 text (bytes are sent as they are); resolves once the
   * transport has taken it. A client that took it at once returns SENT, which needs no watching.
   * The client keeps no reference to a Buffer message once send() returns: the caller may
   * write the next message into it.
   */
  send(message: string | Buffer): Promise<void>;
  requestPush(request: PushRequest): Promise<void>;
  requestBroadcast(request: BroadcastRequest): Promise<void>;
  /** Stops receiving and closes every connection; resolves when they are closed. */
  close(): Promise<void>;
  /**
   * Drops every connection at once, as a client whose network vanished. HTTP clients come back
   * on their own (a poll retries, a stream resumes with Last-Event-ID); WebSocket and TCP
   * clients do not reconnect.
   */
  interrupt(): void;
  /** Stops reading (true) or reads again (false): a slow consumer. */
  pauseReading(paused: boolean): void;
}

/** What send() returns when the transport took the message at once: a write that fails later closes the connection, and its error is counted there. */
export const SENT: Promise<void> = Promise.resolve();

/** How long a client waits before each attempt to come back after losing its connection or its server. */
export const RECONNECT_AFTER_MS = 100;

/** What every client keeps, whatever its transport: its bytes, polls, errors and listeners. */
export abstract class ClientBase {
  readonly wire: ClientWire;
  readonly polls: PollCounts = { total: 0, empty: 0 };
  readonly errors = new Map<string, number>();
  onMessage: MessageListener = () => {};
  onReconnected: () => void = () => {};
  /** Set by close(): nothing reconnects after it. */
  protected closing = false;

  /** Whether the client's chosen local port was tried (it is for the first connection only). */
  private localPortTried = false;

  constructor(protected readonly options: ClientOptions) {
    this.wire = newClientWire(options);
  }

  /** The local end of the next connection: the address, and the chosen port for the first one. */
  protected localEndpoint(): { localAddress?: string; localPort?: number } {
    if (this.options.localAddress === undefined) return {};
    const port = this.localPortTried ? undefined : this.options.localPort;
    this.localPortTried = true;
    return port === undefined ? { localAddress: this.options.localAddress } : { localAddress: this.options.localAddress, localPort: port };
  }

  /** The first connection: from the chosen local port, or, where it is taken, from one the kernel picks (that attempt's error not counted). */
  protected async firstOpen(open: () => Promise<void>): Promise<void> {
    try {
      await open();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (this.options.localPort === undefined || (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL')) throw error;
      const key = error instanceof Error ? error.message : String(error);
      const count = (this.errors.get(key) ?? 1) - 1;
      if (count > 0) this.errors.set(key, count);
      else this.errors.delete(key);
      await open();
    }
  }

  /**
   * Resolves once `connection` emits `openEvent` (rejects on an error before), and from then on
   * reconnects through `reopen` when it closes without close(). Only a connection that was open
   * comes back this way: a failed attempt is retried by reconnect() itself.
   */
  protected opened(connection: EventEmitter, openEvent: string, reopen: () => Promise<void>): Promise<void> {
    connection.on('error', (error: unknown) => countError(this.errors, error));
    return new Promise((resolve, reject) => {
      connection.once(openEvent, () => {
        connection.once('close', () => {
          if (!this.closing) void this.reconnect(reopen);
        });
        resolve();
      });
      connection.once('error', reject);
    });
  }

  /** Tries `open` every RECONNECT_AFTER_MS until it succeeds (then tells onReconnected) or the client closes. */
  protected async reconnect(open: () => Promise<void>): Promise<void> {
    while (!this.closing) {
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_AFTER_MS));
      if (this.closing) return;
      try {
        await open();
        this.onReconnected();
        return;
      } catch (error) {
        countError(this.errors, error);
      }
    }
  }
}

export function newClientWire(options: ClientOptions): ClientWire {
  const wire: ClientWire = { bytes: emptyWireBytes(), connectionsOpened: 0, socketBytes: { up: 0, down: 0 }, tapped: options.tap !== false };
  if (options.captureBytes !== undefined && options.captureBytes > 0) wire.capture = new WireCapture(options.captureBytes);
  if (options.headerSeries === true) wire.headerSeries = { requests: [], responses: [] };
  return wire;
}

/**
 * The accountant of the client's next connection: the first one also keeps its first bytes, when
 * the client keeps a sample, and lists its heads, when it keeps a header series.
 */
export function nextAccountant(wire: ClientWire, protocol: WireProtocol, options: AccountantOptions = {}): ConnectionAccountant {
  const first = wire.connectionsOpened === 0;
  const accounting = first && wire.headerSeries !== undefined ? { ...options, headerSeries: wire.headerSeries } : options;
  return first && wire.capture !== undefined
    ? new CapturingAccountant(protocol, wire.bytes, wire.capture, accounting)
    : new ConnectionAccountant(protocol, wire.bytes, accounting);
}

/** Opens a TCP connection whose every byte is classified into `wire`. */
export function openTappedConnection(wire: ClientWire, protocol: WireProtocol, options: net.NetConnectOpts): net.Socket {
  const socket = net.connect(options);
  if (wire.tapped) tapSocket(socket, nextAccountant(wire, protocol));
  wire.connectionsOpened += 1;
  socket.once('close', () => {
    wire.socketBytes.up += socket.bytesWritten;
    wire.socketBytes.down += socket.bytesRead;
  });
  return socket;
}

export function countError(errors: Map<string, number>, error: unknown): void {
  const key = error instanceof Error ? error.message : String(error);
  errors.set(key, (errors.get(key) ?? 0) + 1);
}
