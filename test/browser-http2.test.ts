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
import { browserHttp2Figures } from '../scripts/report/browser.ts';
import { startH2PollServer, type H2PollServer } from './h2-poll-server.ts';

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

/** Ten polls from Node's own HTTP/2 client through a TLS relay, its key log kept: the measurement without a browser. */
async function nodePolls(server: H2PollServer, polls: number): Promise<BrowserHttp2Measurement> {
  const relay = await ByteRelay.start({ upstream: server, protocol: 'http2', tls: true, captureBytes: 1024 * 1024 });
  const keyLog: string[] = [];
  try {
    const session = http2.connect(`https://127.0.0.1:${relay.port}`, {
      createConnection: () => {
        const socket = tls.connect({ host: '127.0.0.1', port: relay.port, ca: server.certificate.certPem, ALPNProtocols: ['h2'] });
        socket.on('keylog', (line: Buffer) => keyLog.push(line.toString()));
        return socket;
      },
    });
    for (let poll = 0; poll < polls; poll += 1) {
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': '/messages?client=0b1c&after=0' });
        stream.on('response', (headers) => assert.equal(headers[':status'], 200));
        stream.resume();
        stream.on('end', resolve);
        stream.on('error', reject);
      });
    }
    await new Promise<void>((resolve) => session.close(() => resolve()));
    await relay.quiet(200, 10_000);
    return http2Measurement(relay, keyLog.join(''), polls, 0);
  } finally {
    await relay.stop();
  }
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  describe(`the header blocks of HTTP/2 polls over ${version}, from a relay's ciphertext and the client's key log`, () => {
    let server: H2PollServer;
    before(async () => {
      server = await startH2PollServer(version);
    });
    after(() => server.stop());

    it('counts each poll’s blocks as the accountant does, the first larger than the tenth (HPACK)', async () => {
      const measured = await nodePolls(server, 10);
      assert.equal(measured.tlsVersion, version === 'TLSv1.3' ? '1.3' : '1.2');
      assert.equal(measured.requests.length, 10);
      assert.equal(measured.responses.length, 10);
      assert.ok(measured.requests[0]! > measured.requests[9]!, `first ${measured.requests[0]} B, tenth ${measured.requests[9]} B`);
      assert.ok(measured.responses[0]! > measured.responses[9]!, `first ${measured.responses[0]} B, tenth ${measured.responses[9]} B`);
      // every header byte the accountant counted is a poll's block: nothing else went over the connection
      assert.equal(sum(measured.requests), measured.bytes.up.headers);
      assert.equal(sum(measured.responses), measured.bytes.down.headers);
      assert.ok(measured.bytes.up.tls > 0 && measured.bytes.down.setup > 0, 'the record layer and the handshake counted');
      assert.deepEqual(
        measured.firstPoll.request
          .filter(([name]) => name.startsWith(':'))
          .map(([name]) => name)
          .sort(),
        [':authority', ':method', ':path', ':scheme'],
      );
    });
  });
}

describe('a real browser’s polls over HTTPS and HTTP/2', { skip: chromiumMissing() }, () => {
  let server: H2PollServer;
  before(async () => {
    server = await startH2PollServer();
  });
  after(() => server.stop());

  it(
    'Chromium trusts the run’s certificate by its key; each poll’s blocks counted exactly, the first larger than the tenth',
    { timeout: 120_000 },
    async () => {
      const outcome = await measureBrowser({ http2: { server, certificate: server.certificate } });
      assert.ok(!('skipped' in outcome) && !('failed' in outcome), 'skipped' in outcome ? outcome.skipped : 'failed' in outcome ? outcome.failed : '');
      const measured = outcome.http2;
      assert.ok(measured !== undefined, 'the HTTP/2 polls were asked for');
      assert.equal(measured.tlsVersion, '1.3');
      assert.ok(measured.requests.length >= 10, `${measured.requests.length} polls`);
      assert.equal(measured.responses.length, measured.requests.length);
      // HPACK: the first poll, on a connection of its own, carries its fields whole; the tenth refers to the table
      assert.ok(measured.requests[0]! > measured.requests[9]!, `first ${measured.requests[0]} B, tenth ${measured.requests[9]} B`);
      assert.ok(measured.responses[0]! >= measured.responses[9]!, `first ${measured.responses[0]} B, tenth ${measured.responses[9]} B`);
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
      // the HTTP/1.1 figures are there as before
      assert.ok(outcome.pollRequestBytes > measured.requests[9]!);
      // recorded in results as the report reads them, through JSON as results.json holds them
      const results = JSON.parse(JSON.stringify({ browser: outcome })) as Results;
      assert.deepEqual(browserHttp2Figures(results), { requests: measured.requests, responses: measured.responses, tlsVersion: '1.3' });
    },
  );
});
