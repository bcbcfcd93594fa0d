/**
 * TLS connections, and HTTP/2 sessions over them, whose every byte is classified into a
 * client's wire, as openTappedConnection does for plain TCP: the totals are the ciphertext the
 * TCP socket carried, split by wire/tls.ts into what TLS adds and the protocol inside.
 *
 * Node's TLS runs in C++ (TLSWrap) on the TCP socket's own handle when it is given a connected
 * net.Socket, so no JavaScript sees the ciphertext. Given a net.Socket that is not connected
 * yet, Node's tls.connect() wraps it as a JavaScript stream instead (its "JSStreamSocket", the
 * documented way to run TLS over any Duplex): TLSWrap then reads through the socket's `push`
 * and writes through its `_write`, where tapSocket counts them, and the socket is connected
 * after. The TLS socket itself is untouched, so any client of it (http, ws, http2, which reads
 * TLSWrap from C++) works as over Node's own TLS; what the accountant needs of the plaintext
 * it reads by opening the records itself, with the keys the TLS socket logs ('keylog').
 *
 * The cost: the ciphertext crosses into JavaScript once each way (a JSStreamSocket write waits a
 * turn of the event loop before the next is taken, so writes made meanwhile go out together),
 * and each application data record is decrypted once more by the accountant.
 */
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { tapSocket, type WireProtocol } from '../wire.ts';
import { nextAccountant, openTappedConnection, type ClientTls, type ClientWire } from './transport-client.ts';

/** Where to connect, as for net.connect() (host, port, localAddress, ...). */
export type TcpOptions = net.TcpNetConnectOpts;

/**
 * Opens a TLS connection to `tcp.host`:`tcp.port` whose every byte is classified into `wire`,
 * `protocol` being what its application data carries. `options` are tls.connect()'s (ALPN,
 * ca, servername, minVersion, ...); the certificate is checked against `tcp.host` unless
 * `options.servername` says otherwise, as tls.connect() would. The TLS socket is returned
 * before it is connected, as tls.connect() returns it.
 *
 * An untapped client (wire.tapped false) gets Node's own TLS on the TCP handle, for the driver
 * benchmark to measure what the tap costs; its bytes are not counted.
 */
export function openTappedTlsConnection(wire: ClientWire, protocol: WireProtocol, tcp: TcpOptions, options: tls.ConnectionOptions = {}): tls.TLSSocket {
  if (!wire.tapped) {
    wire.connectionsOpened += 1;
    return tls.connect({ ...tcp, ...options });
  }
  const accountant = nextAccountant(wire, protocol, { tls: true });
  wire.connectionsOpened += 1;
  const tcpSocket = new net.Socket({ allowHalfOpen: tcp.allowHalfOpen ?? false });
  // noDelay and keepAlive are the socket's options, not connect()'s: set before connecting, they apply once it is
  if (tcp.noDelay === true) tcpSocket.setNoDelay(true);
  if (tcp.keepAlive === true) tcpSocket.setKeepAlive(true, tcp.keepAliveInitialDelay);
  tapSocket(tcpSocket, accountant);
  const socket = tls.connect({ host: tcp.host, ...options, socket: tcpSocket });
  socket.on('keylog', (line: Buffer) => accountant.keylog(line));
  socket.once('secureConnect', () => {
    // Records the accountant cannot open (a cipher suite it does not know) would be counted as TLS, their payload lost: say so at once.
    const problem = accountant.tlsProblem;
    if (problem !== undefined) socket.destroy(new Error(`the byte accountant cannot read this TLS connection: ${problem}`));
  });
  // The TCP socket's own counts, once it can carry no more: the TLS socket's 'close' may come first (it destroys the TCP socket, which closes a moment later).
  let counted = false;
  const countTcpBytes = (): void => {
    if (counted || !tcpSocket.destroyed) return;
    counted = true;
    wire.socketBytes.up += tcpSocket.bytesWritten;
    wire.socketBytes.down += tcpSocket.bytesRead;
  };
  tcpSocket.once('close', countTcpBytes);
  socket.once('close', countTcpBytes);
  tcpClosed.set(socket, new Promise((resolve) => tcpSocket.once('close', () => resolve())));
  actOnTcp(socket, tcpSocket);
  tcpSocket.connect(tcp);
  return socket;
}

