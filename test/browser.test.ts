import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Request } from 'playwright-core';
import { BROWSER_MESSAGE, browserBytes, measureBrowser } from '../bench/browser/measure.ts';
import { chromiumMissing, launchChromium } from '../bench/browser/chromium.ts';
import { echoInDemo } from '../bench/browser/demo-driver.ts';
import { startEchoSite } from '../scripts/demo/site.ts';
import { capturedHeads } from '../bench/browser/http-heads.ts';
import { browserFigures } from '../scripts/report/browser.ts';
import type { Results } from '../bench/result.ts';

describe('finding HTTP heads in captured bytes', () => {
  it('walks requests and responses by Content-Length and stops at a 101 or a stream', () => {
    const up = Buffer.from('POST /clients HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET /messages?after=0 HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1');
    const requests = capturedHeads(up, 'request');
    assert.deepEqual(
      requests.map((head) => [head.startLine, head.offset, head.bytes, head.end]),
      [
        ['POST /clients HTTP/1.1', 0, 45, 47],
        ['GET /messages?after=0 HTTP/1.1', 47, 43, 90],
      ],
    );
    const down = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi', 'latin1');
    assert.deepEqual(
      capturedHeads(down, 'response').map((head) => head.end),
      [56],
    );
    const stream = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHTTP/\r\n', 'latin1');
    assert.equal(capturedHeads(stream, 'response').length, 1);
  });
});

describe('the outcome of the real-browser measurement', () => {
  it('is skipped when chromium is not installed', async () => {
    assert.deepEqual(await measureBrowser({}, { missing: () => 'chromium is not installed at /nowhere' }), {
      skipped: 'chromium is not installed at /nowhere',
    });
  });

  it('is failed, with the error, when chromium is there and the measurement goes wrong', async () => {
    const outcome = await measureBrowser({}, { missing: () => undefined, launch: () => Promise.reject(new Error('the browser would not start')) });
    assert.deepEqual(outcome, { failed: 'the browser would not start' });
  });
});

describe('what a real browser sends, measured on the wire', { skip: chromiumMissing() }, () => {
  it('a fetch poll, an EventSource request, a WebSocket upgrade and the frames of a 5-byte message', { timeout: 60_000 }, async () => {
    const outcome = await measureBrowser();
    assert.ok(!('skipped' in outcome) && !('failed' in outcome), 'skipped' in outcome ? outcome.skipped : 'failed' in outcome ? outcome.failed : '');
    assert.equal(outcome.name, 'Chromium');
    assert.match(outcome.version, /^\d+\.\d+/);
    assert.match(outcome.poll.request, /^GET \/messages\?client=[-0-9a-f]+&after=\d+ HTTP\/1\.1\r\n/);
    assert.match(outcome.poll.request, /\r\nUser-Agent: [^\r]+\r\n/);
    assert.match(outcome.poll.request, /\r\n\r\n$/, 'one whole GET, head only');
    assert.ok(outcome.poll.request.includes(`\r\nUser-Agent: ${outcome.userAgent}\r\n`), "the browser's own user agent");
    assert.match(outcome.poll.responseHead, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n$/);
    assert.match(outcome.send.request, new RegExp(`^POST /messages[^]*\\r\\n\\r\\n${BROWSER_MESSAGE}$`));
    assert.match(outcome.eventSource.request, /^GET \/events\?client=[^]*\r\nAccept: text\/event-stream\r\n/);
    assert.match(outcome.eventSource.responseHead, /\r\nContent-Type: text\/event-stream\r\n/);
    assert.match(outcome.upgrade.request, /^GET \/ws HTTP\/1\.1\r\n[^]*\r\nSec-WebSocket-Key: [A-Za-z0-9+/]{22}==\r\n/);
    assert.match(outcome.upgrade.responseHead, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*Sec-WebSocket-Accept: /);
    // up: FIN + text, MASK + length 5, a 4-byte masking key, 5 masked bytes.
    assert.deepEqual([outcome.frameUp.bytes, outcome.frameUp.headerBytes, outcome.frameUp.payloadBytes], [6 + 5, 6, 5]);
    assert.match(outcome.frameUp.hex, /^81 85 /);
    // down: "Received:  hello" unmasked, 2 bytes of header.
    assert.deepEqual([outcome.frameDown.bytes, outcome.websocketFrameBytes], [2 + 16, 2]);
    assert.equal(
      outcome.frameDown.hex,
      `81 10 ${Buffer.from(`Received:  ${BROWSER_MESSAGE}`)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 ')}`,
    );
    // The report reads it as it is.
    const figures = browserFigures({ browser: outcome } as unknown as Results);
    assert.equal(figures?.pollRequestBytes, outcome.pollRequestBytes);
    assert.equal(outcome.cookieBytes, undefined, 'no cookie asked, none carried');
    assert.ok(!/\r\nCookie:/i.test(outcome.poll.request));
  });

  it('with --cookie-bytes, every request of the page carries the cookie, counted in its head', async () => {
    const outcome = await measureBrowser({ cookieBytes: 100 });
    assert.ok(!('skipped' in outcome) && !('failed' in outcome), 'skipped' in outcome ? outcome.skipped : 'failed' in outcome ? outcome.failed : '');
    assert.equal(outcome.cookieBytes, 100);
    for (const request of [outcome.poll.request, outcome.send.request, outcome.eventSource.request, outcome.upgrade.request]) {
      assert.match(request, /\r\nCookie: session=c{92}\r\n/, request.split('\r\n')[0]);
    }
    assert.equal(outcome.pollRequestBytes, Buffer.byteLength(outcome.poll.request, 'latin1'));
  });

  it("counts a poll's request and response head as Chromium itself says it sent and got them", { timeout: 60_000 }, async () => {
    const site = await startEchoSite({ captureBytes: 16 * 1024 });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const polls: Request[] = [];
      page.on('request', (request) => {
        if (request.method() === 'GET' && new URL(request.url()).pathname === '/messages') polls.push(request);
      });
      await page.goto(site.url, { timeout: 15_000 });
      for (const transport of ['short-poll', 'sse', 'websocket']) await echoInDemo(page, transport, BROWSER_MESSAGE, 15_000);
      const measured = browserBytes(site);
      // the poll the relay kept, found among the browser's own requests by its URL
      const target = measured.poll.request.split(' ')[1] ?? '';
      const poll = polls.find((request) => {
        const url = new URL(request.url());
        return url.pathname + url.search === target;
      });
      assert.ok(poll !== undefined, `Chromium made no request for ${target}`);
      const response = await poll.response();
      assert.ok(response !== null);
      // each head's size from Chromium's raw headers (DevTools' account, not the relay's bytes): start line, "Name: value" lines, blank line
      const headBytes = (startLine: string, headers: { name: string; value: string }[]): number =>
        Buffer.byteLength(`${startLine}\r\n${headers.map(({ name, value }) => `${name}: ${value}\r\n`).join('')}\r\n`, 'latin1');
      assert.equal(measured.pollRequestBytes, headBytes(`GET ${target} HTTP/1.1`, await poll.headersArray()));
      assert.equal(measured.pollResponseHeaderBytes, headBytes(`HTTP/1.1 ${response.status()} ${response.statusText()}`, await response.headersArray()));
    } finally {
      await browser.close();
      await site.stop();
    }
  });
});
