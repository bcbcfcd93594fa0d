/**
 * Scenarios are data: the default matrix is a list of plain objects, and every run's id says
 * what it is ("echo/websocket/1KiB/c50").
 */
import { HTTP2_TRANSPORTS, TRANSPORTS, type TransportName } from '../servers/contract.ts';
import { SCENARIOS, type RunConfig, type ScenarioName } from './result.ts';
import { autocannonCanDrive } from './autocannon-fleet.ts';
import { processesNeeded } from './limits.ts';

/** The values a run takes when neither the suite nor the command line says otherwise. */
export const RUN_DEFAULTS: Omit<RunConfig, 'scenario' | 'transport'> = {
  clients: 50,
  payloadBytes: 1024,
  warmupSeconds: 1,
  durationSeconds: 2,
  inFlight: 1,
  targetRatePerSecond: 0,
  pushRatePerSecond: 10,
  pollIntervalMs: 100,
  broadcastEvents: 5,
  longPollTimeoutMs: 30_000,
  perMessageDeflate: false,
  engine: 'wirecost',
  workers: 1,
  rttMs: 0,
  bandwidthBitsPerSecond: 0,
};

/** A run of a suite before defaults and command-line overrides: anything left out takes RUN_DEFAULTS. */
export type RunTemplate = Partial<RunConfig> & { scenario: ScenarioName; transport: TransportName };

const SIZES = { tiny: 16, small: 1024, large: 64 * 1024 };

function everyTransport(template: Omit<RunTemplate, 'transport'>): RunTemplate[] {
  return TRANSPORTS.map((transport) => ({ ...template, transport }));
}

/**
 * The Kaazing case (Lubbers and Greco, 2010): 1,000 clients polling once a second against
 * 1,000 WebSocket clients receiving one message a second.
 */
export const KAAZING_RUNS: RunTemplate[] = [
  {
    scenario: 'push',
    transport: 'short-poll',
    clients: 1000,
    pushRatePerSecond: 1,
    pollIntervalMs: 1000,
    payloadBytes: SIZES.tiny,
    durationSeconds: 3,
    group: 'kaazing',
  },
  { scenario: 'push', transport: 'websocket', clients: 1000, pushRatePerSecond: 1, payloadBytes: SIZES.tiny, durationSeconds: 3, group: 'kaazing' },
];

/**
 * Open-loop echo rates of the default suite: low enough that neither the server nor the driver
 * saturates on a 2-core machine, so latency measures the transport, not a queue.
 */
const ECHO_RATES_PER_SECOND = { [SIZES.tiny]: 1000, [SIZES.small]: 1000, [SIZES.large]: 200 };

/**
 * The warm-up and window of the default suite's loopback runs, short so that the suite keeps
 * within five minutes: 50 or 100 clients are connected and past their first requests well within
 * 0.3 s, and a second holds 1,000 echoes (200 at 64 KiB), 500 pushes, five broadcast events and
 * ten polls per idle short-poll client.
 */
const LOOPBACK_WINDOW = { warmupSeconds: 0.3, durationSeconds: 1 };

/** Round-trip times of the latency-against-RTT series. */
export const RTT_SERIES_MS = [0, 20, 100];

/**
 * The warm-up and window of a run of the RTT series: a connection is open within a few round
 * trips, so five make the warm-up (at least 0.2 s); the window holds fifteen
 * round trips, and at least a second (fifty round trips and more up to RTT 20 ms).
 */
function rttWindow(rttMs: number): Pick<RunTemplate, 'warmupSeconds' | 'durationSeconds'> {
  return { warmupSeconds: Math.max(0.2, (5 * rttMs) / 1000), durationSeconds: Math.max(1, (15 * rttMs) / 1000) };
}

/**
 * Echo (one client in a closed loop: at RTT 0, the fastest round trip each transport allows;
 * more clients would saturate the driver) and push (ten clients), on every transport, at each
 * round-trip time of RTT_SERIES_MS. Where the netns link runs, the whole series goes over it,
 * RTT 0 included (emulateLink), so that one method carries every point of it.
 */
const RTT_RUNS: RunTemplate[] = RTT_SERIES_MS.flatMap((rttMs) =>
  (['echo', 'push'] as const).flatMap((scenario) =>
    everyTransport({
      scenario,
      clients: scenario === 'echo' ? 1 : 10,
      payloadBytes: SIZES.small,
      rttMs,
      ...rttWindow(rttMs),
      group: 'rtt',
      emulateLink: true,
    }),
  ),
);

