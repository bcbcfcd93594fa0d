/**
 * npm run bench: runs a suite of scenarios, prints a summary table, and writes results.json
 * and report.md (with its charts) under reports/<run-id>/ or --out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HTTP2_TRANSPORTS, TRANSPORTS, TLS_VERSIONS, isTransportName, type TransportName } from '../servers/contract.ts';
import { normalizeOrigin } from '../servers/origin.ts';
import { runScenario, type EngineContext, type EngineEvent } from './engine.ts';
import { measureBrowser, type BrowserOptions, type BrowserOutcome } from './browser/measure.ts';
import { startGoEchoServer } from './go-peer.ts';
import { runMicroBenchmarks } from './micro/run.ts';
import { runDriverBenchmark } from './driver-bench/run.ts';
import { stepEnd, sustained } from './capacity.ts';
import { describeEnvironment } from './environment.ts';
import { coreCount, pinDriver } from './pinning.ts';
import { availableParallelism } from 'node:os';
import { Progress } from './progress.ts';
import { SCENARIOS, SCHEMA_VERSION, type ShardSpec, type Results, type RunConfig, type RunResult, type ScenarioName, type WireSample } from './result.ts';
import {
  DEFAULT_LATENCY_BOUND_MS,
  RUN_DEFAULTS,
  SUITES,
  isScenarioName,
  parseBandwidth,
  parseSize,
  resolveSuite,
  type SuiteName,
  type SuiteOverrides,
} from './scenarios.ts';
import { summaryTable } from './summary.ts';
import { writeReport } from '../scripts/report/write.ts';
import { LINK_REQUESTS, chooseLink, needsNetns, wantsLink, type LinkRequest } from './link/index.ts';
import { firstMessageFor } from './link/first-message.ts';
import { parseShard } from './shard.ts';
import type { ShardMessage } from './shard-process.ts';
import { UsageError, exitWith, parseCommandLine, runCommand, type Command } from '../scripts/command-line.ts';
import { createRunCertificate, removeRunCertificate } from './run-certificate.ts';
import { createTlsCertificate, removeTlsCertificate } from './tls-certificate.ts';
import { chromiumMissing } from './browser/chromium.ts';

interface OptionSpec {
  type: 'string' | 'boolean';
  value?: string;
  help: string;
}

/** Every option, with its help line; --help prints them in this order. */
const OPTIONS: Record<string, OptionSpec> = {
  quick: { type: 'boolean', help: 'the short suite: every transport and scenario once, in about a minute (= --profile quick)' },
  profile: {
    type: 'string',
    value: 'name',
    help: "default, quick, scale (1,000 to 100,000 clients and each transport's capacity; several minutes), faults (clients dropped, a cut link, a slow consumer), protocols (every transport over HTTP/1.1, TLS 1.3 and HTTP/2 over TLS; a few minutes) or driver (the bench's clients against bare loads, wrk and autocannon)",
  },
  'latency-bound': {
    type: 'string',
    value: 'ms',
    help: `scale: the p99 push latency a transport must stay under as its clients grow (default ${DEFAULT_LATENCY_BOUND_MS})`,
  },
  transports: { type: 'string', value: 'list', help: `only these transports (${TRANSPORTS.join(',')})` },
  scenarios: { type: 'string', value: 'list', help: `only these scenarios (${SCENARIOS.join(',')})` },
  clients: { type: 'string', value: 'list', help: 'client counts to run each scenario with, e.g. 1,50,1000' },
  payload: { type: 'string', value: 'list', help: 'message sizes, e.g. 16,1KiB,64KiB (B, KiB, MiB, KB, MB)' },
  duration: { type: 'string', value: 'seconds', help: `measured window of each run (default ${RUN_DEFAULTS.durationSeconds})` },
  warmup: { type: 'string', value: 'seconds', help: `warm-up before the window (default ${RUN_DEFAULTS.warmupSeconds})` },
  'in-flight': { type: 'string', value: 'n', help: `echo, closed loop: messages each client keeps in flight (default ${RUN_DEFAULTS.inFlight})` },
  rate: { type: 'string', value: 'msg/s', help: 'echo, open loop: messages per second from all clients, latency from the intended send time (0: closed loop)' },
  'push-rate': { type: 'string', value: 'msg/s', help: `push: messages per second to each client (default ${RUN_DEFAULTS.pushRatePerSecond})` },
  'poll-interval': { type: 'string', value: 'ms', help: `short-poll: time between polls (default ${RUN_DEFAULTS.pollIntervalMs})` },
  'broadcast-events': { type: 'string', value: 'n', help: `broadcast: events in the window (default ${RUN_DEFAULTS.broadcastEvents})` },
  'long-poll-timeout': { type: 'string', value: 'ms', help: `long-poll: how long the server holds an empty poll (default ${RUN_DEFAULTS.longPollTimeoutMs})` },
  'per-message-deflate': { type: 'boolean', help: 'websocket: negotiate permessage-deflate' },
  tls: {
    type: 'string',
    value: 'version',
    help: 'every run over TLS 1.3 or 1.2 (bare --tls: 1.3): https, wss, TLS over TCP; the bench makes one certificate for its servers, its clients trust it',
  },
  http: {
    type: 'string',
    value: 'version',
    help: '2: short-poll, long-poll and SSE over HTTP/2, one connection per client (needs --tls: browsers speak HTTP/2 over TLS only); narrows the suite to them',
  },
  rtt: { type: 'string', value: 'list', help: 'round-trip times in ms to add between driver and server, e.g. 0,20,100 (an emulated link, see --link)' },
  bandwidth: { type: 'string', value: 'rate', help: 'bits per second each direction of the link carries, e.g. 10mbit, 1gbit (an emulated link, see --link)' },
  queue: { type: 'string', value: 'size', help: 'netns link: the queue in front of --bandwidth, e.g. 64KiB (drop-tail; default 100 ms at the rate)' },
  loss: { type: 'string', value: 'percent', help: 'netns link: packets lost at random each way, e.g. 1 (refused where the netns method cannot run)' },
  jitter: { type: 'string', value: 'ms', help: 'netns link: up to this much more or less one-way delay at random; packets stay in order' },
  seed: { type: 'string', value: 'n', help: 'netns link: seed of the loss and jitter generators (default 1); kept in the results' },
  link: {
    type: 'string',
    value: 'method',
    help: 'how shaped runs are carried: netns (the kernel’s TCP over an emulated path: root, /dev/net/tun, ip), relay (a delaying relay), auto (netns where it can run; default)',
  },
  workers: { type: 'string', value: 'n', help: 'worker threads the clients are spread over (default 1; pinning leaves the driver one core)' },
  target: {
    type: 'string',
    value: 'url',
    help: 'drive a server the suite did not start, e.g. ws://127.0.0.1:8080/ (echo, push, idle; https://, wss:// and tls:// over TLS); a comma list of URLs on one host: client i goes to the (i mod n)-th (a server with a port per worker)',
  },
  ca: {
    type: 'string',
    value: 'file',
    help: "a --target over TLS: the CA certificate (PEM) its server's certificate is verified with (default: Node's own CAs); an unverified certificate fails the run",
  },
  'server-processes': {
    type: 'string',
    value: 'n',
    help: 'the server as n worker processes (websocket, tcp: one port; polling, sse: a port per worker, client i on port i mod n); default 1',
  },
  'driver-processes': {
    type: 'string',
    value: 'n',
    help: 'the clients spread over n driver processes, each a shard (default: as many as the open-file limit needs, at most the driver’s cores)',
  },
  shard: {
    type: 'string',
    value: 'i/N',
    help: 'drive only shard i (0 to N-1) of the run: its share of the clients and the rate; needs --target and --start-at; merge the shards with npm run report -- --merge',
  },
  'start-at': { type: 'string', value: 'epoch ms', help: 'the measured window starts at this time (ms since 1970, as Date.now()), in every shard alike' },
  'cookie-bytes': {
    type: 'string',
    value: 'n',
    help: 'HTTP transports: a cookie of n bytes (name=value) on every request, as a real site sends (default: none)',
  },
  origin: {
    type: 'string',
    value: 'origin',
    help: "websocket: the Origin header of the upgrade, e.g. http://localhost:8080, or none to send none (default: the target's own origin, as a page it served would)",
  },
  'local-addresses': { type: 'string', value: 'n', help: 'spread clients over 127.0.0.1..127.0.0.n (more than 64k connections)' },
  'no-pin': { type: 'boolean', help: 'do not pin the server and the driver to different cores' },
  out: { type: 'string', value: 'dir', help: 'where results.json goes (default reports/<run-id>/)' },
  help: { type: 'boolean', help: 'this text' },
};

