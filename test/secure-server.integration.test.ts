/**
 * The servers over TLS and HTTP/2, beyond the contract suite: the counters count the TCP bytes
 * (ciphertext), one TLS version is served and the other refused, bad input over HTTP/2 gets the
 * answers it gets over HTTP/1.1 where HTTP/2 has them, an idle HTTP/2 connection is closed after
 * the keep-alive timeout while a held poll is not, h2c serves in plaintext, and the command line
 * refuses what it cannot serve.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { echoReply } from '../servers/contract.ts';
import { TcpFrameDecoder, encodeTcpFrame } from '../servers/tcp-framing.ts';
import { createTlsCertificate, removeTlsCertificate, type TlsCertificate } from '../bench/tls-certificate.ts';
import type { ServerProcess } from '../bench/server-process.ts';
import { runCommand, waitFor, withServer } from './helpers.ts';
import { ANSWER_TIMEOUT_MS } from './http-channel.ts';

const TEST_TIMEOUT_MS = 30_000;
const MAX_MESSAGE_BYTES = 1024;
const MAX_HEADER_BYTES = 4096;

let certificate: TlsCertificate | undefined;
/** A second certificate, whose key is not the first one's. */
let other: TlsCertificate | undefined;
before(async () => {
  [certificate, other] = await Promise.all([createTlsCertificate(), createTlsCertificate()]);
});
after(async () => {
  for (const made of [certificate, other]) if (made !== undefined) await removeTlsCertificate(made);
});

function cert(): TlsCertificate {
  if (certificate === undefined) throw new Error('the certificate is made in before()');
  return certificate;
}

/** A TLS client whose TCP socket is its own, so its bytes (ciphertext) can be read beside the server's count. */
async function tlsOverCountedSocket(port: number, options: tls.ConnectionOptions): Promise<{ raw: net.Socket; secure: tls.TLSSocket }> {
  const raw = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => raw.once('connect', resolve).once('error', reject));
  const secure = tls.connect({ socket: raw, ca: cert().certPem, ...options });
  await new Promise((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
  return { raw, secure };
}

/** Resolves with the handshake's error, or undefined when it succeeded. */
function handshakeError(port: number, options: tls.ConnectionOptions): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: cert().certPem, ...options });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => {
      socket.destroy();
      resolve(error);
    });
  });
}

/** Waits until the server's byte counts are the client's TCP socket's, the other way round. */
async function countsMatch(server: ServerProcess, raw: net.Socket): Promise<void> {
  await waitFor(
    async () => {
      const stats = await server.stats();
      return stats.bytesRead === raw.bytesWritten && stats.bytesWritten === raw.bytesRead;
    },
    { what: "the server's byte counts to be the client's TCP socket's" },
  );
}

interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** One HTTP/2 exchange; the body is written in `chunks` as they are (no content-length unless the headers give one). */
function h2Exchange(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, chunks: (string | Buffer)[] = []): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let head: http2.IncomingHttpHeaders = {};
    const body: Buffer[] = [];
    stream.once('response', (response) => (head = response));
    stream.on('data', (chunk: Buffer) => body.push(chunk));
    stream.once('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(body).toString('utf8') }));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`the stream closed before its body ended (code ${stream.rstCode})`)));
    stream.setTimeout(ANSWER_TIMEOUT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
  });
}

function h2Connect(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: cert().certPem });
  // the server's SETTINGS (its header list limit) apply once acknowledged: wait for them
  return new Promise((resolve, reject) => session.once('remoteSettings', () => resolve(session)).once('error', reject));
}

/** Closes a session gracefully, or at once if a stream of it is still open after a second. */
async function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  if (session.destroyed) return;
  const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
  session.close();
  const timer = setTimeout(() => session.destroy(), 1_000);
  await closed;
  clearTimeout(timer);
}