/** Loss of the latency-against-loss series, percent, and the round-trip time it is measured at. */
export const LOSS_SERIES_PERCENT = [0, 1, 5];
export const LOSS_RTT_MS = 20;

/**
 * Latency against loss (netns link only): push to ten clients, 20 messages a second each, at
 * RTT 20 ms, on every transport, at each loss of LOSS_SERIES_PERCENT (each direction). TCP
 * retransmits what is lost; the wait shows in the tail, and behind it, every message of the
 * connection waits too (head-of-line blocking). Where packets are lost, the warm-up outlasts a
 * lost SYN (TCP tries again after a second), so that every client has connected and asked for its
 * push before the window: a client still connecting in it would show as a late message.
 */
const LOSS_RUNS: RunTemplate[] = LOSS_SERIES_PERCENT.flatMap((lossPercent) =>
  everyTransport({
    scenario: 'push',
    clients: 10,
    payloadBytes: SIZES.small,
    pushRatePerSecond: 20,
    rttMs: LOSS_RTT_MS,
    lossPercent,
    emulateLink: true,
    warmupSeconds: lossPercent > 0 ? 1.3 : 0.3,
    durationSeconds: 1.5,
    group: 'loss',
  }),
);

/** Link rates of the Kaazing case on a constrained link, bits per second. */
export const KAAZING_LINK_RATES = [10e6, 4e6, 2e6];

/**
 * The Kaazing case on a constrained link (netns link only): the same 1,000 polling clients and
 * 1,000 WebSocket clients at each rate of KAAZING_LINK_RATES, with the default queue (100 ms at
 * the rate, drop-tail) and 5 ms one way. Polling's headers fill the link where WebSocket's frames do not:
 * the queueing delay grows. The clients are all connected (seconds at the lowest rate) before the
 * warm-up begins; it lasts a poll interval, so that every client has polled in it.
 */
const KAAZING_LINK_RUNS: RunTemplate[] = KAAZING_LINK_RATES.flatMap((rate) =>
  KAAZING_RUNS.map((template) => ({
    ...template,
    bandwidthBitsPerSecond: rate,
    rttMs: 10,
    warmupSeconds: 1,
    durationSeconds: 2,
    group: 'kaazing-link' as const,
  })),
);

/** The Kaazing case's warm-up over TLS: 1,000 clients' TLS handshakes and first requests take the driver about a second more. */
const KAAZING_TLS_WARMUP_SECONDS = 2;
/** ... and over HTTP/1.1, each polling client makes two connections, so two handshakes: a second more again (at 2 s its push requests were still being made in the window). */
const KAAZING_HTTP1_TLS_WARMUP_SECONDS = 3;

/**
 * The protocols the default suite carries beside plaintext HTTP/1.1, where they give a verdict or
 * a table a run of their own: the Kaazing case with its short-poll over HTTP/2 (its headers after
 * HPACK) and its WebSocket over TLS 1.3 (the pair that judges the third and fourth claims for
 * HTTP/2 on the article's workload), and the default push (50 clients, 1 KiB) over HTTP/2 for
 * each polling transport and over TLS 1.3 for WebSocket, polling and WebSocket then compared over
 * the same TLS. Short windows: the work is the same as the plaintext runs', so the report sets
 * them side by side.
 */
const DEFAULT_PROTOCOL_RUNS: RunTemplate[] = [
  { ...KAAZING_RUNS[0]!, tls: '1.3', http: '2', warmupSeconds: KAAZING_TLS_WARMUP_SECONDS },
  { ...KAAZING_RUNS[1]!, tls: '1.3', warmupSeconds: KAAZING_TLS_WARMUP_SECONDS },
  ...(['short-poll', 'long-poll'] as const).map((transport): RunTemplate => ({
    scenario: 'push',
    transport,
    clients: 50,
    payloadBytes: SIZES.small,
    tls: '1.3',
    http: '2',
    ...LOOPBACK_WINDOW,
  })),
  { scenario: 'push', transport: 'websocket', clients: 50, payloadBytes: SIZES.small, tls: '1.3', ...LOOPBACK_WINDOW },
];