export function usage(): string {
  const lines = Object.entries(OPTIONS).map(([name, spec]) => `  --${`${name}${spec.value === undefined ? '' : ` <${spec.value}>`}`.padEnd(28)} ${spec.help}`);
  return [
    'Usage: npm run bench -- [options]',
    '',
    'With no options, runs the default suite: every transport across echo, push, idle and broadcast,',
    'several sizes and client counts, and the Kaazing case. Options narrow or change it.',
    '',
    ...lines,
  ].join('\n');
}

export interface BenchOptions {
  suite: SuiteName;
  /** --shard: this process drives one shard of one run, and writes only its results.json. */
  shard?: ShardSpec;
  overrides: SuiteOverrides;
  pin: boolean;
  out?: string;
  localAddresses: number;
  /** --link: how shaped runs are carried. */
  link: LinkRequest;
  /** --ca: the CA (PEM file) a --target over TLS is verified with. */
  ca?: string;
}

/** `--tls` with no value after it (the end, or another option next) is `--tls=1.3`; the bench takes no positional arguments, so anything else next is its value. */
export function bareTls(args: string[]): string[] {
  return args.map((arg, index) => {
    const next = args[index + 1];
    return arg === '--tls' && (next === undefined || next.startsWith('-')) ? '--tls=1.3' : arg;
  });
}