describe('servers over TLS', () => {
  it('count the TCP bytes, ciphertext and handshake included, and serve TLS 1.3 only by default', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('tcp', { tls: cert() }, async (server) => {
      const { raw, secure } = await tlsOverCountedSocket(server.port, {});
      assert.equal(secure.getProtocol(), 'TLSv1.3');
      const decoder = new TcpFrameDecoder(1 << 20);
      const received: string[] = [];
      secure.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) if (frame.kind === 'message') received.push(frame.payload.toString());
      });
      const message = 'm'.repeat(1000);
      secure.write(encodeTcpFrame(message));
      await waitFor(() => received.length === 1, { what: 'the echo' });
      assert.deepEqual(received, [echoReply(message)]);
      await countsMatch(server, raw);
      const stats = await server.stats();
      assert.ok(stats.bytesRead > 4 + 1000 + 200, `more than the frame: a handshake and a record's overhead (${stats.bytesRead})`);
      assert.equal(stats.connectionsAccepted, 1);
      secure.destroy();

      assert.match(String(await handshakeError(server.port, { maxVersion: 'TLSv1.2' })), /protocol version|alert number 70/i);
      assert.match(String(await handshakeError(server.port, { ca: undefined })), /self.signed certificate/);
      await waitFor(async () => (await server.stats()).errors['bad-request'] >= 1, { what: 'the refused handshake to be counted' });
    });
  });

  it('an https server (websocket) counts a refused handshake as bad input, and answers no HTTP on it', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('websocket', { tls: cert() }, async (server) => {
      assert.match(String(await handshakeError(server.port, { maxVersion: 'TLSv1.2' })), /protocol version|alert number 70/i);
      await waitFor(async () => (await server.stats()).errors['bad-request'] === 1, { what: 'the refused handshake to be counted' });
      const plaintext = await new Promise<string>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1');
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
        socket.once('close', () => resolve(answer));
        socket.once('error', () => {});
        socket.write('GET /stats HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      assert.doesNotMatch(plaintext, /HTTP\/1\.1/, 'a plaintext request gets a TLS alert at most, never an HTTP answer');
      await waitFor(async () => (await server.stats()).errors['bad-request'] === 2, { what: 'the plaintext request to be counted' });
      assert.equal((await server.stats()).errors.socket, 0, 'each counted once, as bad input');
    });
  });

  it('--tls-version 1.2 serves TLS 1.2 only, HTTP/2 included; its counters count the ciphertext too', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('short-poll', { tls: { ...cert(), version: '1.2' }, http: '2' }, async (server) => {
      const { raw, secure } = await tlsOverCountedSocket(server.port, { ALPNProtocols: ['h2'] });
      assert.equal(secure.getProtocol(), 'TLSv1.2');
      assert.equal(secure.alpnProtocol, 'h2');
      const session = http2.connect(`https://127.0.0.1:${server.port}`, { createConnection: () => secure });
      try {
        const answer = await h2Exchange(session, { ':method': 'POST', ':path': '/clients' });
        assert.equal(answer.status, 201);
        await countsMatch(server, raw);
      } finally {
        await closeSession(session);
      }
      assert.match(String(await handshakeError(server.port, { minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] })), /protocol version|alert number 70/i);
      await waitFor(async () => (await server.stats()).errors['bad-request'] === 1, { what: 'the refused handshake to be counted' });
    });
  });
});

