import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Results } from '../bench/result.ts';
import { chromiumMissing } from '../bench/browser/chromium.ts';
import { clientRandom, keyLogLines } from '../bench/browser/h2-heads.ts';
import { measureBrowser } from '../bench/browser/measure.ts';
import { http2Measurement, type BrowserHttp2Measurement } from '../bench/browser/measure-http2.ts';
import { ByteRelay } from '../bench/browser/relay.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { createTlsCertificate, removeTlsCertificate, type TlsCertificate } from '../bench/tls-certificate.ts';
import type { TlsVersion } from '../servers/contract.ts';
import { browserHttp2Figures } from '../scripts/report/browser.ts';

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** The header bytes the accountant counted that are not the polls' (the favicon's, say: its heads are headers too). */
function otherHeaderBytes(measured: BrowserHttp2Measurement, side: 'requestHeaderBytes' | 'responseHeaderBytes'): number {
  return sum(
    measured.exchanges.filter((exchange) => exchange.kind === 'headers' && !exchange.target.startsWith('/messages?')).map((exchange) => exchange[side] ?? 0),
  );
}

describe('a TLS connection’s client random and its key log lines', () => {
  it('reads the random of a ClientHello and keeps the lines of that random only', () => {
    const random = Buffer.alloc(32, 0xab);
    const hello = Buffer.concat([Buffer.from([22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]), random, Buffer.alloc(10)]);
    assert.equal(clientRandom(hello), random.toString('hex'));
    assert.equal(clientRandom(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
    const log = [`CLIENT_TRAFFIC_SECRET_0 ${random.toString('hex')} 00`, `CLIENT_TRAFFIC_SECRET_0 ${'cd'.repeat(32)} 11`, ''].join('\n');
    assert.deepEqual(keyLogLines(log, random.toString('hex')), [`CLIENT_TRAFFIC_SECRET_0 ${random.toString('hex')} 00`]);
  });
});

/** One request on a session; resolves with the response's status and body. */
function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (head) => (status = Number(head[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    stream.end();
  });
}

/** An HTTP/2 session of Node's own client to the relay, its TLS key log lines kept in `keyLog`. */
function connect(relay: ByteRelay, certificate: TlsCertificate, keyLog: string[]): http2.ClientHttp2Session {
  return http2.connect(`https://127.0.0.1:${relay.port}`, {
    createConnection: () => {
      const socket = tls.connect({ host: '127.0.0.1', port: relay.port, ca: certificate.certPem, ALPNProtocols: ['h2'] });
      socket.on('keylog', (line: Buffer) => keyLog.push(line.toString()));
      return socket;
    },
  });
}

/**
 * Node's own HTTP/2 client through a TLS relay, its key log kept: it registers on one connection
 * and polls on another, as the browser does; the measurement without a browser.
 */
async function nodePolls(server: ServerProcess, certificate: TlsCertificate, polls: number): Promise<BrowserHttp2Measurement> {
  const relay = await ByteRelay.start({ upstream: { host: server.host, port: server.port }, protocol: 'http2', tls: true, captureBytes: 1024 * 1024 });
  const keyLog: string[] = [];
  try {
    const registration = connect(relay, certificate, keyLog);
    const registered = await request(registration, { ':method': 'POST', ':path': '/clients' });
    assert.equal(registered.status, 201);
    const { clientId } = JSON.parse(registered.body) as { clientId: string };
    await new Promise<void>((resolve) => registration.close(() => resolve()));
    const session = connect(relay, certificate, keyLog);
    for (let poll = 0; poll < polls; poll += 1) {
      const answer = await request(session, { ':method': 'GET', ':path': `/messages?client=${clientId}&after=0` });
      assert.deepEqual([answer.status, answer.body], [200, '{"messages":[]}']);
    }
    await new Promise<void>((resolve) => session.close(() => resolve()));
    await relay.quiet(200, 10_000);
    return http2Measurement(relay, keyLog.join(''), polls, 1);
  } finally {
    await relay.stop();
  }
}

describe('the header blocks of HTTP/2 polls, from a relay’s ciphertext and the client’s key log', () => {
  let certificate: TlsCertificate;
  before(async () => {
    certificate = await createTlsCertificate();
  });
  after(() => removeTlsCertificate(certificate));

  for (const version of ['1.3', '1.2'] as const satisfies readonly TlsVersion[]) {
    it(`over TLS ${version}: counts each poll’s blocks as the accountant does, the first larger than the tenth (HPACK)`, { timeout: 60_000 }, async () => {
      const server = await ServerProcess.start('short-poll', { tls: { certPath: certificate.certPath, keyPath: certificate.keyPath, version }, http: '2' });
      try {
        const measured = await nodePolls(server, certificate, 10);
        assert.equal(measured.tlsVersion, version);
        assert.equal(measured.requests.length, 10);
        assert.equal(measured.responses.length, 10);
        assert.ok(measured.requests[0]! > measured.requests[9]!, `first ${measured.requests[0]} B, tenth ${measured.requests[9]} B`);
        assert.ok(measured.responses[0]! > measured.responses[9]!, `first ${measured.responses[0]} B, tenth ${measured.responses[9]} B`);
        // every header byte the accountant counted is a poll's block (the registration's are setup, on its own connection)
        assert.equal(sum(measured.requests), measured.bytes.up.headers);
        assert.equal(sum(measured.responses), measured.bytes.down.headers);
        assert.deepEqual(
          measured.exchanges.map((exchange) => [exchange.connection, exchange.method, exchange.kind]),
          [[0, 'POST', 'setup'], ...Array(10).fill([1, 'GET', 'headers'])],
        );
        assert.ok(measured.bytes.up.tls > 0 && measured.bytes.down.setup > 0, 'the record layer and the handshake counted');
        assert.deepEqual(
          measured.firstPoll.request
            .filter(([name]) => name.startsWith(':'))
            .map(([name]) => name)
            .sort(),
          [':authority', ':method', ':path', ':scheme'],
        );
      } finally {
        await server.stop();
      }
    });
  }
});

describe('a real browser’s polls over HTTPS and HTTP/2', { skip: chromiumMissing() }, () => {
  let certificate: TlsCertificate;
  before(async () => {
    certificate = await createTlsCertificate();
  });
  after(() => removeTlsCertificate(certificate));

  it(
    'Chromium trusts the run’s certificate by its key; each poll’s blocks counted exactly, the first larger than the tenth',
    { timeout: 120_000 },
    async () => {
      // the suite's own short-poll server over HTTP/2, started by the measurement with the run's certificate
      const outcome = await measureBrowser({ http2: { certificate } });
      assert.ok(!('skipped' in outcome) && !('failed' in outcome), 'skipped' in outcome ? outcome.skipped : 'failed' in outcome ? outcome.failed : '');
      const measured = outcome.http2;
      assert.ok(measured !== undefined, 'the HTTP/2 polls were asked for');
      assert.equal(measured.tlsVersion, '1.3');
      assert.ok(measured.requests.length >= 10, `${measured.requests.length} polls`);
      assert.equal(measured.responses.length, measured.requests.length);
      // HPACK: the first poll, on a connection of its own, carries its fields whole; the tenth refers to the table
      assert.ok(measured.requests[0]! > measured.requests[9]!, `first ${measured.requests[0]} B, tenth ${measured.requests[9]} B`);
      assert.ok(measured.responses[0]! > measured.responses[9]!, `first ${measured.responses[0]} B, tenth ${measured.responses[9]} B`);
      // exact: the polls' blocks and the other heads counted as headers are every header byte the accountant counted
      assert.equal(sum(measured.requests) + otherHeaderBytes(measured, 'requestHeaderBytes'), measured.bytes.up.headers);
      assert.equal(sum(measured.responses) + otherHeaderBytes(measured, 'responseHeaderBytes'), measured.bytes.down.headers);
      // the page's connection (the document first), then the polls' own
      assert.equal(measured.exchanges[0]?.target, '/stats');
      const polls = measured.exchanges.filter((exchange) => exchange.target.startsWith('/messages?'));
      assert.equal(polls.length, measured.requests.length);
      assert.ok(polls.every((poll) => poll.connection === polls[0]!.connection && poll.connection > 0));
      assert.deepEqual(
        polls.map((poll) => poll.requestHeaderBytes),
        measured.requests,
      );
      const userAgent = measured.firstPoll.request.find(([name]) => name === 'user-agent')?.[1];
      assert.equal(userAgent, outcome.userAgent, "the first poll carries the browser's user agent, whole");
      assert.match(measured.trust, /--ignore-certificate-errors-spki-list/);
      // the HTTP/1.1 figures are there as before, and larger than a later HTTP/2 poll
      assert.ok(outcome.pollRequestBytes > measured.requests[9]!);
      // recorded in results as the report reads them, through JSON as results.json holds them
      const results = JSON.parse(JSON.stringify({ browser: outcome })) as Results;
      assert.deepEqual(browserHttp2Figures(results), { requests: measured.requests, responses: measured.responses, tlsVersion: '1.3' });
    },
  );
});
