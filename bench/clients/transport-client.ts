/** The one interface every transport client implements, and what they share. */
import net from 'node:net';
import type { BroadcastRequest, PushRequest, TransportName } from '../../servers/contract.ts';
import { ConnectionAccountant, emptyWireBytes, tapSocket, type WireBytes, type WireProtocol } from '../wire.ts';

/** Called for every message the client receives, with clockNowMs() at receipt. */
export type MessageListener = (text: string, receivedAtMs: number) => void;

export interface ClientOptions {
  host: string;
  port: number;
  /** websocket: the full URL to connect to (a server the suite did not start); default ws://host:port/ws. */
  url?: string;
  /** short-poll: pause between the end of one poll and the next; 0 polls again at once. */
  pollIntervalMs: number;
  /** websocket: offer permessage-deflate. */
  perMessageDeflate: boolean;
  /** Local address for the client's sockets (several loopback addresses pass the ephemeral-port limit). */
  localAddress?: string;
}

/** Bytes (split by wire.ts) and TCP connections of one client. */
export interface ClientWire {
  bytes: WireBytes;
  connectionsOpened: number;
  /** Bytes the sockets themselves reported (bytesWritten/bytesRead at close), to check the split against. */
  socketBytes: { up: number; down: number };
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
  /** Opens the connection or registers, and starts receiving. */
  connect(): Promise<void>;
  /** Sends one message to echo; resolves once the transport has taken it. */
  send(message: string): Promise<void>;
  requestPush(request: PushRequest): Promise<void>;
  requestBroadcast(request: BroadcastRequest): Promise<void>;
  /** Stops receiving and closes every connection; resolves when they are closed. */
  close(): Promise<void>;
}

export function newClientWire(): ClientWire {
  return { bytes: emptyWireBytes(), connectionsOpened: 0, socketBytes: { up: 0, down: 0 } };
}

/** Opens a TCP connection whose every byte is classified into `wire`. */
export function openTappedConnection(wire: ClientWire, protocol: WireProtocol, options: net.NetConnectOpts): net.Socket {
  const socket = net.connect(options);
  tapSocket(socket, new ConnectionAccountant(protocol, wire.bytes));
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