/** `npm run bench` with no arguments. */
export const DEFAULT_SUITE: RunTemplate[] = [
  ...[SIZES.tiny, SIZES.small, SIZES.large].flatMap((payloadBytes) =>
    everyTransport({ scenario: 'echo', clients: 50, payloadBytes, targetRatePerSecond: ECHO_RATES_PER_SECOND[payloadBytes] ?? 1000, ...LOOPBACK_WINDOW }),
  ),
  ...[SIZES.tiny, SIZES.small].flatMap((payloadBytes) => everyTransport({ scenario: 'push', clients: 50, payloadBytes, ...LOOPBACK_WINDOW })),
  ...everyTransport({ scenario: 'idle', clients: 100, payloadBytes: 0, ...LOOPBACK_WINDOW }),
  ...everyTransport({ scenario: 'broadcast', clients: 100, payloadBytes: SIZES.small, ...LOOPBACK_WINDOW }),
  ...KAAZING_RUNS,
  ...DEFAULT_PROTOCOL_RUNS,
  ...RTT_RUNS,
  ...LOSS_RUNS,
  ...KAAZING_LINK_RUNS,
];

/** `npm run bench -- --quick`: every transport and scenario once, briefly. */
export const QUICK_SUITE: RunTemplate[] = [
  ...everyTransport({ scenario: 'echo', clients: 10, payloadBytes: SIZES.small, targetRatePerSecond: 500 }),
  ...everyTransport({ scenario: 'push', clients: 10, payloadBytes: SIZES.small }),
  ...everyTransport({ scenario: 'idle', clients: 10, payloadBytes: 0 }),
  ...everyTransport({ scenario: 'broadcast', clients: 10, payloadBytes: SIZES.small, broadcastEvents: 3 }),
].map((template) => ({ ...template, warmupSeconds: 0.5, durationSeconds: 1 }));

/** The p99 push latency under which a transport "sustains" its clients (the criterion public WebSocket shoot-outs use). */
export const DEFAULT_LATENCY_BOUND_MS = 500;

/** Client counts of the capacity ramp; a transport's ramp stops at the first step over the bound. */
export const CAPACITY_STEPS = [500, 1000, 2000, 5000, 10_000];

/**
 * Seconds of the driver's core one client's push request takes, asked at the start of a run: an
 * HTTP request (a POST on the client's session, answered) costs several times a WebSocket or TCP
 * frame. Measured here: 100,000 polling clients still asked 55 s into a 5 s warm-up; 10,000
 * long-poll clients over two driver processes, 2.3 s into a 3 s one.
 */
const PUSH_REQUEST_SECONDS: Record<TransportName, number> = { 'short-poll': 0.0006, 'long-poll': 0.0006, sse: 0.0006, websocket: 0.0001, tcp: 0.0001 };

/**
 * The warm-up of a run of `clients` in the scale profile: a second, and the time its clients'
 * push requests take on one driver core (several driver processes share the one core the driver
 * is pinned to), so that connecting and asking for pushes ends before the window (a run whose
 * set-up still spills into the window says so).
 */
export function scaleWarmupSeconds(clients: number, transport: TransportName): number {
  return Math.ceil((1 + clients * PUSH_REQUEST_SECONDS[transport]) * 2) / 2;
}

/** Client counts of the Kaazing case measured live in the scale profile. */
export const KAAZING_LIVE_CLIENTS = [1000, 10_000, 100_000];

/**
 * Messages a second to each client tried at 100,000 clients, highest first: the article's one a
 * second, then lower until the machine sustains one (the first run of a ladder that delivers what
 * it asked, with the driver not saturated, ends it). Short polling's steps are fewer: each one
 * registers its 100,000 clients again, the most costly part of its run (minutes on 2 cores).
 */
export const KAAZING_RATE_LADDER: Record<'short-poll' | 'websocket', number[]> = { 'short-poll': [1, 0.2], websocket: [1, 0.5, 0.2, 0.1] };

/** The Kaazing case at this many clients and this rate per client: short polling polls once per message it is sent. */
function kaazingAt(template: RunTemplate, clients: number, ratePerSecond: number): RunTemplate {
  return {
    ...template,
    clients,
    pushRatePerSecond: ratePerSecond,
    ...(template.transport === 'short-poll' ? { pollIntervalMs: Math.round(1000 / ratePerSecond) } : {}),
    // at least three messages to each client in the window
    durationSeconds: Math.max(template.durationSeconds ?? RUN_DEFAULTS.durationSeconds, 3 / ratePerSecond),
    warmupSeconds: scaleWarmupSeconds(clients, template.transport),
    ...(clients >= 100_000 ? { ladder: `kaazing/${template.transport}/${clients}` } : {}),
  };
}

