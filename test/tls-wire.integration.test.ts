/**
 * Tapped TLS connections on real sockets: node's https client and an HTTP/2 session over
 * openTappedTlsConnection, against node servers with a certificate made for the test. The
 * totals must equal the TCP socket's own counters and a tcpdump capture, to the byte, and the
 * plaintext inside must split exactly as it does over plain TCP (its payload and framing are
 * worked out from what the test sent). KEEP_CAPTURES=1 keeps the captures and says where.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type tls from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { openTappedHttp2Session, openTappedTlsConnection } from '../bench/clients/secure-connection.ts';
import { newClientWire, type ClientWire } from '../bench/clients/transport-client.ts';
import { Capture, payloadBytes, tcpdumpAvailable } from './pcap.ts';
import { waitFor } from './helpers.ts';
import { BYTE_KINDS, chunked, utf8Bytes } from './wire-helpers.ts';

const TEST_TIMEOUT_MS = 30_000;
const HOST = '127.0.0.1';

const MESSAGE_PIECES = ['hél', 'lo'];
const DATA = 'Received:  héllo';
const POLL_BODY = JSON.stringify({ messages: [{ id: 1, data: DATA }] });
const SSE_WRITES = ['id: 2\ndata: two\ndata: lines\n\n', ':\n\n', 'id: 3\ndata: ✓\n\n'];
const SSE_PAYLOAD_BYTES = 'two\nlines'.length + utf8Bytes('✓');

/** A throwaway certificate for 127.0.0.1, made by openssl in a temporary directory. */
interface Certificate {
  key: Buffer;
  cert: Buffer;
}

function makeCertificate(dir: string): Certificate {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=wirecost test',
      '-addext',
      `subjectAltName=IP:${HOST}`,
    ].concat(['-keyout', keyFile, '-out', certFile]),
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

function opensslMissing(): string | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl is not installed';
  }
}

function serverPort(server: net.Server): number {
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

function newWire(port: number): ClientWire {
  return newClientWire({ host: HOST, port, pollIntervalMs: 0, perMessageDeflate: false });
}

/** The message, the poll and the stream's answers, the same over HTTP/1.1 and HTTP/2. */
function answer(
  method: string | undefined,
  url: string,
  respond: (status: number, headers: Record<string, string | number>, pieces: readonly string[]) => void,
): void {
  if (method === 'POST') respond(202, { 'content-length': 0 }, []);
  else if (url.startsWith('/messages')) respond(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(POLL_BODY) }, [POLL_BODY]);
  else respond(200, { 'content-type': 'text/event-stream' }, SSE_WRITES);
}

/**
 * Captures the connection while `exchange` runs, then checks the totals against the TCP
 * socket's counters and the capture; returns the split.
 */
async function capturedTotals(dir: string, name: string, port: number, wire: ClientWire, exchange: () => Promise<void>): Promise<void> {
  const file = path.join(dir, `${name}.pcap`);
  const capture = tcpdumpAvailable() === undefined ? await Capture.start(port, file) : undefined;
  try {
    await exchange();
    assert.equal(wire.connectionsOpened, 1);
    for (const direction of ['up', 'down'] as const) {
      const split = wire.bytes[direction];
      assert.equal(split.total, wire.socketBytes[direction], `${direction}: the total against the TCP socket's count`);
      assert.equal(
        BYTE_KINDS.reduce((sum, kind) => sum + split[kind], 0),
        split.total,
        `${direction}: the parts add up`,
      );
    }
    if (capture !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, 300)); // the last segments reach the capture
      assert.equal(await capture.stop(), 0, 'tcpdump dropped packets: its count would be short');
      const captured = payloadBytes(file, port);
      assert.deepEqual({ up: wire.bytes.up.total, down: wire.bytes.down.total }, { up: captured.up, down: captured.down }, 'the totals against tcpdump');
    }
  } finally {
    await capture?.stop();
  }
}

/** What TLS and the handshake add cannot be worked out from outside, but each is there. */
function assertTlsParts(wire: ClientWire): void {
  for (const direction of ['up', 'down'] as const) {
    assert.ok(wire.bytes[direction].tls > 0, `${direction}: record headers and tags`);
    assert.ok(wire.bytes[direction].setup > 0, `${direction}: the handshake`);
  }
}