describe('HTTP/2 (short-poll over TLS): bad input', () => {
  const args = ['--max-message-bytes', String(MAX_MESSAGE_BYTES), '--max-header-bytes', String(MAX_HEADER_BYTES)];

  it('404, 405 with allow, 400 and 413 as over HTTP/1.1, on one connection that goes on serving', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('short-poll', { args, tls: cert(), http: '2' }, async (server) => {
      const session = await h2Connect(server.port);
      try {
        const exchange = (method: string, path: string, chunks: (string | Buffer)[] = [], headers: http2.OutgoingHttpHeaders = {}): Promise<H2Answer> =>
          h2Exchange(session, { ':method': method, ':path': path, ...headers }, chunks);
        const code = (answer: H2Answer): string => `${answer.status} ${(JSON.parse(answer.body) as { code: string }).code}`;

        assert.equal(code(await exchange('GET', '/nowhere')), '404 not-found');
        const wrongMethod = await exchange('PUT', '/push');
        assert.equal(code(wrongMethod), '405 method-not-allowed');
        assert.equal(wrongMethod.headers.allow, 'POST');
        assert.equal(code(await exchange('POST', '/messages', ['hi'])), '400 bad-request');
        assert.equal(code(await exchange('POST', '/messages?client=nobody', ['hi'])), '404 unknown-client');

        const { clientId } = JSON.parse((await exchange('POST', '/clients')).body) as { clientId: string };
        assert.equal(code(await exchange('POST', `/push?client=${clientId}`, ['{"op":'])), '400 bad-request');
        assert.equal(code(await exchange('POST', `/messages?client=${clientId}`, [Buffer.from([0xc3, 0x28])])), '400 bad-request');
        const declared = await exchange('POST', `/messages?client=${clientId}`, ['y'.repeat(MAX_MESSAGE_BYTES + 1)], {
          'content-length': String(MAX_MESSAGE_BYTES + 1),
        });
        assert.equal(code(declared), '413 too-large');
        assert.equal(declared.headers.connection, undefined, 'HTTP/2 has no Connection header');
        // no length declared: DATA frames counted as they come
        const counted = await exchange('POST', `/messages?client=${clientId}`, ['y'.repeat(600), 'y'.repeat(600)]);
        assert.equal(code(counted), '413 too-large');
        // a body that never ends: the 413, then the stream reset with NO_ERROR (HTTP/1.1 closes the connection)
        const unending = session.request({ ':method': 'POST', ':path': `/messages?client=${clientId}` });
        let unendingStatus = 0;
        let unendingRst: number | undefined;
        unending.once('response', (head) => (unendingStatus = Number(head[':status'])));
        unending.once('close', () => (unendingRst = unending.rstCode));
        unending.resume();
        unending.write('y'.repeat(2 * MAX_MESSAGE_BYTES));
        await waitFor(() => unendingRst !== undefined, { what: 'the server to end the stream whose body never ends' });
        assert.deepEqual([unendingStatus, unendingRst], [413, http2.constants.NGHTTP2_NO_ERROR]);

        // a header list over --max-header-bytes: the stream is reset (HTTP/1.1 answers 431), the connection goes on
        await assert.rejects(exchange('GET', '/stats', [], { 'x-padding': 'p'.repeat(MAX_HEADER_BYTES) }), /NGHTTP2_ENHANCE_YOUR_CALM/);

        assert.equal((await exchange('POST', `/messages?client=${clientId}`, ['still here'])).status, 202);
        const poll = JSON.parse((await exchange('GET', `/messages?client=${clientId}`)).body) as { messages: { data: string }[] };
        assert.deepEqual(
          poll.messages.map((message) => message.data),
          [echoReply('still here')],
        );
        const { errors, connectionsAccepted } = await server.stats();
        assert.deepEqual(
          [errors['not-found'], errors['method-not-allowed'], errors['bad-request'], errors['unknown-client'], errors['too-large'], connectionsAccepted],
          [1, 1, 3, 1, 3, 1],
        );
      } finally {
        await closeSession(session);
      }
    });
  });

  it('a client that offers no h2 (an HTTP/1.1 https request) is closed and counted', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('sse', { tls: cert(), http: '2' }, async (server) => {
      const failure = await new Promise<Error>((resolve, reject) => {
        const request = https.request({ host: '127.0.0.1', port: server.port, path: '/stats', ca: cert().certPem, agent: false }, () =>
          reject(new Error('an HTTP/1.1 request was answered')),
        );
        request.once('error', resolve);
        request.end();
      });
      assert.match(String(failure), /socket hang up|ECONNRESET/);
      await waitFor(async () => (await server.stats()).errors['bad-request'] === 1, { what: 'the connection to be counted' });
    });
  });
});