/**
 * A scale run spread over as many driver and server processes as the open-file limit of one
 * process asks for (bench/limits.ts): the engine first as the suite would choose it.
 */
export function spreadOverProcesses(template: RunTemplate): RunTemplate {
  const config: RunConfig = { ...RUN_DEFAULTS, ...template };
  config.engine = autocannonCanDrive(config) ? 'autocannon' : 'wirecost';
  let needed = processesNeeded(config);
  // autocannon is one process: a run that needs more is driven by the bench's own clients
  if (needed.driverProcesses > 1 && config.engine === 'autocannon') needed = processesNeeded({ ...config, engine: 'wirecost' });
  return {
    ...template,
    ...(needed.driverProcesses > 1 ? { driverProcesses: needed.driverProcesses } : {}),
    ...(needed.serverProcesses > 1 ? { serverProcesses: needed.serverProcesses } : {}),
  };
}

/**
 * `npm run bench -- --profile scale`: the Kaazing cases measured live (1,000, 10,000 and 100,000
 * clients polling once a second against as many WebSocket clients receiving one message a second;
 * at 100,000, lower rates until one is sustained), and each transport's capacity: the most clients
 * its server sustains while p99 push latency stays under the bound, found by a ramp to 10,000
 * clients. Runs past the open-file limit of one process are spread over driver and server processes.
 */
export const SCALE_SUITE: RunTemplate[] = [
  ...KAAZING_LIVE_CLIENTS.flatMap((clients) =>
    KAAZING_RUNS.flatMap((template) =>
      (clients >= 100_000 ? KAAZING_RATE_LADDER[template.transport as 'short-poll' | 'websocket'] : [1]).map((ratePerSecond) =>
        kaazingAt(template, clients, ratePerSecond),
      ),
    ),
  ),
  ...CAPACITY_STEPS.flatMap((clients) =>
    TRANSPORTS.map((transport): RunTemplate => ({
      scenario: 'push',
      transport,
      clients,
      payloadBytes: SIZES.small,
      pushRatePerSecond: 1,
      pollIntervalMs: 100,
      warmupSeconds: scaleWarmupSeconds(clients, transport),
      durationSeconds: 4,
      group: 'capacity',
      latencyBoundMs: DEFAULT_LATENCY_BOUND_MS,
    })),
  ),
].map(spreadOverProcesses);

/**
 * `npm run bench -- --profile faults`: each fault halfway through a push window, where the
 * transport can live through it. Clients whose connections are dropped come back (HTTP
 * transports: a poll retries, a stream resumes with Last-Event-ID); a network cut delays, and
 * must lose nothing; a WebSocket client that stops reading makes the server bound its buffer
 * and count what it drops; a server killed and restarted loses what it would have sent while it
 * was down, and the clients, back on their own, count it.
 */
const FAULT_RUNS: RunTemplate[] = [
  ...(['short-poll', 'long-poll', 'sse'] as const).map((transport): RunTemplate => ({ scenario: 'push', transport, fault: 'client-kill' })),
  ...(['long-poll', 'sse', 'websocket', 'tcp'] as const).map((transport): RunTemplate => ({ scenario: 'push', transport, fault: 'network-cut' })),
  { scenario: 'push', transport: 'websocket', fault: 'slow-consumer', clients: 2, payloadBytes: 16 * 1024, pushRatePerSecond: 500 },
  ...TRANSPORTS.map((transport): RunTemplate => ({ scenario: 'push', transport, fault: 'server-restart' })),
];

export const FAULTS_SUITE: RunTemplate[] = FAULT_RUNS.map((template) => ({
  clients: 10,
  pushRatePerSecond: 20,
  pollIntervalMs: 50,
  warmupSeconds: 0.5,
  durationSeconds: 3,
  ...template,
  group: 'faults',
}));

/** The protocols a run may be carried over: plaintext HTTP/1.1, TLS, HTTP/2 over TLS. */
type ProtocolForm = Pick<RunConfig, 'tls' | 'http'>;
const PLAINTEXT: ProtocolForm = {};
const TLS_13: ProtocolForm = { tls: '1.3' };
const TLS_12: ProtocolForm = { tls: '1.2' };
const HTTP2_TLS: ProtocolForm = { tls: '1.3', http: '2' };

