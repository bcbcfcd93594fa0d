import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startGoEchoServer } from '../bench/go-peer.ts';
import type { CompletedRun, Results } from '../bench/result.ts';
import { renderGoComparison } from '../scripts/report/go-comparison-section.ts';
import { renderMarkdown } from '../scripts/report/render.ts';
import { runCommand } from './helpers.ts';

/** A short bench run against the Go server: starting, one run and its report fit well within this. */
const BENCH_TIMEOUT_MS = 60_000;

/** Each test's limit: a server or client that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 60_000;

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

/** The first message a WebSocket client receives after sending `text` (with an Origin header, as a browser sends). */
function echoOnce(url: string, text: string, timeoutMs: number, origin: string | null = 'http://127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin === null ? {} : { origin });
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
  it('answers "Received:  hi" to a ws client, on / and on /ws', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const peer = await startGoEchoServer();
    if ('skipped' in peer) {
      t.skip(peer.skipped);
      return;
    }
    try {
      assert.match(peer.version, /^go\d/);
      assert.equal(await echoOnce(peer.url, 'hi', 5_000), 'Received:  hi');
      assert.equal(await echoOnce(new URL('/ws', peer.url).href, 'hi', 5_000), 'Received:  hi');
      // the textbook's handler, as its library does by default, refuses a client without Origin
      await assert.rejects(echoOnce(peer.url, 'hi', 5_000, null), /Unexpected server response: 403/);
    } finally {
      await peer.stop();
    }
  });

  it(
    "is driven by npm run bench -- --target with the target's own origin; --origin changes it, --origin none leaves it out (403)",
    { timeout: 4 * BENCH_TIMEOUT_MS },
    async (t) => {
      const peer = await startGoEchoServer();
      if ('skipped' in peer) {
        t.skip(peer.skipped);
        return;
      }
      const out = mkdtempSync(path.join(tmpdir(), 'wirecost-go-target-'));
      try {
        const bench = async (extra: string[]): Promise<{ code: number | null; results: Results }> => {
          const args = ['--import', 'tsx', 'bench/cli.ts', '--target', peer.url, '--scenarios', 'echo', '--clients', '2'];
          args.push('--duration', '0.5', '--warmup', '0', '--out', out, ...extra);
          const finished = await runCommand(process.execPath, args, { timeoutMs: BENCH_TIMEOUT_MS });
          return { code: finished.code, results: JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results };
        };
        for (const extra of [[], ['--origin', 'https://textbook.example']]) {
          const { code, results } = await bench(extra);
          const run = results.runs[0];
          assert.equal(code, 0, `${extra.join(' ')}: ${run?.state === 'failed' ? run.error : ''}`);
          assert.equal(run?.state, 'completed');
          if (run?.state === 'completed') assert.ok(run.messages.received > 0, 'echoes came back');
        }
        const refused = await bench(['--origin', 'none']);
        assert.equal(refused.code, 1);
        const run = refused.results.runs[0];
        assert.equal(run?.state, 'failed');
        if (run?.state === 'failed') assert.match(run.error, /403/);
      } finally {
        await peer.stop();
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
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