describe('HTTP/2 connections', () => {
  it('an idle one is closed after --keep-alive-timeout-ms; a held long poll past it is not cut', { timeout: TEST_TIMEOUT_MS }, async () => {
    const args = ['--keep-alive-timeout-ms', '300', '--long-poll-timeout-ms', '1000'];
    await withServer('long-poll', { args, tls: cert(), http: '2' }, async (server) => {
      const session = await h2Connect(server.port);
      let closedAt: number | undefined;
      session.once('close', () => (closedAt = performance.now()));
      try {
        const { clientId } = JSON.parse((await h2Exchange(session, { ':method': 'POST', ':path': '/clients' })).body) as { clientId: string };
        const started = performance.now();
        const poll = await h2Exchange(session, { ':method': 'GET', ':path': `/messages?client=${clientId}` });
        const answeredAt = performance.now();
        assert.equal(poll.status, 200);
        assert.equal(poll.body, '{"messages":[]}');
        assert.ok(answeredAt - started >= 900, `held for the long-poll timeout, ${Math.round(answeredAt - started)} ms, not cut at the keep-alive's 300`);
        await waitFor(() => closedAt !== undefined, { what: 'the server to close the idle connection' });
        const idleMs = (closedAt ?? 0) - answeredAt;
        assert.ok(idleMs >= 250 && idleMs < 2_000, `closed ${Math.round(idleMs)} ms after its last stream ended`);
        await waitFor(async () => (await server.stats()).connectionsOpen === 0, { what: 'the server to count the connection closed' });
      } finally {
        session.destroy();
      }
    });
  });

  it('--http 2 without TLS serves h2c', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('sse', { http: '2' }, async (server) => {
      assert.deepEqual([server.tls, server.http], [false, '2']);
      const session = http2.connect(`http://127.0.0.1:${server.port}`);
      try {
        const answer = await h2Exchange(session, { ':method': 'GET', ':path': '/stats' });
        assert.equal(answer.status, 200);
        assert.equal((JSON.parse(answer.body) as { transport: string }).transport, 'sse');
      } finally {
        await closeSession(session);
      }
    });
  });
});

describe('servers/main.ts: TLS and HTTP options', () => {
  const main = new URL('../servers/main.ts', import.meta.url).pathname;
  const refusal = async (args: string[]): Promise<string> => {
    const finished = await runCommand(process.execPath, ['--import', 'tsx', main, ...args], { timeoutMs: 60_000 });
    assert.equal(finished.code, 2, finished.stderr);
    assert.equal(finished.stdout, '');
    return finished.stderr;
  };

  it('refuses --http 2 for websocket and tcp, a lone or unreadable file, an unknown version, a key of another certificate', { timeout: 120_000 }, async () => {
    const { certPath, keyPath } = cert();
    assert.match(
      await refusal(['--transport', 'websocket', '--http', '2']),
      /--http 2 is for short-poll, long-poll and sse: the websocket server upgrades HTTP\/1\.1/,
    );
    assert.match(await refusal(['--transport', 'tcp', '--http', '2']), /--http 2 is for short-poll, long-poll and sse: tcp speaks no HTTP/);
    assert.match(await refusal(['--transport', 'sse', '--tls-cert', certPath]), /--tls-cert and --tls-key go together/);
    assert.match(
      await refusal(['--transport', 'sse', '--tls-cert', certPath, '--tls-key', `${keyPath}.missing`]),
      /--tls-key \S+\.missing cannot be read: ENOENT/,
    );
    assert.match(
      await refusal(['--transport', 'sse', '--tls-cert', certPath, '--tls-key', keyPath, '--tls-version', '1.1']),
      /--tls-version must be one of 1\.3, 1\.2/,
    );
    assert.match(
      await refusal(['--transport', 'sse', '--tls-cert', certPath, '--tls-key', other!.keyPath]),
      /are no certificate and matching key: .*key values mismatch/,
    );
  });
});