/** Each protocol a transport has: every one over plaintext and TLS 1.3, the HTTP transports over HTTP/2 too. */
function protocolsOf(transport: TransportName): ProtocolForm[] {
  return HTTP2_TRANSPORTS.includes(transport) ? [PLAINTEXT, TLS_13, HTTP2_TLS] : [PLAINTEXT, TLS_13];
}

/** Open-loop echo rate of the protocols profile, messages a second from its ten clients: far from saturating a driver that also does TLS. */
const PROTOCOL_ECHO_RATE_PER_SECOND = 200;

/**
 * `npm run bench -- --profile protocols`: the same work over each protocol a transport has
 * (plaintext HTTP/1.1, TLS 1.3, HTTP/2 over TLS 1.3 for short-poll, long-poll and SSE): push and
 * open-loop echo at 16 B and 1 KiB to ten clients, in short windows; the Kaazing case (1,000
 * clients polling once a second, 1,000 WebSocket clients receiving a message a second) over each
 * protocol each has; and push over TLS 1.2 for short-poll and WebSocket, beside the same over 1.3.
 */
export const PROTOCOLS_SUITE: RunTemplate[] = [
  ...[SIZES.tiny, SIZES.small].flatMap((payloadBytes) =>
    (['echo', 'push'] as const).flatMap((scenario) =>
      TRANSPORTS.flatMap((transport) =>
        protocolsOf(transport).map((form): RunTemplate => ({
          scenario,
          transport,
          clients: 10,
          payloadBytes,
          ...(scenario === 'echo' ? { targetRatePerSecond: PROTOCOL_ECHO_RATE_PER_SECOND } : {}),
          warmupSeconds: 0.5,
          durationSeconds: 1.5,
          ...form,
        })),
      ),
    ),
  ),
  ...KAAZING_RUNS.flatMap((template) =>
    protocolsOf(template.transport).map((form): RunTemplate => ({
      ...template,
      ...form,
      ...(form.tls === undefined
        ? {}
        : { warmupSeconds: template.transport === 'short-poll' && form.http !== '2' ? KAAZING_HTTP1_TLS_WARMUP_SECONDS : KAAZING_TLS_WARMUP_SECONDS }),
    })),
  ),
  ...(['short-poll', 'websocket'] as const).map((transport): RunTemplate => ({
    scenario: 'push',
    transport,
    clients: 10,
    payloadBytes: SIZES.small,
    warmupSeconds: 0.5,
    durationSeconds: 1.5,
    ...TLS_12,
  })),
];

/** `npm run bench -- --profile driver`: no scenario runs, only the driver benchmark (bench/driver-bench/). */
export const DRIVER_SUITE: RunTemplate[] = [];

export const SUITES = {
  default: DEFAULT_SUITE,
  quick: QUICK_SUITE,
  scale: SCALE_SUITE,
  faults: FAULTS_SUITE,
  protocols: PROTOCOLS_SUITE,
  driver: DRIVER_SUITE,
} as const;
export type SuiteName = keyof typeof SUITES;

/** "16B", "1KiB", "64KiB", "1.5MiB". */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

/** "10mbit", "1gbit", "512kbit", "2000bit". */
export function bandwidthLabel(bitsPerSecond: number): string {
  for (const [unit, size] of [
    ['gbit', 1e9],
    ['mbit', 1e6],
    ['kbit', 1e3],
  ] as const) {
    if (bitsPerSecond >= size && bitsPerSecond % size === 0) return `${bitsPerSecond / size}${unit}`;
  }
  return `${bitsPerSecond}bit`;
}

/** Parses "10mbit", "1gbit", "512kbit", "100000" (bits per second) into bits per second; undefined when it is not a rate. */
export function parseBandwidth(text: string): number | undefined {
  const match = /^(\d+)(bit|kbit|mbit|gbit)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const units: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
  return Number(match[1]) * (units[(match[2] ?? 'bit').toLowerCase()] ?? 1);
}