/**
 * What a TLS socket would do to its TCP connection, done to the tapped one: over a JavaScript
 * stream, TLSWrap's setNoDelay() (which HTTP/2 and http.Agent call), setKeepAlive(), ref() and
 * unref() reach no TCP handle, and the socket's addresses are unknown.
 */
function actOnTcp(socket: tls.TLSSocket, tcpSocket: net.Socket): void {
  socket.setNoDelay = (noDelay?: boolean) => {
    tcpSocket.setNoDelay(noDelay);
    return socket;
  };
  socket.setKeepAlive = (enable?: boolean, initialDelayMs?: number) => {
    tcpSocket.setKeepAlive(enable, initialDelayMs);
    return socket;
  };
  socket.ref = () => {
    tcpSocket.ref();
    return socket;
  };
  socket.unref = () => {
    tcpSocket.unref();
    return socket;
  };
  socket.address = () => tcpSocket.address();
  for (const name of ['remoteAddress', 'remoteFamily', 'remotePort', 'localAddress', 'localPort', 'localFamily'] as const) {
    Object.defineProperty(socket, name, { get: () => tcpSocket[name], configurable: true });
  }
}

/**
 * Opens an HTTP/2 session (ALPN h2) over a tapped TLS connection: its every byte is classified
 * into `wire` as HTTP/2 ('http2'). `authority` is the session's origin (https://host:port);
 * `tcp` and `options` are as for openTappedTlsConnection; `session` are http2.connect()'s.
 */
export function openTappedHttp2Session(
  wire: ClientWire,
  authority: string | URL,
  tcp: TcpOptions,
  options: tls.ConnectionOptions = {},
  session: http2.ClientSessionOptions = {},
): http2.ClientHttp2Session {
  return http2.connect(authority, {
    ...session,
    createConnection: () => openTappedTlsConnection(wire, 'http2', tcp, { ALPNProtocols: ['h2'], ...options }),
  });
}

/** The tapped TLS sockets' TCP sockets, closed: the TLS socket may close first, its last bytes still on their way through the TCP one. */
const tcpClosed = new WeakMap<net.Socket, Promise<void>>();

/**
 * Resolves once a client's connection (from openClientConnection) has closed and every byte it
 * carried is counted: over TLS, once its TCP socket has, which may be after the TLS socket.
 */
export function connectionClosed(socket: net.Socket): Promise<void> {
  const tcp = tcpClosed.get(socket);
  if (tcp !== undefined) return tcp;
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** How long a client's TLS connection it closes waits for the server's close_notify and FIN before it is destroyed. */
export const TLS_CLOSE_WAIT_MS = 2_000;

/**
 * Closes a client's TLS connection as TLS closes: its close_notify and FIN, then the server's,
 * read (and counted, as a capture sees them: a connection destroyed at once would leave the
 * server's close_notify unread, on the wire but in no count); destroyed if they have not come
 * within TLS_CLOSE_WAIT_MS.
 */
export function endTlsConnection(socket: net.Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), TLS_CLOSE_WAIT_MS);
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
  socket.end();
}

/** tls.connect()'s options for a client's TLS: the one version it offers, the CA it trusts and the protocols it offers by ALPN (none: no ALPN). */
export function clientTlsOptions(clientTls: ClientTls, alpn: readonly string[] = []): tls.ConnectionOptions {
  const version = clientTls.version === '1.2' ? 'TLSv1.2' : 'TLSv1.3';
  return {
    minVersion: version,
    maxVersion: version,
    ...(alpn.length === 0 ? {} : { ALPNProtocols: [...alpn] }),
    ...(clientTls.ca === undefined ? {} : { ca: clientTls.ca }),
  };
}

/**
 * A client's connection, tapped: over TLS (offering `alpn`) when the client has TLS, else plain
 * TCP. It is open at 'secureConnect' over TLS, at 'connect' without (see openEvent).
 */
export function openClientConnection(
  wire: ClientWire,
  protocol: WireProtocol,
  clientTls: ClientTls | undefined,
  tcp: TcpOptions,
  alpn: readonly string[] = [],
): net.Socket {
  return clientTls === undefined ? openTappedConnection(wire, protocol, tcp) : openTappedTlsConnection(wire, protocol, tcp, clientTlsOptions(clientTls, alpn));
}

/** The event a connection from openClientConnection is open at. */
export function openEvent(clientTls: ClientTls | undefined): 'connect' | 'secureConnect' {
  return clientTls === undefined ? 'connect' : 'secureConnect';
}