/** URL schemes of --target over TLS, and the transport each names. */
const TLS_TARGETS: Record<string, TransportName> = { 'https:': 'short-poll', 'wss:': 'websocket', 'tls:': 'tcp' };
const PLAIN_TARGETS: Record<string, TransportName> = { 'http:': 'short-poll', 'ws:': 'websocket', 'tcp:': 'tcp' };

function list(raw: string, option: string): string[] {
  const items = raw.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new UsageError(`--${option} takes a comma-separated list with no empty items`);
  return items;
}

function positive(raw: string, option: string, { integer = true, allowZero = false } = {}): number {
  const value = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(value) && (integer ? Number.isInteger(value) : true) && (allowZero ? value >= 0 : value > 0);
  if (!ok) throw new UsageError(`--${option} must be a ${integer ? 'whole ' : ''}number ${allowZero ? 'of 0 or more' : 'above 0'}, not "${raw}"`);
  return value;
}

export function parseBenchArgs(args: string[]): BenchOptions | 'help' {
  const values = parseCommandLine({
    args: bareTls(args),
    strict: true,
    allowPositionals: false,
    options: Object.fromEntries(Object.entries(OPTIONS).map(([name, spec]) => [name, { type: spec.type }])),
  }).values as Record<string, string | boolean | undefined>;
  if (values.help === true) return 'help';
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const overrides: SuiteOverrides = { values: {} };
  const set = overrides.values!;

  const transports = text('transports');
  if (transports !== undefined) {
    overrides.transports = list(transports, 'transports').map((name) => {
      if (!isTransportName(name)) throw new UsageError(`unknown transport "${name}": use ${TRANSPORTS.join(', ')}`);
      return name as TransportName;
    });
  }
  const scenarios = text('scenarios');
  if (scenarios !== undefined) {
    overrides.scenarios = list(scenarios, 'scenarios').map((name) => {
      if (!isScenarioName(name)) throw new UsageError(`unknown scenario "${name}": use ${SCENARIOS.join(', ')}`);
      return name as ScenarioName;
    });
  }
  const clients = text('clients');
  if (clients !== undefined) overrides.clients = list(clients, 'clients').map((item) => positive(item, 'clients'));
  const payload = text('payload');
  if (payload !== undefined) {
    overrides.payloads = list(payload, 'payload').map((item) => {
      const bytes = parseSize(item);
      if (bytes === undefined) throw new UsageError(`--payload: "${item}" is not a size (try 16, 1KiB, 64KiB)`);
      if (bytes > 16 * 1024 * 1024) throw new UsageError(`--payload: ${item} is over the 16 MiB the suite allows`);
      return bytes;
    });
  }
  const numeric: [string, keyof RunConfig, { integer?: boolean; allowZero?: boolean }][] = [
    ['duration', 'durationSeconds', { integer: false }],
    ['warmup', 'warmupSeconds', { integer: false, allowZero: true }],
    ['in-flight', 'inFlight', {}],
    ['rate', 'targetRatePerSecond', { integer: false, allowZero: true }],
    ['push-rate', 'pushRatePerSecond', { integer: false }],
    ['poll-interval', 'pollIntervalMs', { allowZero: true }],
    ['broadcast-events', 'broadcastEvents', {}],
    ['long-poll-timeout', 'longPollTimeoutMs', {}],
    ['workers', 'workers', {}],
    ['server-processes', 'serverProcesses', {}],
    ['driver-processes', 'driverProcesses', {}],
    ['start-at', 'startAtMs', {}],
  ];
  for (const [option, key, rules] of numeric) {
    const raw = text(option);
    if (raw !== undefined) (set as Record<string, number>)[key] = positive(raw, option, rules);
  }
  if (values['per-message-deflate'] === true) set.perMessageDeflate = true;
  const bound = text('latency-bound');
  if (bound !== undefined) set.latencyBoundMs = positive(bound, 'latency-bound', { integer: false });
  const rtt = text('rtt');
  if (rtt !== undefined) overrides.rtts = list(rtt, 'rtt').map((item) => positive(item, 'rtt', { integer: false, allowZero: true }));
  const bandwidth = text('bandwidth');
  if (bandwidth !== undefined) {
    const bits = parseBandwidth(bandwidth);
    if (bits === undefined || bits <= 0) throw new UsageError(`--bandwidth: "${bandwidth}" is not a rate (try 10mbit, 1gbit, 512kbit)`);
    set.bandwidthBitsPerSecond = bits;
  }
  const loss = text('loss');
  if (loss !== undefined) {
    const percent = positive(loss, 'loss', { integer: false, allowZero: true });
    if (percent > 100) throw new UsageError(`--loss is a percentage: 0 to 100, not "${loss}"`);
    set.lossPercent = percent;
  }
  const queue = text('queue');
  if (queue !== undefined) {
    const bytes = parseSize(queue);
    if (bytes === undefined || bytes <= 0) throw new UsageError(`--queue: "${queue}" is not a size (try 64KiB, 1MiB)`);
    set.queueBytes = bytes;
  }
  const jitter = text('jitter');
  if (jitter !== undefined) set.jitterMs = positive(jitter, 'jitter', { integer: false, allowZero: true });
  const seed = text('seed');
  if (seed !== undefined) set.seed = positive(seed, 'seed', { allowZero: true });
  const tls = text('tls');
  if (tls !== undefined) {
    if (!(TLS_VERSIONS as readonly string[]).includes(tls)) throw new UsageError(`--tls takes ${TLS_VERSIONS.join(' or ')} (or nothing: 1.3), not "${tls}"`);
    set.tls = tls as (typeof TLS_VERSIONS)[number];
  }
  const httpVersion = text('http');
  if (httpVersion !== undefined) {
    if (httpVersion === '1.1') {
      // HTTP/1.1 is every run's without --http
    } else if (httpVersion !== '2') throw new UsageError(`--http takes 2 (HTTP/2) or 1.1, not "${httpVersion}"`);
    else {
      if (set.tls === undefined && !/^(https|wss|tls):/.test(text('target') ?? ''))
        throw new UsageError('--http 2 runs over TLS, as browsers speak it: add --tls (h2c, HTTP/2 in plaintext, is not offered)');
      set.http = '2';
      const others = overrides.transports?.filter((transport) => !HTTP2_TRANSPORTS.includes(transport)) ?? [];
      if (others.length > 0)
        throw new UsageError(`--http 2 carries ${HTTP2_TRANSPORTS.join(', ')}: ${others.join(' and ')} ha${others.length > 1 ? 've' : 's'} no HTTP/2 form`);
      overrides.transports ??= [...HTTP2_TRANSPORTS];
    }
  }
  const link = text('link') ?? 'auto';
  if (!(LINK_REQUESTS as readonly string[]).includes(link)) throw new UsageError(`--link takes ${LINK_REQUESTS.join(', ')}, not "${link}"`);
  const target = text('target');
  if (target !== undefined) {
    const urls = list(target, 'target').map((item) => {
      let url: URL;
      try {
        url = new URL(item);
      } catch {
        throw new UsageError(`--target: "${item}" is not a URL`);
      }
      if (!(url.protocol in PLAIN_TARGETS) && !(url.protocol in TLS_TARGETS))
        throw new UsageError('--target must be a ws://, http:// or tcp:// URL, or over TLS a wss://, https:// or tls:// one');
      if (url.port === '') throw new UsageError('--target must name a port');
      return url;
    });
    const url = urls[0]!;
    for (const other of urls.slice(1)) {
      if (other.protocol !== url.protocol || other.hostname !== url.hostname || other.pathname !== url.pathname) {
        throw new UsageError(`--target: the URLs of one server differ only in their port: ${url.href} and ${other.href}`);
      }
    }
    set.target = urls.length > 1 ? url.href : target;
    if (urls.length > 1) set.targetPorts = urls.map((one) => Number(one.port));
    const overTls = url.protocol in TLS_TARGETS;
    if (overTls) set.tls ??= '1.3';
    else if (set.tls !== undefined)
      throw new UsageError(`--tls with a plaintext --target (${url.protocol}//): give a ${Object.keys(TLS_TARGETS).join(', ')} URL`);
    if (overrides.transports === undefined) overrides.transports = [(overTls ? TLS_TARGETS : PLAIN_TARGETS)[url.protocol]!];
    if (overrides.transports.length !== 1) throw new UsageError('--target drives one server: name one transport with --transports');
  }
  const ca = text('ca');
  if (ca !== undefined && (set.target === undefined || set.tls === undefined))
    throw new UsageError("--ca verifies a --target over TLS (https://, wss://, tls://): the bench's own servers use the certificate it makes");
  const cookie = text('cookie-bytes');
  if (cookie !== undefined) set.cookieBytes = positive(cookie, 'cookie-bytes', { allowZero: true });
  const origin = text('origin');
  if (origin !== undefined) {
    if (origin === 'none') set.origin = null;
    else {
      const normalized = normalizeOrigin(origin);
      if (normalized === undefined) throw new UsageError(`--origin takes an origin (scheme://host[:port], nothing after it) or none, not "${origin}"`);
      set.origin = normalized;
    }
  }
  const addresses = text('local-addresses');
  const localAddresses = addresses === undefined ? 0 : positive(addresses, 'local-addresses');
  if (localAddresses > 254) throw new UsageError('--local-addresses goes up to 254 (127.0.0.1 to 127.0.0.254)');
  const shardText = text('shard');
  let shard: ShardSpec | undefined;
  if (shardText !== undefined) {
    shard = parseShard(shardText);
    if (shard === undefined) throw new UsageError(`--shard takes i/N with i from 0 to N-1, e.g. 0/4, not "${shardText}"`);
    if (set.target === undefined) throw new UsageError('--shard drives a share of the clients of a server every shard shares: give it with --target');
    if (set.startAtMs === undefined && process.send === undefined)
      throw new UsageError('--shard needs --start-at (the moment, in ms since 1970, every shard starts its measured window)');
    if (set.driverProcesses !== undefined && set.driverProcesses > 1) throw new UsageError('--shard is one driver process: leave out --driver-processes');
  }
  const profile = text('profile') ?? (values.quick === true ? 'quick' : 'default');
  if (!(profile in SUITES)) throw new UsageError(`unknown profile "${profile}": use ${Object.keys(SUITES).join(', ')}`);
  if (values.quick === true && profile !== 'quick') throw new UsageError('--quick and --profile name two different suites');
  return {
    suite: profile as SuiteName,
    ...(shard === undefined ? {} : { shard }),
    overrides,
    pin: values['no-pin'] !== true,
    ...(text('out') === undefined ? {} : { out: text('out')! }),
    localAddresses,
    link: link as LinkRequest,
    ...(ca === undefined ? {} : { ca }),
  };
}