/** Parses "64", "64B", "1KiB", "64KiB", "1MiB", "1KB" (1000), "1MB" into bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+)(B|KiB|MiB|KB|MB)?$/i.exec(text.trim());
  if (match === null) return undefined;
  const units: Record<string, number> = { b: 1, kib: 1024, mib: 1024 * 1024, kb: 1000, mb: 1000 * 1000 };
  return Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1);
}

/** A run's id: scenario/transport/size/clients, then whatever else sets it apart from the defaults. */
export function runId(config: RunConfig): string {
  const parts: string[] = [config.scenario, config.transport];
  if (config.scenario !== 'idle') parts.push(sizeLabel(config.payloadBytes));
  parts.push(`c${config.clients}`);
  if (config.scenario === 'push') parts.push(`r${config.pushRatePerSecond}`);
  if (config.transport === 'short-poll' && config.scenario !== 'echo') parts.push(`i${config.pollIntervalMs}ms`);
  if (config.scenario === 'echo' && config.targetRatePerSecond > 0) parts.push(`open${config.targetRatePerSecond}`);
  if (config.scenario === 'echo' && config.inFlight !== 1) parts.push(`k${config.inFlight}`);
  if (config.rttMs > 0) parts.push(`rtt${config.rttMs}ms`);
  if (config.bandwidthBitsPerSecond > 0) parts.push(`bw${bandwidthLabel(config.bandwidthBitsPerSecond)}`);
  if (config.queueBytes !== undefined) parts.push(`q${sizeLabel(config.queueBytes)}`);
  if ((config.lossPercent ?? 0) > 0) parts.push(`loss${config.lossPercent}%`);
  if ((config.jitterMs ?? 0) > 0) parts.push(`jitter${config.jitterMs}ms`);
  if (config.perMessageDeflate) parts.push('deflate');
  if (config.tls !== undefined) parts.push(`tls${config.tls.replace('.', '')}`);
  if (config.http === '2') parts.push('h2');
  if (config.fault !== undefined) parts.push(config.fault);
  if ((config.cookieBytes ?? 0) > 0 && config.transport !== 'websocket' && config.transport !== 'tcp') parts.push(`cookie${config.cookieBytes}B`);
  if ((config.serverProcesses ?? 1) > 1) parts.push(`srv${config.serverProcesses}`);
  if (config.target !== undefined) parts.push('target');
  return parts.join('/');
}

/** Options from the command line that change every run of a suite. */
export interface SuiteOverrides {
  transports?: TransportName[];
  scenarios?: ScenarioName[];
  clients?: number[];
  payloads?: number[];
  /** Round-trip times: every run of the suite at each. */
  rtts?: number[];
  values?: Partial<Omit<RunConfig, 'scenario' | 'transport' | 'clients' | 'payloadBytes'>>;
}

/**
 * The runs of a suite after the command line's overrides. Transports and scenarios filter the
 * suite; other values replace the suite's and the defaults. Client counts or sizes on the
 * command line ask a question of their own: the runs are then every transport and scenario
 * (as filtered) for each client count and size, with the defaults for everything not given,
 * not the suite's hand-picked combinations. Runs that end up the same are run once.
 */
export function resolveSuite(templates: RunTemplate[], overrides: SuiteOverrides): RunConfig[] {
  const ownQuestion = overrides.clients !== undefined || overrides.payloads !== undefined;
  const base: RunTemplate[] = ownQuestion ? SCENARIOS.flatMap((scenario) => TRANSPORTS.map((transport) => ({ scenario, transport }))) : templates;
  const runs = new Map<string, RunConfig>();
  for (const template of base) {
    if (overrides.transports !== undefined && !overrides.transports.includes(template.transport)) continue;
    if (overrides.scenarios !== undefined && !overrides.scenarios.includes(template.scenario)) continue;
    const fields = template;
    for (const clients of overrides.clients ?? [template.clients ?? RUN_DEFAULTS.clients]) {
      for (const payloadBytes of overrides.payloads ?? [template.payloadBytes ?? RUN_DEFAULTS.payloadBytes]) {
        for (const rttMs of overrides.rtts ?? [template.rttMs ?? RUN_DEFAULTS.rttMs]) {
          const config: RunConfig = { ...RUN_DEFAULTS, ...fields, ...overrides.values, clients, payloadBytes, rttMs };
          config.engine = autocannonCanDrive(config) ? 'autocannon' : 'wirecost';
          const id = runId(config);
          if (!runs.has(id)) runs.set(id, config);
        }
      }
    }
  }
  return [...runs.values()];
}

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(value);
}