describe('tapped TLS connections on real sockets', () => {
  const missing = opensslMissing();
  let dir = '';
  let certificate: Certificate = { key: Buffer.alloc(0), cert: Buffer.alloc(0) };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wirecost-tls-'));
    if (missing === undefined) certificate = makeCertificate(dir);
  });
  after(() => {
    if (process.env.KEEP_CAPTURES === undefined) rmSync(dir, { recursive: true, force: true });
    else console.log(dir);
  });

  const https1Cases: { name: string; server: tls.TlsOptions; version: string; cipher: RegExp }[] = [
    { name: 'TLS 1.3 (default suite)', server: {}, version: 'TLSv1.3', cipher: /GCM/ },
    { name: 'TLS 1.3, TLS_CHACHA20_POLY1305_SHA256', server: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, version: 'TLSv1.3', cipher: /CHACHA20/ },
    { name: 'TLS 1.2 (default suite)', server: { maxVersion: 'TLSv1.2' }, version: 'TLSv1.2', cipher: /GCM/ },
    {
      name: 'TLS 1.2, ECDHE-ECDSA-CHACHA20-POLY1305',
      server: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' },
      version: 'TLSv1.2',
      cipher: /CHACHA20/,
    },
  ];
  for (const { name, server: serverOptions, version, cipher } of https1Cases) {
    it(
      `${name}: node's https client, a message, a poll and an SSE stream; the plaintext split as over TCP`,
      { skip: missing, timeout: TEST_TIMEOUT_MS },
      async () => {
        const server = https.createServer({ ...certificate, ...serverOptions }, (req, res) => {
          req.resume();
          req.on('end', () =>
            answer(req.method, req.url ?? '', (status, headers, pieces) => {
              res.writeHead(status, headers);
              for (const piece of pieces) res.write(piece);
              res.end();
            }),
          );
        });
        server.listen(0, HOST);
        await once(server, 'listening');
        const port = serverPort(server);
        const wire = newWire(port);
        const sockets: tls.TLSSocket[] = [];
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
        // https.Agent's own createConnection is tls.connect: this one is the tapped TLS connection
        Object.assign(agent, {
          createConnection: (options: tls.ConnectionOptions): tls.TLSSocket => {
            const socket = openTappedTlsConnection(wire, 'http', { host: HOST, port }, { ca: certificate.cert, servername: options.servername });
            sockets.push(socket);
            return socket;
          },
        });
        const request = (method: string, target: string, pieces: readonly string[]): Promise<string> =>
          new Promise((resolve, reject) => {
            const req = https.request({ host: HOST, port, method, path: target, agent, ca: certificate.cert }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (chunk: Buffer) => chunks.push(chunk));
              res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
              res.on('error', reject);
            });
            req.on('error', reject);
            for (const piece of pieces) req.write(piece); // two writes without a length: chunked encoding
            req.end();
          });

        try {
          await capturedTotals(dir, name.replace(/\W+/g, '-'), port, wire, async () => {
            await request('POST', '/messages?client=x', MESSAGE_PIECES);
            assert.equal(await request('GET', '/messages?client=x&after=0', []), POLL_BODY);
            assert.equal(await request('GET', '/events?client=x', []), SSE_WRITES.join(''));
            const [socket] = sockets;
            assert.ok(socket !== undefined && sockets.length === 1, 'one connection for all three exchanges');
            assert.equal(socket.getProtocol(), version);
            assert.match(socket.getCipher().standardName, cipher);
            assert.deepEqual([socket.remoteAddress, socket.remotePort], [HOST, port], 'the TLS socket tells the TCP connection’s addresses');
            // closed as a client closes: its close_notify and FIN, then the server's, read before the socket closes
            const closed = once(socket, 'close');
            socket.end();
            await closed;
            agent.destroy();
          });
        } finally {
          server.closeAllConnections();
          server.close();
        }

        assert.equal(wire.bytes.up.payload, utf8Bytes(MESSAGE_PIECES.join('')));
        assert.equal(wire.bytes.up.framing, chunked(MESSAGE_PIECES.map((piece) => Buffer.from(piece))).framingBytes);
        assert.equal(wire.bytes.down.payload, utf8Bytes(DATA) + SSE_PAYLOAD_BYTES);
        const sse = chunked(SSE_WRITES.map((piece) => Buffer.from(piece)));
        assert.equal(wire.bytes.down.framing, utf8Bytes(POLL_BODY) - utf8Bytes(DATA) + sse.body.length - SSE_PAYLOAD_BYTES);
        assert.ok(wire.bytes.up.headers > 0 && wire.bytes.down.headers > 0, 'the message and poll heads');
        assertTlsParts(wire);
      },
    );
  }

  it('an HTTP/2 session (ALPN h2, TLS 1.3): a message, a poll and an event stream on three streams', { skip: missing, timeout: TEST_TIMEOUT_MS }, async () => {
    const server = http2.createSecureServer(certificate);
    server.on('stream', (stream, headers) => {
      stream.resume();
      stream.on('end', () =>
        answer(headers[':method'], headers[':path'] ?? '', (status, responseHeaders, pieces) => {
          stream.respond({ ':status': status, ...responseHeaders }, { endStream: pieces.length === 0 });
          for (const piece of pieces) stream.write(piece);
          if (pieces.length > 0) stream.end();
        }),
      );
    });
    server.listen(0, HOST);
    await once(server, 'listening');
    const port = serverPort(server);
    const wire = newWire(port);
    let session: http2.ClientHttp2Session | undefined;
    const request = (client: http2.ClientHttp2Session, method: string, target: string, pieces: readonly string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const stream = client.request({ ':method': method, ':path': target }, { endStream: pieces.length === 0 });
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        stream.on('error', reject);
        for (const piece of pieces) stream.write(piece);
        if (pieces.length > 0) stream.end();
      });

    try {
      await capturedTotals(dir, 'http2', port, wire, async () => {
        // opened once the capture runs, to see the handshake
        session = openTappedHttp2Session(wire, `https://${HOST}:${port}`, { host: HOST, port }, { ca: certificate.cert });
        await request(session, 'POST', '/messages?client=x', MESSAGE_PIECES);
        assert.equal(await request(session, 'GET', '/messages?client=x&after=0', []), POLL_BODY);
        assert.equal(await request(session, 'GET', '/events?client=x', []), SSE_WRITES.join(''));
        const socket = session.socket as tls.TLSSocket;
        assert.equal(socket.alpnProtocol, 'h2');
        session.close();
        await waitFor(() => wire.socketBytes.up > 0, { what: 'the TCP socket to close and add its counts' });
      });
    } finally {
      session?.destroy();
      server.close();
    }

    assert.equal(wire.bytes.up.payload, utf8Bytes(MESSAGE_PIECES.join('')), 'the message: its DATA, no chunked encoding');
    assert.equal(wire.bytes.down.payload, utf8Bytes(DATA) + SSE_PAYLOAD_BYTES);
    const bodyFramingBytes = utf8Bytes(POLL_BODY) - utf8Bytes(DATA) + utf8Bytes(SSE_WRITES.join('')) - SSE_PAYLOAD_BYTES;
    assert.ok(wire.bytes.down.framing > bodyFramingBytes, 'the JSON and the event stream around the data, and the frames');
    assert.ok(wire.bytes.up.setup >= 24, 'the preface, at least');
    assert.ok(wire.bytes.up.headers > 0 && wire.bytes.down.headers > 0, 'the message and poll header blocks');
    assertTlsParts(wire);
  });

  it(
    'a ws client over TLS (wss): the upgrade is setup inside TLS, the frames after it split as over TCP',
    { skip: missing, timeout: TEST_TIMEOUT_MS },
    async () => {
      const server = https.createServer(certificate);
      const wss = new WebSocketServer({ server, perMessageDeflate: false });
      wss.on('connection', (ws) => {
        ws.send('welcome'); // goes out right behind the 101
        ws.on('message', (message, isBinary) => ws.send(message, { binary: isBinary }));
      });
      server.listen(0, HOST);
      await once(server, 'listening');
      const port = serverPort(server);
      const wire = newWire(port);
      try {
        await capturedTotals(dir, 'websocket', port, wire, async () => {
          const createConnection = ((options: tls.ConnectionOptions): tls.TLSSocket =>
            openTappedTlsConnection(
              wire,
              'websocket',
              { host: HOST, port },
              { ca: certificate.cert, servername: options.servername },
            )) as unknown as typeof net.createConnection;
          const client = new WebSocket(`wss://${HOST}:${port}/ws`, { perMessageDeflate: false, ca: certificate.cert, createConnection });
          const welcome = once(client, 'message');
          await once(client, 'open');
          await welcome;
          const echo = once(client, 'message');
          client.send('hello world');
          await echo;
          client.close(1000);
          await once(client, 'close');
          await waitFor(() => wire.socketBytes.up > 0, { what: 'the TCP socket to close and add its counts' });
        });
      } finally {
        wss.close();
        server.closeAllConnections();
        server.close();
      }
      assert.equal(wire.bytes.up.payload, 'hello world'.length);
      assert.equal(wire.bytes.up.framing, 6, 'one masked text frame header');
      assert.equal(wire.bytes.down.payload, 'welcome'.length + 'hello world'.length);
      assert.equal(wire.bytes.down.framing, 2 + 2);
      assert.deepEqual([wire.bytes.up.headers, wire.bytes.down.headers], [0, 0], 'the upgrade is setup, not headers');
      assertTlsParts(wire);
    },
  );

  it('an untapped client (the driver benchmark’s) gets Node’s own TLS, and counts nothing', { skip: missing, timeout: TEST_TIMEOUT_MS }, async () => {
    const server = https.createServer(certificate, (req, res) => {
      req.resume();
      res.end('untapped');
    });
    server.listen(0, HOST);
    await once(server, 'listening');
    const port = serverPort(server);
    const wire = newClientWire({ host: HOST, port, pollIntervalMs: 0, perMessageDeflate: false, tap: false });
    try {
      const socket = openTappedTlsConnection(wire, 'http', { host: HOST, port }, { ca: certificate.cert });
      await once(socket, 'secureConnect');
      socket.end(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      await once(socket, 'close');
      assert.match(Buffer.concat(chunks).toString('latin1'), /\r\n\r\nuntapped$/);
    } finally {
      server.close();
    }
    assert.equal(wire.connectionsOpened, 1);
    assert.deepEqual([wire.bytes.up.total, wire.bytes.down.total], [0, 0]);
  });

  it('a refused connection fails as tls.connect() would, and counts nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = https.createServer();
    server.listen(0, HOST);
    await once(server, 'listening');
    const port = serverPort(server);
    server.close();
    await once(server, 'close');
    const wire = newWire(port);
    const socket = openTappedTlsConnection(wire, 'http', { host: HOST, port }, {});
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
    if (!socket.destroyed) await once(socket, 'close');
    assert.deepEqual([wire.bytes.up.total, wire.bytes.down.total], [0, 0]);
  });
});
