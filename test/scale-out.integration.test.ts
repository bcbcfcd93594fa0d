/**
 * The server and the driver across processes, with real processes and sockets: a server of
 * several workers (servers/cluster.ts), a run split into shards and merged (bench/shard.ts,
 * npm run report -- --merge), the bench's own driver processes (--driver-processes), and a shard
 * that dies.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { ServerProcess } from '../bench/server-process.ts';
import { decodeHistogram } from '../bench/latency.ts';
import type { CompletedRun, Results } from '../bench/result.ts';
import { delay, runCommand, waitFor } from './helpers.ts';

const TEST_TIMEOUT_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function bench(args: string[], timeoutMs = 90_000): ReturnType<typeof runCommand> {
  return runCommand(process.execPath, ['--import', 'tsx', 'bench/cli.ts', ...args], { timeoutMs });
}

function onlyRun(file: string): CompletedRun {
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  const run = results.runs[0];
  assert.ok(run !== undefined, `${file} holds a run`);
  assert.equal(run.state, 'completed', run.state === 'failed' ? run.error : '');
  return run as CompletedRun;
}

/** Processes whose command line holds `text` (not this one). */
function processesWith(text: string): number[] {
  const found = spawnSync('pgrep', ['-f', '--', text], { encoding: 'utf8' });
  return found.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

describe('a server of several processes (--processes)', () => {
  it('websocket: the workers share one port, its stats add theirs up, and SIGTERM stops every worker', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await ServerProcess.start('websocket', { args: ['--processes', '2'] });
    const workers = server.ready.workers ?? [];
    try {
      assert.equal(workers.length, 2);
      assert.deepEqual(server.ports, [server.port, server.port], 'one port');
      const sockets = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
          await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
          return ws;
        }),
      );
      await waitFor(async () => (await server.stats()).clients === 20, { what: 'the 20 clients in the stats', timeoutMs: 10_000 });
      const stats = await server.stats();
      assert.equal(stats.workers?.length, 2);
      assert.equal(
        stats.workers!.reduce((sum, worker) => sum + worker.connectionsAccepted, 0),
        stats.connectionsAccepted,
      );
      assert.equal(stats.connectionsAccepted, 20);
      assert.ok(stats.rssBytes > stats.workers!.reduce((sum, worker) => sum + worker.rssBytes, 0), "the primary's memory counts too");
      assert.equal(await server.broadcast(16), 20, 'a broadcast reaches the clients of every worker');
      for (const ws of sockets) ws.close();
    } finally {
      assert.equal(await server.stop(), 0, 'a graceful stop');
    }
    await waitFor(() => workers.every((pid) => !alive(pid)), { what: 'every worker gone', timeoutMs: 10_000 });
  });

  it('a worker that dies stops the server with an error, leaving no worker behind', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await ServerProcess.start('tcp', { args: ['--processes', '2'] });
    const workers = server.ready.workers ?? [];
    process.kill(workers[0]!, 'SIGKILL');
    await waitFor(() => server.process.exitCode !== null, { what: 'the primary to exit', timeoutMs: 15_000 });
    assert.equal(server.process.exitCode, 1);
    await waitFor(() => workers.every((pid) => !alive(pid)), { what: 'the other worker gone', timeoutMs: 15_000 });
  });

  it('long-poll: a port per worker, and a run places client i on port i mod N, losing nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-workers-'));
    try {
      const run = await bench([
        ...['--transports', 'long-poll', '--scenarios', 'push', '--clients', '20', '--push-rate', '10'],
        ...['--warmup', '0.5', '--duration', '1', '--server-processes', '2', '--no-pin', '--out', out],
      ]);
      assert.equal(run.code, 0, run.stderr);
      const result = onlyRun(path.join(out, 'results.json'));
      assert.equal(result.id, 'push/long-poll/1KiB/c20/r10/srv2');
      assert.equal(result.messages.lost, 0);
      assert.equal(result.messages.received, result.messages.expected);
      const workers = result.server.workers ?? [];
      assert.equal(workers.length, 2);
      assert.deepEqual(
        workers.map((worker) => worker.clients),
        [10, 10],
        'sticky placement: half the clients registered with each worker',
      );
      assert.ok(result.server.window !== undefined && result.bound !== undefined);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('a run in shards', () => {
  it(
    'two shards, merged, equal the same run unsharded: identical bytes and message counts, and the histogram counts summed',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const out = mkdtempSync(path.join(tmpdir(), 'wirecost-shards-'));
      const server = await ServerProcess.start('websocket');
      try {
        const target = `ws://127.0.0.1:${server.port}/ws`;
        const runOptions = ['--transports', 'websocket', '--scenarios', 'push', '--clients', '20', '--push-rate', '5', '--warmup', '1', '--duration', '1.5'];
        // every shard must have connected by the moment it is given; a loaded machine starts a bench in a few seconds
        const startAt = Date.now() + 12_000;
        const shards = await Promise.all(
          [0, 1].map((index) =>
            bench([...runOptions, '--target', target, '--shard', `${index}/2`, '--start-at', String(startAt), '--out', path.join(out, `shard-${index}`)]),
          ),
        );
        for (const shard of shards) assert.equal(shard.code, 0, shard.stderr);
        const files = [0, 1].map((index) => path.join(out, `shard-${index}`, 'results.json'));
        const merge = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/report.ts', '--merge', ...files, '--out', path.join(out, 'merged')], {
          timeoutMs: 60_000,
        });
        assert.equal(merge.code, 0, merge.stderr);
        const whole = await bench([...runOptions, '--target', target, '--out', path.join(out, 'whole')]);
        assert.equal(whole.code, 0, whole.stderr);

        const parts = files.map(onlyRun);
        const merged = onlyRun(path.join(out, 'merged', 'results.json'));
        const unsharded = onlyRun(path.join(out, 'whole', 'results.json'));
        assert.deepEqual(
          parts.map((part) => part.shard?.clients),
          [10, 10],
        );
        assert.equal(merged.clients, 20);
        assert.deepEqual(merged.bytes, unsharded.bytes, 'the same bytes, part by part');
        for (const field of ['expected', 'received', 'lost', 'duplicated', 'reordered'] as const) {
          assert.equal(merged.messages[field], unsharded.messages[field], `messages.${field}`);
        }
        assert.equal(merged.messages.received, 20 * Math.ceil((1 + 1.5) * 5), 'every client its pushes');
        assert.equal(merged.connections.opened, unsharded.connections.opened);
        const counts = parts.map((part) => decodeHistogram(part.histogram).totalCount);
        assert.equal(decodeHistogram(merged.histogram).totalCount, counts[0]! + counts[1]!);
        assert.equal(merged.latencyMs.count, counts[0]! + counts[1]!);
        assert.deepEqual(
          merged.driver.shards?.map((shard) => shard.clients),
          [10, 10],
        );
        assert.ok(readFileSync(path.join(out, 'merged', 'report.md'), 'utf8').includes('2 driver processes'), 'the report names the shards');
      } finally {
        await server.stop();
        rmSync(out, { recursive: true, force: true });
      }
    },
  );

  it('--driver-processes: a shard that dies fails the run with its error, and the other shards are stopped', { timeout: TEST_TIMEOUT_MS }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-dying-shard-'));
    try {
      const running = bench([
        ...['--transports', 'websocket', '--scenarios', 'push', '--clients', '10', '--push-rate', '5'],
        ...['--warmup', '2', '--duration', '20', '--driver-processes', '2', '--no-pin', '--out', out],
      ]);
      // the shards are the bench's own command with --shard, under a directory of their own
      await waitFor(() => processesWith('--shard 1/2').length > 0, { what: 'shard 1 to start', timeoutMs: 30_000, everyMs: 100 });
      await delay(4_000);
      const [victim] = processesWith('--shard 1/2');
      assert.ok(victim !== undefined);
      process.kill(victim, 'SIGKILL');
      const finished = await running;
      assert.equal(finished.code, 1, 'the run failed');
      const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
      const run = results.runs[0]!;
      assert.equal(run.state, 'failed');
      assert.match(run.state === 'failed' ? run.error : '', /driver process 1 .*exited/);
      await waitFor(() => processesWith('--shard 0/2').length === 0, { what: 'shard 0 stopped', timeoutMs: 15_000, everyMs: 100 });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