/** The CA of --ca, read (undefined: none given); a string: why it cannot be. */
function readCa(options: BenchOptions): { pem: string; path: string } | undefined | string {
  if (options.ca === undefined) return undefined;
  try {
    return { pem: readFileSync(options.ca, 'utf8'), path: path.resolve(options.ca) };
  } catch (error) {
    return `--ca: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Whether these options leave the suite whole: every run of it, only their values changed (a
 * window, a warm-up, a rate). A whole suite also measures the code paths' CPU, a real browser and
 * the textbook's Go server; a narrowed suite or a question of one's own does not wait for them.
 */
export function isWholeSuite(overrides: SuiteOverrides): boolean {
  const { transports, scenarios, clients, payloads, rtts, values } = overrides;
  return [transports, scenarios, clients, payloads, rtts, values?.target].every((override) => override === undefined);
}

/** The most each micro-benchmark case is timed for in each suite, over its rounds (none in the scale profile): 250 ms keeps the default suite's near ten seconds (`npm run bench:micro` times longer). */
const MICRO_TIME_MS_PER_CASE: Partial<Record<SuiteName, number>> = { default: 250, quick: 20 };

/**
 * How long the driver benchmark holds each load in each suite: its own profile longest (the one
 * to quote); the default suite's is a check of the instrument in one short round, within its
 * five minutes.
 */
const DRIVER_BENCH_TIMING: Partial<Record<SuiteName, { warmupSeconds: number; windowSeconds: number; rounds: number }>> = {
  driver: { warmupSeconds: 1, windowSeconds: 3, rounds: 3 },
  default: { warmupSeconds: 0.5, windowSeconds: 0.75, rounds: 1 },
  scale: { warmupSeconds: 0.5, windowSeconds: 1.5, rounds: 3 },
  quick: { warmupSeconds: 0.3, windowSeconds: 0.7, rounds: 1 },
};

/**
 * What a real browser sends, measured where the suite has polling or WebSocket runs to set it
 * beside; with the runs' cookie (--cookie-bytes) in its jar, so its requests carry what the bench's did.
 */
export async function measureBrowserFor(
  runs: RunConfig[],
  measure: (options: BrowserOptions) => Promise<BrowserOutcome> = measureBrowser,
): Promise<BrowserOutcome> {
  if (!runs.some((run) => run.transport === 'short-poll' || run.transport === 'websocket'))
    return { skipped: 'no short-poll or websocket run to set it beside' };
  const cookieBytes = Math.max(0, ...runs.map((run) => run.cookieBytes ?? 0));
  // beside HTTP/2 runs, the browser polls over HTTP/2 too, trusting a certificate made for it
  const http2 = runs.some((run) => run.http === '2') && chromiumMissing() === undefined ? await createTlsCertificate() : undefined;
  process.stderr.write(
    `bench: measuring what a real browser sends${cookieBytes > 0 ? ` (with a ${cookieBytes}-byte cookie)` : ''}${http2 === undefined ? '' : ', over HTTP/1.1 and HTTP/2'}...\n`,
  );
  const outcome = await measure({ ...(cookieBytes > 0 ? { cookieBytes } : {}), ...(http2 === undefined ? {} : { http2: { certificate: http2 } }) })
    .catch((error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) }))
    .finally(() => (http2 === undefined ? undefined : removeTlsCertificate(http2)));
  if ('skipped' in outcome) process.stderr.write(`bench: real browser skipped: ${outcome.skipped}\n`);
  if ('failed' in outcome) process.stderr.write(`bench: the real-browser measurement FAILED: ${outcome.failed}\n`);
  return outcome;
}

/** The bench's exit status: 1 when a run or the real-browser measurement failed, else 0. */
export function exitStatus(results: Pick<Results, 'runs' | 'browser'>): number {
  const failed = results.runs.some((run) => run.state === 'failed') || (results.browser !== undefined && 'failed' in results.browser);
  return failed ? 1 : 0;
}

/**
 * The textbook's Go echo server beside ours: each WebSocket echo run of the suite (on a direct
 * link) again, against the Go server through --target. Only echo: the Go server has no push.
 */
async function runGoPeer(runs: RunConfig[], context: EngineContext, into: RunResult[]): Promise<{ skipped?: string; version?: string; runIds: string[] }> {
  const echoes = runs.filter(
    (run) => run.scenario === 'echo' && run.transport === 'websocket' && !run.perMessageDeflate && run.rttMs === 0 && run.tls === undefined,
  );
  if (echoes.length === 0) return { skipped: 'no WebSocket echo run to set it beside', runIds: [] };
  const peer = await startGoEchoServer();
  if ('skipped' in peer) {
    process.stderr.write(`bench: Go echo server skipped: ${peer.skipped}\n`);
    return { skipped: peer.skipped, runIds: [] };
  }
  process.stderr.write(`bench: ${echoes.length} echo runs against the textbook's Go server (${peer.version})...\n`);
  const runIds: string[] = [];
  try {
    for (const config of echoes) {
      const result = await runScenario({ ...config, target: peer.url }, { ...context, emit: () => {} });
      runIds.push(result.id);
      into.push(result);
    }
  } finally {
    await peer.stop();
  }
  return { version: peer.version, runIds };
}

/**
 * One shard of one run (--shard i/N): its share of the clients against the shared server, its
 * window from --start-at or, launched by the bench's own driver processes, from the moment its
 * launcher sends once every shard has connected. Writes results.json alone: a shard's figures
 * mean something merged with the others' (npm run report -- --merge).
 */
async function runShard(config: RunConfig, options: BenchOptions, args: string[], ca: EngineContext['ca']): Promise<number> {
  const environment = describeEnvironment(['npm run bench --', ...args].join(' '));
  const outDir = options.out ?? path.join('reports', `${runStamp(new Date(environment.startedAt))}-shard-${config.shard!.index}-of-${config.shard!.count}`);
  mkdirSync(outDir, { recursive: true });
  const plan = pinDriver(options.pin);
  const windowStart = async (connectedAtMs: number): Promise<number> => {
    if (config.startAtMs !== undefined) return config.startAtMs;
    // launched by the bench (bench/shard-process.ts): it says when, once every shard has connected
    return new Promise((resolve) => {
      const onMessage = (message: ShardMessage): void => {
        if (message.type !== 'shard-start') return;
        process.off('message', onMessage);
        resolve(message.startAtMs);
      };
      process.on('message', onMessage);
      process.send?.({ type: 'shard-connected' } satisfies ShardMessage);
      void connectedAtMs;
    });
  };
  const result = await runScenario(config, {
    serverCommand: [],
    localAddresses: Array.from({ length: options.localAddresses }, (_, i) => `127.0.0.${i + 1}`),
    emit: (event) => {
      if (event.type === 'phase') process.stderr.write(`bench: ${event.id} (shard ${config.shard!.index}/${config.shard!.count}): ${event.phase}\n`);
    },
    windowStart,
    ...(ca === undefined ? {} : { ca }),
  });
  const results: Results = {
    schemaVersion: SCHEMA_VERSION,
    environment,
    pinning: plan.pinning,
    suite: { name: options.suite, ...options.overrides, runs: 1, shard: config.shard },
    runs: [result],
    samples: [],
    finishedAt: new Date().toISOString(),
  };
  const resultsPath = path.join(outDir, 'results.json');
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`shard results: ${resultsPath}\nmerge every shard's with: npm run report -- --merge <results.json ...>\n`);
  if (result.state === 'failed') process.stderr.write(`bench: the shard's run failed: ${result.error}\n`);
  process.disconnect?.();
  return result.state === 'failed' ? 1 : 0;
}

function runStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

export const BENCH_COMMAND: Command<BenchOptions> = { name: 'bench', usage, parse: parseBenchArgs };

export function main(args: string[]): Promise<number> {
  return runCommand(BENCH_COMMAND, args, (options) => bench(options, args));
}

async function bench(options: BenchOptions, args: string[]): Promise<number> {
  const runs: RunConfig[] = resolveSuite(SUITES[options.suite], options.overrides);
  if (runs.length === 0 && options.suite !== 'driver') {
    process.stderr.write('bench: these options leave no run to do\n');
    return 2;
  }
  if ((options.shard !== undefined || options.overrides.values?.startAtMs !== undefined) && runs.length !== 1) {
    process.stderr.write(
      `bench: --shard and --start-at time one run, and these options make ${runs.length}: narrow them (--transports, --scenarios, --clients, --payload)\n`,
    );
    return 2;
  }
  const ca = readCa(options);
  if (typeof ca === 'string') {
    process.stderr.write(`bench: ${ca}\n`);
    return 2;
  }
  if (options.shard !== undefined) return runShard({ ...runs[0]!, shard: options.shard }, options, args, ca);
  // one certificate for every TLS run of the bench, removed when it ends (on exit or a signal at the latest)
  const certificate = runs.some((run) => run.tls !== undefined && run.target === undefined) ? await createRunCertificate() : undefined;
  try {
    return await runSuite(options, args, runs, { ...(certificate === undefined ? {} : { certificate }), ...(ca === undefined ? {} : { ca }) });
  } finally {
    if (certificate !== undefined) await removeRunCertificate(certificate);
  }
}

