import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { startGoEchoServer } from '../bench/go-peer.ts';
import type { CompletedRun, Results } from '../bench/result.ts';
import { renderGoComparison } from '../scripts/report/go-comparison-section.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const WS_ECHO = 'echo/websocket/1KiB/c10';

/** q3 with a Go run made from its ws echo run (as --target records it), and the peer entry. */
function withGoRun(): Results {
  const ws = q3.runs.find((run) => run.id === WS_ECHO) as CompletedRun;
  const go: CompletedRun = {
    ...structuredClone(ws),
    id: `${WS_ECHO}/target`,
    config: { ...ws.config, target: 'ws://127.0.0.1:1/' },
    throughput: { ...ws.throughput, messagesPerSecond: 1234.5 },
  };
  return { ...q3, runs: [...q3.runs, go], peers: { go: { version: 'go1.19.8, golang.org/x/net 1:0.7.0+dfsg-1', runIds: [go.id] } } } as Results;
}

/** The first message a WebSocket client receives after sending `text`. */
function echoOnce(url: string, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('open', () => socket.send(text));
    socket.once('message', (data: Buffer) => {
      clearTimeout(timer);
      socket.close();
      resolve(data.toString('utf8'));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe("the textbook's Go echo server as a peer", () => {
  it('answers "Received:  hi" to a ws client, on / and on /ws', async (t) => {
    const peer = await startGoEchoServer();
    if ('skipped' in peer) {
      t.skip(peer.skipped);
      return;
    }
    try {
      assert.match(peer.version, /^go\d/);
      assert.equal(await echoOnce(peer.url, 'hi', 5_000), 'Received:  hi');
      assert.equal(await echoOnce(new URL('/ws', peer.url).href, 'hi', 5_000), 'Received:  hi');
    } finally {
      await peer.stop();
    }
  });
});

describe('report: the Go server beside ws', () => {
  it('sets each Go run beside the ws run of the same configuration', () => {
    const section = renderGoComparison(withGoRun());
    assert.match(section, /go1\.19\.8, golang\.org\/x\/net 1:0\.7\.0\+dfsg-1/);
    // q3's ws echo run (and so its copy) had a saturated driver: both marked
    assert.match(section, new RegExp(`\\| run \\| \`${WS_ECHO}\` ⚠ \\| \`${WS_ECHO}/target\` ⚠ \\|`));
    assert.match(section, /\| bound \(measured\) \| not recorded; \*\*driver saturated\*\* ⚠ \| not recorded; \*\*driver saturated\*\* ⚠ \|/);
    assert.match(section, /\| messages\/s \(measured\) \| [\d,.]+ ⚠ \| 1,234\.5 ⚠ \|/);
    assert.match(renderMarkdown(withGoRun()), /## The textbook's Go echo server beside `ws`/);
  });

  it('says why when the Go server was skipped, or not recorded', () => {
    const skipped = { ...q3, peers: { go: { skipped: 'go is not installed (apt-get install golang-go golang-golang-x-net-dev)', runIds: [] } } } as Results;
    assert.match(renderGoComparison(skipped), /Not measured in this run: go is not installed \(apt-get install golang-go golang-golang-x-net-dev\)\./);
    assert.match(renderGoComparison(q3), /Not measured in this run: the results carry no Go peer\./);
  });
});
