/** npm run bench's command line: what it accepts, what it refuses, and a whole small run. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exitStatus, measureBrowserFor, parseBenchArgs } from '../bench/cli.ts';
import { UsageError } from '../scripts/command-line.ts';
import { SUITES, parseSize, resolveSuite, runId } from '../bench/scenarios.ts';
import type { Results } from '../bench/result.ts';
import type { ByteSplit } from '../bench/wire.ts';
import { runCommand } from './helpers.ts';

/** A bench that starts, fails its one run and writes its results takes a few seconds; it must have exited by this. */
const FAILED_RUN_EXIT_MS = 30_000;

/** A WebSocket server that refuses every upgrade with 403, as golang.org/x/net/websocket does without an Origin header. */
async function refusingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (_req, socket) => {
    socket.on('error', () => {}); // the client may reset it first
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function bench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bench command line', () => {
  it('refuses unknown options and impossible values with exit code 2 and a clear message', () => {
    for (const [args, message] of [
      [['--bogus'], /Unknown option '--bogus'/],
      [['--transports', 'carrier-pigeon'], /unknown transport "carrier-pigeon"/],
      [['--clients', '0'], /--clients must be a whole number above 0/],
      [['--duration=-1'], /--duration must be a number above 0/],
      [['--duration', '-1'], /argument is ambiguous/],
      [['--payload', '12 parsecs'], /--payload: "12 parsecs" is not a size/],
      [['--target', 'ftp://x:1'], /--target must be a ws:\/\/, http:\/\/ or tcp:\/\/ URL/],
      [['--profile', 'huge'], /unknown profile "huge": use default, quick, scale/],
      [['--loss', '101'], /--loss is a percentage: 0 to 100/],
      [['--link', 'pigeon'], /--link takes auto, netns, relay, not "pigeon"/],
      [['--queue', 'lots'], /--queue: "lots" is not a size/],
      [['--origin', 'http://page.example/index.html'], /--origin takes an origin \(scheme:\/\/host\[:port\], nothing after it\) or none/],
    ] as const) {
      const result = bench([...args]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line: ${result.stderr}`);
      assert.match(result.stderr, /^bench: .* \(npm run bench -- --help shows the usage\)\n$/);
    }
  });

  it('documents every option in --help', () => {
    const result = bench(['--help']);
    assert.equal(result.status, 0);
    for (const option of [
      '--quick',
      '--transports',
      '--scenarios',
      '--clients',
      '--payload',
      '--duration',
      '--rate',
      '--push-rate',
      '--poll-interval',
      '--target',
      '--origin',
      '--workers',
      '--out',
      '--link',
      '--loss',
      '--queue',
      '--jitter',
      '--seed',
    ]) {
      assert.ok(result.stdout.includes(option), option);
    }
  });

  it('narrows the suite with its options and names each run by what it is', () => {
    const options = parseBenchArgs(['--transports', 'websocket,short-poll', '--scenarios', 'echo', '--clients', '50', '--duration', '5', '--payload', '64']);
    assert.notEqual(options, 'help');
    if (options === 'help') return;
    const runs = resolveSuite(SUITES[options.suite], options.overrides);
    assert.deepEqual(runs.map(runId).sort(), ['echo/short-poll/64B/c50', 'echo/websocket/64B/c50']);
    assert.ok(runs.every((run) => run.durationSeconds === 5));
    assert.equal(runs.find((run) => run.transport === 'short-poll')?.engine, 'autocannon');
    assert.equal(parseSize('64KiB'), 65_536);
    assert.equal(parseSize('1KB'), 1000);
    assert.throws(() => parseBenchArgs(['--workers', '1.5']), UsageError);
    const origins = ['none', 'http://localhost:8080', 'HTTPS://Page.Example:443'].map((origin) => {
      const parsed = parseBenchArgs(['--target', 'ws://127.0.0.1:1234/', '--origin', origin]);
      return parsed === 'help' ? 'help' : parsed.overrides.values?.origin;
    });
    assert.deepEqual(origins, [null, 'http://localhost:8080', 'https://page.example']);
    const scale = parseBenchArgs(['--profile', 'scale', '--transports', 'websocket']);
    if (scale === 'help') return assert.fail('--profile scale is not --help');
    assert.equal(scale.suite, 'scale');
    const scaleRuns = resolveSuite(SUITES.scale, scale.overrides);
    assert.ok(scaleRuns.some((run) => run.clients === 100_000));
    assert.ok(scaleRuns.filter((run) => run.group === 'capacity').every((run) => run.latencyBoundMs === 500));
    const lossy = parseBenchArgs([
      '--transports',
      'tcp',
      '--scenarios',
      'echo',
      '--clients',
      '1',
      '--rtt',
      '20',
      '--loss',
      '1',
      '--seed',
      '9',
      '--link',
      'netns',
    ]);
    if (lossy === 'help') return assert.fail('not --help');
    assert.equal(lossy.link, 'netns');
    const [lossyRun] = resolveSuite(SUITES[lossy.suite], lossy.overrides);
    assert.equal(lossyRun?.lossPercent, 1);
    assert.equal(lossyRun?.seed, 9);
    assert.equal(runId(lossyRun!), 'echo/tcp/1KiB/c1/rtt20ms/loss1%');
  });

  it('records a real-browser measurement that failed as failed, and exits non-zero for it; a skipped one exits 0', async () => {
    const runs = resolveSuite(SUITES.quick, { transports: ['websocket'], scenarios: ['echo'] });
    const failed = await measureBrowserFor(runs, () => Promise.reject(new Error('page.goto: Timeout 15000ms exceeded')));
    assert.deepEqual(failed, { failed: 'page.goto: Timeout 15000ms exceeded' });
    assert.deepEqual(await measureBrowserFor(runs, () => Promise.resolve({ failed: 'no text frame up after the upgrade' })), {
      failed: 'no text frame up after the upgrade',
    });
    const skipped = await measureBrowserFor(runs, () => Promise.resolve({ skipped: 'chromium is not installed at /usr/bin/chromium' }));
    assert.deepEqual(skipped, { skipped: 'chromium is not installed at /usr/bin/chromium' });
    assert.equal(exitStatus({ runs: [], browser: failed }), 1);
    assert.equal(exitStatus({ runs: [], browser: skipped }), 0);
    assert.equal(exitStatus({ runs: [] }), 0);
  });

  it('ends with exit code 1 within seconds when a run fails, whatever the run left open', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-bench-failed-'));
    const refusing = await refusingServer();
    try {
      for (const target of [refusing.url, 'tcp://127.0.0.1:1']) {
        const args = [
          '--import',
          'tsx',
          'bench/cli.ts',
          '--target',
          target,
          '--scenarios',
          'echo',
          '--clients',
          '2',
          '--duration',
          '0.5',
          '--warmup',
          '0',
          '--out',
          out,
        ];
        const finished = await runCommand(process.execPath, args, { timeoutMs: FAILED_RUN_EXIT_MS });
        assert.equal(finished.code, 1, finished.stderr);
        assert.match(finished.stderr, /bench: 1 of 1 runs failed/);
        const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
        assert.equal(results.runs[0]?.state, 'failed');
      }
    } finally {
      await refusing.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('runs the named runs and writes results.json with every field', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-bench-'));
    const result = bench([
      '--transports',
      'websocket,short-poll',
      '--scenarios',
      'echo',
      '--clients',
      '3',
      '--duration',
      '0.5',
      '--warmup',
      '0.2',
      '--payload',
      '64',
      '--out',
      out,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /echo\/websocket\/64B\/c3/);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.schemaVersion, 1);
    for (const field of ['node', 'cpuModel', 'cores', 'os', 'packages', 'gitCommit', 'startedAt']) assert.ok(field in results.environment, field);
    // a question of one's own: just its runs (no micro-benchmarks, browser or Go peer)
    const suiteRuns = results.runs;
    assert.equal(suiteRuns.length, 2);
    assert.equal(results.micro, undefined);
    for (const run of suiteRuns) {
      assert.equal(run.state, 'completed');
      if (run.state !== 'completed') continue;
      for (const field of [
        'id',
        'scenario',
        'transport',
        'target',
        'clients',
        'payloadBytes',
        'durationSeconds',
        'config',
        'messages',
        'bytes',
        'connections',
        'latencyMs',
        'throughput',
        'server',
        'driver',
        'histogram',
      ]) {
        assert.ok(field in run, field);
      }
      for (const direction of ['up', 'down'] as const) {
        const split: ByteSplit = run.bytes[direction];
        assert.equal(split.total, split.payload + split.headers + split.framing + split.setup);
      }
      assert.ok(run.target.startsWith(run.transport === 'websocket' ? 'ws://127.0.0.1:' : 'http://127.0.0.1:'));
      assert.equal(typeof run.driver.saturated, 'boolean');
    }
    assert.deepEqual(results.samples.map((sample) => sample.transport).sort(), ['short-poll', 'websocket']);
  });
});
