/**
 * The bench over TLS and HTTP/2 from its command line, end to end: `npm run bench -- --tls
 * --http 2` and `--tls 1.2` runs complete, their results say over what they ran, their byte
 * split's totals equal the sockets' counters with TLS's own part counted, an HTTP/2 client keeps
 * one connection, the first client's header series is recorded; the certificate the bench made is
 * gone when it ends, and when a signal ends it. And the engine refuses HTTP/2 where it has no form.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runScenario } from '../bench/engine.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { createTlsCertificate, removeTlsCertificate } from '../bench/tls-certificate.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import type { CompletedRun, Results } from '../bench/result.ts';
import { delay, runCommand, waitFor } from './helpers.ts';

const BENCH_TIMEOUT_MS = 120_000;

/** Certificates the bench made under `dir` (its TMPDIR) and left there. */
function certificatesIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('wirecost-tls-'));
}

/** Runs `npm run bench -- args` with its own temporary directory; its results and what it left there. */
async function bench(args: string[]): Promise<{ results: Results; leftCertificates: string[]; stderr: string }> {
  const root = mkdtempSync(path.join(tmpdir(), 'wirecost-secure-bench-'));
  const out = path.join(root, 'out');
  const temp = path.join(root, 'tmp');
  try {
    await runCommand('mkdir', ['-p', temp], { timeoutMs: 5_000 });
    const finished = await runCommand('npm', ['run', '--silent', 'bench', '--', ...args, '--no-pin', '--out', out], {
      timeoutMs: BENCH_TIMEOUT_MS,
      env: { ...process.env, TMPDIR: temp },
    });
    assert.equal(finished.code, 0, finished.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    return { results, leftCertificates: certificatesIn(temp), stderr: finished.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function completed(results: Results): CompletedRun[] {
  return results.runs.map((run) => {
    assert.equal(run.state, 'completed', run.state === 'failed' ? `${run.id}: ${run.error}` : '');
    return run as CompletedRun;
  });
}

function assertSplitMatchesSockets(run: CompletedRun): void {
  for (const direction of ['up', 'down'] as const) {
    const split = run.bytes[direction];
    assert.equal(split.total, run.socketBytes[direction], `${run.id} ${direction}: the split's total against the sockets' count`);
    assert.equal(split.payload + split.headers + split.framing + split.setup + split.tls, split.total, `${run.id} ${direction}: the parts add up`);
    assert.ok(split.tls > 0, `${run.id} ${direction}: TLS's own bytes are counted`);
  }
  // a closed-loop echo may be driver-bound; nothing may be miscounted, lost, duplicated or reordered
  assert.deepEqual(
    run.warnings.filter((warning) => /byte split|LOST|duplicated|reordered/.test(warning)),
    [],
    `${run.id}: ${run.warnings.join('; ')}`,
  );
  assert.equal(run.messages.lost, 0);
}

describe('the bench over TLS and HTTP/2', () => {
  it('short-poll push over HTTP/2 over TLS 1.3 (--tls --http 2), end to end', { timeout: BENCH_TIMEOUT_MS }, async () => {
    const { results, leftCertificates } = await bench([
      '--transports',
      'short-poll',
      '--scenarios',
      'push',
      '--tls',
      '--http',
      '2',
      '--clients',
      '5',
      '--duration',
      '1',
      '--warmup',
      '0.5',
    ]);
    const [run, ...others] = completed(results);
    assert.equal(others.length, 0);
    assert.equal(run!.id, 'push/short-poll/1KiB/c5/r10/i100ms/tls13/h2');
    assert.deepEqual([run!.config.tls, run!.config.http, run!.config.engine], ['1.3', '2', 'wirecost']);
    assert.match(run!.target, /^https:\/\/127\.0\.0\.1:\d+\/messages$/);
    assertSplitMatchesSockets(run!);
    assert.ok(run!.messages.received >= 5 * 10, `${run!.messages.received} messages`);
    assert.deepEqual(run!.connections, { opened: 5, perClient: 1 }, 'one HTTP/2 connection per client');
    assert.equal(run!.server.counters.connectionsAccepted, 5);
    // the first client's first connection: its polls' header blocks, the first carrying what HPACK then refers to
    const series = run!.headerSeries;
    assert.ok(series !== undefined && series.requests.length >= 10 && series.responses.length >= 10, JSON.stringify(series));
    assert.deepEqual(leftCertificates, [], 'the certificate is removed');
  });

  it('WebSocket and TCP echo over TLS 1.2 (--tls 1.2), end to end', { timeout: BENCH_TIMEOUT_MS }, async () => {
    const { results, leftCertificates } = await bench([
      '--transports',
      'websocket,tcp',
      '--scenarios',
      'echo',
      '--tls',
      '1.2',
      '--clients',
      '3',
      '--duration',
      '0.5',
      '--warmup',
      '0.2',
      '--payload',
      '64',
    ]);
    const runs = completed(results);
    assert.deepEqual(runs.map((run) => run.id).sort(), ['echo/tcp/64B/c3/tls12', 'echo/websocket/64B/c3/tls12']);
    for (const run of runs) {
      assert.equal(run.config.tls, '1.2');
      assert.match(run.target, run.transport === 'websocket' ? /^wss:\/\// : /^tls:\/\//);
      assertSplitMatchesSockets(run);
      assert.ok(run.messages.received > 0);
      // a TLS 1.2 handshake is setup: two round trips of it before the first message
      assert.ok(run.bytes.up.setup > 0 && run.bytes.down.setup > 0);
    }
    // the wire sample keeps the first bytes as they went: a TLS handshake record (22) first
    for (const sample of results.samples) assert.equal(Buffer.from(sample.up, 'base64')[0], 22, `${sample.transport}: a ClientHello first`);
    assert.deepEqual(leftCertificates, []);
  });

  it('removes its certificate when a signal ends it', { timeout: BENCH_TIMEOUT_MS }, async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'wirecost-secure-signal-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/cli.ts',
        '--transports',
        'tcp',
        '--scenarios',
        'idle',
        '--tls',
        '--clients',
        '1',
        '--duration',
        '60',
        '--no-pin',
        '--out',
        root,
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: root } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      // the run is under way: its certificate made, the run begun (its server started and its client connected a moment later)
      await waitFor(() => certificatesIn(root).length === 1 && stderr.includes('[1/1]'), { timeoutMs: 60_000, what: 'the TLS run to begin' });
      await delay(2_000);
      assert.equal(child.exitCode, null, stderr);
      child.kill('SIGTERM');
      assert.equal(await exited, 'SIGTERM', 'the signal ended it');
      assert.deepEqual(certificatesIn(root), [], 'the certificate went with it');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone
      }
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses HTTP/2 for WebSocket and TCP, and HTTP/2 without TLS, before starting anything', { timeout: 30_000 }, async () => {
    const context = { serverCommand: [], localAddresses: [], emit: () => {} };
    for (const [transport, tls, message] of [
      ['websocket', '1.3', /HTTP\/2 carries short-poll, long-poll and SSE: websocket has no HTTP\/2 form/],
      ['tcp', '1.3', /tcp has no HTTP\/2 form/],
      ['sse', undefined, /HTTP\/2 runs over TLS, as browsers speak it: add --tls/],
    ] as const) {
      const result = await runScenario({ ...RUN_DEFAULTS, scenario: 'push', transport, clients: 1, http: '2', ...(tls === undefined ? {} : { tls }) }, context);
      assert.equal(result.state, 'failed');
      if (result.state === 'failed') assert.match(result.error, message);
    }
  });

  it("fails a run whose target's certificate its clients cannot verify, and says how to trust it (--ca)", { timeout: 30_000 }, async () => {
    const certificate = await createTlsCertificate();
    const server = await ServerProcess.start('websocket', { tls: { certPath: certificate.certPath, keyPath: certificate.keyPath } });
    try {
      const config = {
        ...RUN_DEFAULTS,
        scenario: 'echo' as const,
        transport: 'websocket' as const,
        clients: 1,
        tls: '1.3' as const,
        warmupSeconds: 0.1,
        durationSeconds: 0.3,
      };
      const context = { serverCommand: [], localAddresses: [], emit: () => {} };
      const target = `wss://127.0.0.1:${server.port}/ws`;
      const refused = await runScenario({ ...config, target }, context);
      assert.equal(refused.state, 'failed');
      if (refused.state === 'failed')
        assert.match(
          refused.error,
          /the clients refused the server's certificate \(.*self-signed certificate.*\): give the CA that signed it with --ca <file>/,
        );
      // the same target, its CA given
      const trusted = await runScenario({ ...config, target }, { ...context, ca: { pem: certificate.certPem, path: certificate.certPath } });
      assert.equal(trusted.state, 'completed', trusted.state === 'failed' ? trusted.error : '');
    } finally {
      await server.stop();
      await removeTlsCertificate(certificate);
    }
  });
});
