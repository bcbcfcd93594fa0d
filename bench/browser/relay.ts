/**
 * A byte-counting TCP relay between a browser and one transport server.
 *
 * The browser's own byte figures leave out what it does not show (its headers, the masking of
 * frames), so the relay counts instead: every byte of every relayed connection goes through
 * wire.ts's ConnectionAccountant, as the driver's own sockets do, and the first bytes of each
 * connection are kept as they were, to take one request or one frame apart.
 *
 * The relay also serves a few files of its own (the page a transport runs in), so that page is
 * of the same origin as the server and talks to it as a real application would, without CORS.
 * Which it is, is decided by a connection's first request line: a GET for one of those files
 * is answered here with `Connection: close` (so the browser never reuses that connection for
 * the server); any other connection is relayed, from its first byte to its last.
 *
 * A relay of TLS (the `tls` option) cannot read a request line: it serves no file and relays
 * every connection from its first byte. Its accountants are told the bytes are TLS records; they
 * count them at once (record headers, handshake) and split what the records carry once given the
 * browser's key log lines (`accountant.keylog`), which may come after the connection has ended:
 * the records wait for their keys.
 */
import net from 'node:net';
import { listenOn } from '../../servers/listen.ts';
import { CapturingAccountant, WireCapture } from '../clients/transport-client.ts';
import { emptyWireBytes, type ConnectionAccountant, type WireBytes, type WireProtocol } from '../wire.ts';

export interface LocalFile {
  contentType: string;
  body: Buffer;
}

export interface RelayOptions {
  upstream: { host: string; port: number };
  protocol: WireProtocol;
  /** Files the relay answers itself, by path (a query string is ignored). */
  files?: ReadonlyMap<string, LocalFile>;
  /** Bytes of each direction kept per relayed connection. */
  captureBytes?: number;
  /** The connections are TLS (to a TLS server): nothing is served, every connection relayed as it comes. */
  tls?: boolean;
}

/** One relayed connection: its first request line (empty over TLS) and its first bytes each way. */
export interface RelayedConnection {
  firstLine: string;
  capture: WireCapture;
  /** Its accountant: over TLS, give it the connection's key log lines (keylog) to split what its records carry. */
  accountant: ConnectionAccountant;
  /** The bytes of its request and response heads counted as headers, in order (the first HEADER_SERIES_LENGTH each way). */
  headerSeries: { requests: number[]; responses: number[] };
}

/** A first request line longer than this is not one of ours: relay it. */
const MAX_PEEK_BYTES = 8 * 1024;
const DEFAULT_CAPTURE_BYTES = 64 * 1024;

export class ByteRelay {
  /** Every relayed byte, split by wire.ts (local files are not counted). */
  readonly bytes: WireBytes = emptyWireBytes();
  readonly connections: RelayedConnection[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** When a relayed connection last carried a byte either way (performance.now()). */
  private lastByteAt = 0;

  private constructor(
    private readonly server: net.Server,
    private readonly options: RelayOptions,
  ) {}

  static async start(options: RelayOptions, host = '127.0.0.1'): Promise<ByteRelay> {
    const server = net.createServer();
    const relay = new ByteRelay(server, options);
    server.on('connection', (socket) => relay.accept(socket));
    await listenOn(server, 0, host);
    return relay;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the relay has no TCP address');
    return address.port;
  }

  /** The origin a page served by this relay has: http://127.0.0.1:PORT. */
  get origin(): string {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the relay has no TCP address');
    return `http://${address.address}:${address.port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /**
   * Ends every connection now, both sides, as a server ends an idle connection: the browser opens a
   * new one for its next request. The relay keeps listening.
   */
  closeConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Resolves once no relayed connection has carried a byte for `quietMs`; fails after `timeoutMs`. */
  async quiet(quietMs: number, timeoutMs: number): Promise<void> {
    const started = performance.now();
    for (;;) {
      const now = performance.now();
      const waited = now - this.lastByteAt;
      if (waited >= quietMs) return;
      if (now - started > timeoutMs) throw new Error(`the relayed connections did not fall quiet for ${quietMs} ms within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, quietMs - waited));
    }
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  /** Reads up to the first line feed, then serves a file or relays; over TLS, relays at once. */
  private accept(client: net.Socket): void {
    this.track(client);
    if (this.options.tls === true) {
      this.relay(client, Buffer.alloc(0), '');
      return;
    }
    let peeked = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      peeked = Buffer.concat([peeked, chunk]);
      const lineEnd = peeked.indexOf(0x0a);
      if (lineEnd === -1 && peeked.length < MAX_PEEK_BYTES) return;
      client.off('data', onData);
      client.pause();
      const firstLine = peeked
        .subarray(0, lineEnd === -1 ? peeked.length : lineEnd)
        .toString('latin1')
        .trim();
      const file = this.localFile(firstLine);
      if (file === undefined) this.relay(client, peeked, firstLine);
      else serveFile(client, file);
    };
    client.on('data', onData);
  }

  private localFile(firstLine: string): LocalFile | undefined {
    const [method, target] = firstLine.split(' ');
    if (method !== 'GET' || target === undefined) return undefined;
    return this.options.files?.get(target.split('?')[0] ?? '');
  }

  private relay(client: net.Socket, peeked: Buffer, firstLine: string): void {
    const capture = new WireCapture(this.options.captureBytes ?? DEFAULT_CAPTURE_BYTES);
    const headerSeries = { requests: [] as number[], responses: [] as number[] };
    const accountant = new CapturingAccountant(this.options.protocol, this.bytes, capture, { tls: this.options.tls === true, headerSeries });
    this.connections.push({ firstLine, capture, accountant, headerSeries });
    const upstream = net.connect({ ...this.options.upstream, noDelay: true });
    this.track(upstream);
    client.setNoDelay(true);
    if (peeked.length > 0) {
      accountant.written(peeked);
      upstream.write(peeked);
    }
    this.lastByteAt = performance.now();
    client.on('data', (chunk: Buffer) => {
      this.lastByteAt = performance.now();
      accountant.written(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      this.lastByteAt = performance.now();
      accountant.read(chunk);
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }
}

function serveFile(client: net.Socket, file: LocalFile): void {
  const head = ['HTTP/1.1 200 OK', `Content-Type: ${file.contentType}`, `Content-Length: ${file.body.length}`, 'Cache-Control: no-store', 'Connection: close'];
  // Keep reading (and dropping) the rest of the request: a socket closed with unread bytes
  // sends a reset, and the browser could lose the response.
  client.resume();
  client.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), file.body]));
}