/** The suite's runs, one after another, and what a whole suite adds; `tls` goes into every run's context. */
async function runSuite(options: BenchOptions, args: string[], runs: RunConfig[], tls: Pick<EngineContext, 'certificate' | 'ca'>): Promise<number> {
  const environment = describeEnvironment(['npm run bench --', ...args].join(' '));
  const outDir = options.out ?? path.join('reports', runStamp(new Date(environment.startedAt)));
  mkdirSync(outDir, { recursive: true });
  // the emulated link's method, chosen (and, for netns, set up once and measured) before any run
  let link: Awaited<ReturnType<typeof chooseLink>> | undefined;
  if (runs.some(wantsLink)) {
    process.stderr.write('bench: choosing the emulated link...\n');
    try {
      link = await chooseLink(options.link);
    } catch (error) {
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      return 2;
    }
    process.stderr.write(`bench: shaped runs use the ${link.method} link: ${link.reason}\n`);
    const { lossPercent, jitterMs, queueBytes } = options.overrides.values ?? {};
    if (link.method !== 'netns' && [lossPercent, jitterMs, queueBytes].some((value) => value !== undefined)) {
      process.stderr.write('bench: --loss, --jitter and --queue need the netns link, which these runs cannot have\n');
      return 2;
    }
  }
  const plan = pinDriver(options.pin);
  const localAddresses = Array.from({ length: options.localAddresses }, (_, i) => `127.0.0.${i + 1}`);
  const progress = new Progress(runs, process.stderr);
  const emit = (event: EngineEvent): void => progress.update(event);
  const results: Results = {
    schemaVersion: SCHEMA_VERSION,
    environment,
    pinning: plan.pinning,
    suite: { name: options.suite, ...options.overrides, runs: runs.length },
    runs: [],
    samples: [],
    ...(link === undefined ? {} : { link }),
    finishedAt: '',
  };
  const keepSample = (sample: WireSample): void => {
    if (!results.samples.some((kept) => kept.transport === sample.transport)) results.samples.push(sample);
  };
  const engineContext: EngineContext = {
    serverCommand: plan.serverCommand,
    ...(plan.pinning.applied ? { serverCores: plan.pinning.serverCores } : {}),
    localAddresses,
    emit,
    ...(link === undefined ? {} : { link }),
    driverCores: plan.pinning.applied ? coreCount(plan.pinning.driverCores) : availableParallelism(),
    ...tls,
  };
  // the driver benchmark first, on a driver that has run nothing else: its code then meets one transport at a time, as
  // in --profile driver (after every transport has run, the same code can run measurably slower: see the README)
  const driverTiming = DRIVER_BENCH_TIMING[options.suite];
  if (isWholeSuite(options.overrides) && driverTiming !== undefined) {
    results.driverBenchmark = await runDriverBenchmark({
      ...driverTiming,
      serverCommand: plan.serverCommand,
      driverCommand: plan.pinning.applied ? ['taskset', '-c', plan.pinning.driverCores] : [],
      onStep: (text) => process.stderr.write(`bench: ${text}\n`),
    });
  }
  // a transport's capacity ramp stops at its first step that ends it (bench/capacity.ts): over the bound, driver-bound, a machine limit, a failure
  const rampEnded = new Map<string, string>();
  // a rate ladder ends at its first sustained rate (bench/capacity.ts)
  const ladderSustained = new Map<string, string>();
  for (const config of runs) {
    const ended = config.group === 'capacity' ? rampEnded.get(config.transport) : undefined;
    if (ended !== undefined) {
      progress.skip(config, `${config.transport}'s ramp ended at fewer clients (${ended})`);
      continue;
    }
    const sustainedAt = config.ladder === undefined ? undefined : ladderSustained.get(config.ladder);
    if (sustainedAt !== undefined) {
      progress.skip(config, `a higher rate was sustained (${sustainedAt})`);
      continue;
    }
    if (needsNetns(config) && link?.method !== 'netns') {
      progress.skip(config, `it needs the netns link: ${link?.reason ?? 'none was chosen'}`);
      continue;
    }
    const sampled = results.samples.some((kept) => kept.transport === config.transport);
    const result = await runScenario(config, { ...engineContext, ...(sampled ? {} : { onSample: keepSample }) });
    results.runs.push(result);
    const end = config.group === 'capacity' ? stepEnd(result, config.latencyBoundMs ?? DEFAULT_LATENCY_BOUND_MS) : undefined;
    if (end !== undefined) rampEnded.set(config.transport, end);
    if (config.ladder !== undefined && sustained(result)) ladderSustained.set(config.ladder, result.id);
  }
  progress.done();
  const wholeSuite = isWholeSuite(options.overrides);
  if (wholeSuite && options.suite !== 'driver') {
    const microTimeMs = MICRO_TIME_MS_PER_CASE[options.suite];
    if (microTimeMs !== undefined) {
      process.stderr.write(`bench: per-message CPU micro-benchmarks (up to ${microTimeMs} ms per case)...\n`);
      results.micro = await runMicroBenchmarks({ timeMs: microTimeMs });
    }
    results.browser = await measureBrowserFor(runs);
    if (runs.some((run) => run.group === 'rtt')) results.firstMessage = await firstMessageFor(link, (line) => process.stderr.write(`bench: ${line}\n`));
    results.peers = { go: await runGoPeer(runs, engineContext, results.runs) };
  }
  results.finishedAt = new Date().toISOString();
  const resultsPath = path.join(outDir, 'results.json');
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const reportPath = await writeReport(results, outDir);
  process.stdout.write(`${summaryTable(results)}\n\nresults: ${resultsPath}\nreport:  ${reportPath}\n`);
  const failed = results.runs.filter((run) => run.state === 'failed').length;
  if (failed > 0) process.stderr.write(`bench: ${failed} of ${results.runs.length} runs failed (see results.json)\n`);
  if (results.browser !== undefined && 'failed' in results.browser) process.stderr.write('bench: the real-browser measurement failed (see results.json)\n');
  return exitStatus(results);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/cli.ts')) {
  // results written, the bench ends: nothing a run left open keeps it waiting
  await exitWith(await main(process.argv.slice(2)));
}
