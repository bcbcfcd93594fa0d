/** npm run bench's command line: what it accepts, what it refuses, and a whole small run. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exitStatus, isWholeSuite, measureBrowserFor, parseBenchArgs } from '../bench/cli.ts';
import { chromiumMissing } from '../bench/browser/chromium.ts';
import { UsageError } from '../scripts/command-line.ts';
import { SUITES, parseSize, resolveSuite, runId } from '../bench/scenarios.ts';
import type { Results } from '../bench/result.ts';
import type { BrowserOptions, BrowserOutcome } from '../bench/browser/measure.ts';
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
      [['--target', 'ftp://x:1'], /--target must be a ws:\/\/, http:\/\/ or tcp:\/\/ URL, or over TLS a wss:\/\/, https:\/\/ or tls:\/\/ one/],
      [['--tls', '1.1'], /--tls takes 1\.3 or 1\.2 \(or nothing: 1\.3\), not "1\.1"/],
      [['--http', '3'], /--http takes 2 \(HTTP\/2\) or 1\.1, not "3"/],
      [['--http', '2'], /--http 2 runs over TLS, as browsers speak it: add --tls \(h2c, HTTP\/2 in plaintext, is not offered\)/],
      [
        ['--tls', '--http', '2', '--transports', 'short-poll,websocket,tcp'],
        /--http 2 carries short-poll, long-poll, sse: websocket and tcp have no HTTP\/2 form/,
      ],
      [['--tls', '--target', 'ws://127.0.0.1:9/'], /--tls with a plaintext --target \(ws:\/\/\)/],
      [['--ca', '/tmp/ca.pem'], /--ca verifies a --target over TLS/],
      [['--ca', '/tmp/ca.pem', '--target', 'http://127.0.0.1:9/'], /--ca verifies a --target over TLS/],
      [['--profile', 'huge'], /unknown profile "huge": use default, quick, scale/],
      [['--loss', '101'], /--loss is a percentage: 0 to 100/],
      [['--link', 'pigeon'], /--link takes auto, netns, relay, not "pigeon"/],
      [['--queue', 'lots'], /--queue: "lots" is not a size/],
      [['--origin', 'http://page.example/index.html'], /--origin takes an origin \(scheme:\/\/host\[:port\], nothing after it\) or none/],
      [['--shard', '2/2', '--target', 'ws://127.0.0.1:9/'], /--shard takes i\/N with i from 0 to N-1/],
      [['--shard', '0/2'], /--shard drives a share of the clients .* give it with --target/],
      [['--shard', '0/2', '--target', 'ws://127.0.0.1:9/'], /--shard needs --start-at/],
      [['--target', 'http://127.0.0.1:1/messages,http://127.0.0.2:2/messages'], /--target: the URLs of one server differ only in their port/],
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
    // every option the command line takes, written out here rather than read from bench/cli.ts
    const options = [
      'quick',
      'profile',
      'latency-bound',
      'transports',
      'scenarios',
      'clients',
      'payload',
      'duration',
      'warmup',
      'in-flight',
      'rate',
      'push-rate',
      'poll-interval',
      'broadcast-events',
      'long-poll-timeout',
      'per-message-deflate',
      'tls',
      'http',
      'rtt',
      'bandwidth',
      'queue',
      'loss',
      'jitter',
      'seed',
      'link',
      'workers',
      'target',
      'ca',
      'cookie-bytes',
      'origin',
      'local-addresses',
      'server-processes',
      'driver-processes',
      'shard',
      'start-at',
      'no-pin',
      'out',
      'help',
    ];
    // one line per option: "  --name [<value>]  what it does"
    const documented = new Map([...result.stdout.matchAll(/^ {2}--([a-z-]+)(?: <[^>]+>)? +(\S.*)$/gm)].map((match) => [match[1]!, match[2]!] as const));
    assert.deepEqual([...documented.keys()].sort(), [...options].sort(), 'the options --help lists');
    for (const [option, help] of documented) assert.match(help, /\w+ \w+/, `--${option} has a line of help`);
    // and each one documented is one the command line accepts (values that parse, where it takes one)
    const accepted: Record<string, string[]> = {
      profile: ['quick'],
      'latency-bound': ['100'],
      transports: ['websocket'],
      scenarios: ['echo'],
      clients: ['5'],
      payload: ['1KiB'],
      duration: ['1'],
      warmup: ['0'],
      'in-flight': ['2'],
      rate: ['100'],
      'push-rate': ['5'],
      'poll-interval': ['100'],
      'broadcast-events': ['3'],
      'long-poll-timeout': ['1000'],
      rtt: ['0,20'],
      bandwidth: ['10mbit'],
      queue: ['64KiB'],
      loss: ['1'],
      jitter: ['5'],
      seed: ['7'],
      link: ['relay'],
      workers: ['2'],
      target: ['ws://127.0.0.1:9/'],
      tls: ['1.2'],
      http: ['2', '--tls'],
      ca: ['/tmp/ca.pem', '--target', 'wss://127.0.0.1:9/'],
      'cookie-bytes': ['100'],
      origin: ['http://localhost:8080'],
      'local-addresses': ['2'],
      'server-processes': ['2'],
      'driver-processes': ['2'],
      shard: ['1/2', '--target', 'ws://127.0.0.1:9/', '--start-at', '1800000000000'],
      'start-at': ['1800000000000'],
      out: ['/tmp/x'],
    };
    for (const option of options) {
      assert.doesNotThrow(() => parseBenchArgs([`--${option}`, ...(accepted[option] ?? [])]), `--${option}`);
    }
  });

  it('carries the runs over TLS (--tls, bare: 1.3) and HTTP/2 (--http 2, the HTTP transports only), and takes a target over TLS', () => {
    const parsed = (args: string[]): Exclude<ReturnType<typeof parseBenchArgs>, 'help'> => {
      const options = parseBenchArgs(args);
      if (options === 'help') return assert.fail(`${args.join(' ')} is not --help`);
      return options;
    };
    // bare --tls, before another option or at the end, is TLS 1.3; a version after it is taken
    for (const args of [['--tls'], ['--tls', '--scenarios', 'push'], ['--scenarios', 'push', '--tls'], ['--tls', '1.3'], ['--tls=1.3']]) {
      assert.equal(parsed(args).overrides.values?.tls, '1.3', args.join(' '));
    }
    assert.equal(parsed(['--tls', '1.2']).overrides.values?.tls, '1.2');
    const h2 = parsed(['--tls', '--http', '2', '--scenarios', 'push']);
    assert.deepEqual(h2.overrides.transports, ['short-poll', 'long-poll', 'sse'], '--http 2 narrows the suite to the transports it carries');
    const runs = resolveSuite(SUITES[h2.suite], h2.overrides);
    assert.ok(runs.length > 0);
    assert.ok(runs.every((run) => run.tls === '1.3' && run.http === '2' && runId(run).endsWith('/tls13/h2') && run.engine === 'wirecost'));
    // --http 1.1 is every run's HTTP: nothing changes
    assert.equal(parsed(['--http', '1.1']).overrides.values?.http, undefined);
    // a target over TLS: its scheme names the transport and means TLS (1.3 unless --tls 1.2 says otherwise); --ca is kept for the run
    for (const [target, transport] of [
      ['https://127.0.0.1:9/', 'short-poll'],
      ['wss://127.0.0.1:9/ws', 'websocket'],
      ['tls://127.0.0.1:9', 'tcp'],
    ] as const) {
      const options = parsed(['--target', target, '--ca', '/tmp/ca.pem']);
      assert.deepEqual(options.overrides.transports, [transport], target);
      assert.equal(options.overrides.values?.tls, '1.3', target);
      assert.equal(options.ca, '/tmp/ca.pem');
    }
    assert.equal(parsed(['--tls', '1.2', '--target', 'wss://127.0.0.1:9/']).overrides.values?.tls, '1.2');
    const overH2 = parsed(['--target', 'https://127.0.0.1:9/', '--http', '2', '--transports', 'sse']);
    assert.deepEqual([overH2.overrides.values?.tls, overH2.overrides.values?.http, overH2.overrides.transports], ['1.3', '2', ['sse']]);
  });

  it('has a protocols profile: each transport over each protocol it has, the Kaazing case over each, a TLS 1.2 pair; the default suite a few of them', () => {
    const runs = resolveSuite(SUITES.protocols, {});
    const forms = (transport: string): string[] =>
      [
        ...new Set(
          runs.filter((run) => run.transport === transport && run.clients === 10 && run.tls !== '1.2').map((run) => `${run.tls ?? ''}/${run.http ?? ''}`),
        ),
      ].sort();
    for (const transport of ['short-poll', 'long-poll', 'sse']) assert.deepEqual(forms(transport), ['/', '1.3/', '1.3/2'], transport);
    for (const transport of ['websocket', 'tcp']) assert.deepEqual(forms(transport), ['/', '1.3/'], transport);
    for (const scenario of ['echo', 'push']) {
      for (const payloadBytes of [16, 1024])
        assert.equal(
          runs.filter((run) => run.scenario === scenario && run.payloadBytes === payloadBytes && run.clients === 10 && run.tls !== '1.2').length,
          13,
        );
    }
    const kaazing = runs.filter((run) => run.group === 'kaazing');
    assert.deepEqual(kaazing.map(runId), [
      'push/short-poll/16B/c1000/r1/i1000ms',
      'push/short-poll/16B/c1000/r1/i1000ms/tls13',
      'push/short-poll/16B/c1000/r1/i1000ms/tls13/h2',
      'push/websocket/16B/c1000/r1',
      'push/websocket/16B/c1000/r1/tls13',
    ]);
    assert.deepEqual(runs.filter((run) => run.tls === '1.2').map(runId), ['push/short-poll/1KiB/c10/r10/i100ms/tls12', 'push/websocket/1KiB/c10/r10/tls12']);
    assert.ok(runs.every((run) => run.durationSeconds <= 3));
    // the default suite: the Kaazing case with its poll over HTTP/2 and its WebSocket over TLS, HTTP/2 push for each polling transport, WebSocket push over TLS
    const added = resolveSuite(SUITES.default, {}).filter((run) => run.tls !== undefined);
    assert.deepEqual(added.map(runId), [
      'push/short-poll/16B/c1000/r1/i1000ms/tls13/h2',
      'push/websocket/16B/c1000/r1/tls13',
      'push/short-poll/1KiB/c50/r10/i100ms/tls13/h2',
      'push/long-poll/1KiB/c50/r10/tls13/h2',
      'push/websocket/1KiB/c50/r10/tls13',
    ]);
    // their time, windows and warm-ups: well under 30 s
    assert.ok(added.reduce((sum, run) => sum + run.warmupSeconds + run.durationSeconds, 0) <= 15);
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

  it('asks the real browser for the cookie the runs carried (--cookie-bytes), and for none without it', async () => {
    const asked: BrowserOptions[] = [];
    const measure = (options: BrowserOptions): Promise<BrowserOutcome> => {
      asked.push(options);
      return Promise.resolve({ skipped: 'not here' });
    };
    const withCookie = resolveSuite(SUITES.quick, { transports: ['short-poll'], scenarios: ['echo'], values: { cookieBytes: 1000 } });
    await measureBrowserFor(withCookie, measure);
    await measureBrowserFor(resolveSuite(SUITES.quick, { transports: ['short-poll'], scenarios: ['echo'] }), measure);
    assert.deepEqual(asked, [{ cookieBytes: 1000 }, {}]);
  });

  it(
    'asks the real browser to poll over HTTP/2 beside HTTP/2 runs, trusting a certificate made for it and removed after',
    { skip: chromiumMissing() },
    async () => {
      let directory = '';
      const measure = (options: BrowserOptions): Promise<BrowserOutcome> => {
        const certificate = options.http2?.certificate as { directory: string; spkiSha256Base64: string } | undefined;
        assert.ok(certificate !== undefined, 'an HTTP/2 run: the browser polls over HTTP/2 too');
        assert.match(certificate.spkiSha256Base64, /^[A-Za-z0-9+/]+=*$/);
        directory = certificate.directory;
        assert.ok(existsSync(directory));
        return Promise.resolve({ skipped: 'not here' });
      };
      const http2 = resolveSuite(SUITES.quick, { transports: ['short-poll'], scenarios: ['push'], values: { tls: '1.3', http: '2' } });
      await measureBrowserFor(http2, measure);
      assert.notEqual(directory, '');
      assert.equal(existsSync(directory), false, 'the certificate is removed once the browser is done');
    },
  );

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

  it("keeps the whole suite's extras (micro-benchmarks, browser, Go peer) for options that only change values, not for those that narrow", () => {
    const whole = (args: string[]): boolean => {
      const options = parseBenchArgs(args);
      if (options === 'help') return assert.fail(`${args.join(' ')} is not --help`);
      return isWholeSuite(options.overrides);
    };
    // every run of the suite, only timed or paced otherwise: still the whole suite
    for (const args of [
      [],
      ['--duration', '1'],
      ['--duration', '1', '--warmup', '0'],
      ['--quick'],
      ['--quick', '--duration', '0.5'],
      ['--push-rate', '5'],
      ['--workers', '2'],
    ]) {
      assert.equal(whole(args), true, args.join(' ') || '(no options)');
    }
    // a part of the suite, or a question of one's own: no extras
    for (const args of [
      ['--transports', 'websocket'],
      ['--scenarios', 'echo'],
      ['--clients', '5'],
      ['--payload', '64'],
      ['--rtt', '0,20'],
      ['--target', 'ws://127.0.0.1:9/'],
      ['--duration', '1', '--transports', 'tcp'],
    ]) {
      assert.equal(whole(args), false, args.join(' '));
    }
  });

  it('runs the faults profile from the command line, narrowed to one transport', { timeout: 120_000 }, (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-faults-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const result = bench(['--profile', 'faults', '--transports', 'tcp', '--duration', '1', '--warmup', '0.3', '--out', out]);
    assert.equal(result.status, 0, result.stderr);
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    assert.equal(results.suite.name, 'faults');
    // the faults suite's TCP runs: a cut link and a server restart (client-kill is for the HTTP transports, slow-consumer for WebSocket)
    assert.deepEqual(
      results.runs.map((run) => run.id),
      ['push/tcp/1KiB/c10/r20/network-cut', 'push/tcp/1KiB/c10/r20/server-restart'],
    );
    const [cut, restart] = results.runs;
    assert.ok(cut?.state === 'completed' && restart?.state === 'completed', result.stderr);
    assert.equal(cut.fault?.kind, 'network-cut');
    assert.notEqual(cut.network.method, 'direct', 'a cut needs an emulated link (netns where it can run, the relay elsewhere)');
    assert.equal(cut.messages.lost, 0, 'a cut only delays');
    assert.equal(restart.fault?.kind, 'server-restart');
    assert.ok(restart.connections.perClient > 1, 'the clients came back after the restart');
    // narrowed: no micro-benchmarks, browser or Go peer
    assert.equal(results.micro, undefined);
    assert.equal(results.browser, undefined);
    assert.equal(results.peers, undefined);
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    const faults = report.slice(report.indexOf('## Faults'));
    assert.ok(report.includes('## Faults'));
    for (const run of results.runs) assert.ok(faults.includes(`\`${run.id}\``), `${run.id} in the report's faults table`);
    assert.match(result.stderr, /^bench: 2 runs, about /m);
    assert.match(result.stdout, /push\/tcp\/1KiB\/c10\/r20\/server-restart/);
  });

  it('runs the named runs and writes results.json with every field', (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-bench-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
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
        'socketBytes',
        'connections',
        'latencyMs',
        'throughput',
        'server',
        'driver',
        'histogram',
      ]) {
        assert.ok(field in run, field);
      }
      // the split against an independent count: what the sockets themselves said they wrote and read
      for (const direction of ['up', 'down'] as const) {
        const split: ByteSplit = run.bytes[direction];
        const socketCount: number = run.socketBytes[direction];
        assert.ok(socketCount > 0, `${run.id} ${direction}: the sockets carried bytes`);
        assert.equal(split.total, socketCount, `${run.id} ${direction}: total against the sockets' count`);
        assert.equal(split.payload + split.headers + split.framing + split.setup, socketCount, `${run.id} ${direction}: the parts against the sockets' count`);
      }
      assert.ok(run.target.startsWith(run.transport === 'websocket' ? 'ws://127.0.0.1:' : 'http://127.0.0.1:'));
      assert.equal(typeof run.driver.saturated, 'boolean');
    }
    assert.deepEqual(results.samples.map((sample) => sample.transport).sort(), ['short-poll', 'websocket']);
  });
});
