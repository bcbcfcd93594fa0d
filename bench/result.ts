/**
 * The shape of results.json: what a run measured, nothing computed for show. The report is
 * rendered from this file alone.
 */
import type { TransportName } from '../servers/contract.ts';
import type { WireBytes } from './wire.ts';
import type { MicroResults } from './micro/result.ts';
import type { DriverBenchmark } from './driver-bench/result.ts';

export const SCHEMA_VERSION = 1;

export const SCENARIOS = ['echo', 'push', 'idle', 'broadcast'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Environment {
  node: string;
  cpuModel: string;
  cores: number;
  os: string;
  totalMemoryBytes: number;
  /** Versions of the packages that shape the results (ws, autocannon, ...). */
  packages: Record<string, string>;
  /** `git rev-parse HEAD`, with "-dirty" when the tree had changes; "unknown" outside git. */
  gitCommit: string;
  startedAt: string;
  /** The command line that produced these results. */
  command: string;
}

/** CPU pinning of server and driver to different cores, and whether it took effect. */
export interface Pinning {
  requested: boolean;
  applied: boolean;
  serverCores: string;
  driverCores: string;
  /** Why pinning was not applied, when it was not. */
  reason?: string;
}

/** Everything a run was told to do: the scenario's parameters, resolved. */
export interface RunConfig {
  scenario: ScenarioName;
  transport: TransportName;
  clients: number;
  /** Size of each message: the echo message sent, or the push/broadcast event. */
  payloadBytes: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** echo, closed loop: messages each client keeps in flight. */
  inFlight: number;
  /** echo, open loop: messages per second from all clients together (0: closed loop). */
  targetRatePerSecond: number;
  /** push: messages per second to each client. */
  pushRatePerSecond: number;
  /** short-poll: the poll interval. */
  pollIntervalMs: number;
  /** broadcast: events sent during the measured window. */
  broadcastEvents: number;
  /** long-poll: how long the server holds an empty poll. */
  longPollTimeoutMs: number;
  perMessageDeflate: boolean;
  /** The engine that drove the clients: "autocannon" or "wirecost clients". */
  engine: 'autocannon' | 'wirecost';
  workers: number;
  /** Which series of a suite the run belongs to, where the report reads it as one. */
  group?: 'kaazing' | 'rtt' | 'capacity' | 'faults' | 'loss' | 'kaazing-link';
  /** A fault injected halfway through the window (see FAULTS). */
  fault?: FaultKind;
  /**
   * A rate ladder (the scale profile's 100,000 clients): runs of one ladder ask for lower and
   * lower rates, and the first one the machine sustains ends it (later ones are skipped).
   */
  ladder?: string;
  /** capacity: the p99 push latency a transport must stay under at a step of the ramp. */
  latencyBoundMs?: number;
  /** Round-trip time added between driver and server (0: none). */
  rttMs: number;
  /** Bits per second each direction of the emulated link carries (0: no limit). */
  bandwidthBitsPerSecond: number;
  /** netns link: packets lost at random in each direction, percent (absent: none). */
  lossPercent?: number;
  /** netns link: the queue in front of the rate, bytes, drop-tail (absent: 100 ms at the rate). */
  queueBytes?: number;
  /** netns link: up to this much more or less one-way delay at random, ms; packets stay in order (absent: none). */
  jitterMs?: number;
  /** netns link: the seed of the loss and jitter generators (absent: 1). */
  seed?: number;
  /** Carry the run over the netns link even with nothing to shape (the RTT series' RTT 0), where the netns method runs. */
  emulateLink?: boolean;
  /** A server the suite did not start (--target); undefined when the suite started it. */
  target?: string;
  /** websocket: the Origin header the clients send (--origin); null: none; undefined: the target's own origin. */
  origin?: string | null;
  /** HTTP transports: a cookie of this many bytes (name=value) on every request (--cookie-bytes); absent or 0: none. */
  cookieBytes?: number;
  /** The run over TLS, and its version (--tls): https for the HTTP transports, wss for WebSocket, TLS for TCP; absent: plaintext. */
  tls?: '1.2' | '1.3';
  /** HTTP/2 (--http 2) for short-poll, long-poll and SSE (over TLS as browsers speak it; h2c without); absent: HTTP/1.1. */
  http?: '2';
  /** --target with several ports (a server of several processes, a port per worker): client i goes to targetPorts[i mod n] of the target's host. */
  targetPorts?: number[];
  /** The server's processes (servers/cluster.ts); absent: one. */
  serverProcesses?: number;
  /** Driver processes on this machine, each running one shard of the clients (bench/shard-process.ts); absent: the driver alone. */
  driverProcesses?: number;
  /** This process drives shard `index` (from 0) of `count` (--shard i/N): its share of the clients and of the rate. */
  shard?: ShardSpec;
  /** --start-at: the measured window starts at this wall-clock time (ms since the epoch), in every shard alike. */
  startAtMs?: number;
}

/** One shard of a run: the clients [first, first + clients) of the run's numbering. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** What one shard's driver process did, as a merged run lists it. */
export interface ShardLoad {
  index: number;
  clients: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Its busiest thread's event-loop utilization over the window. */
  eventLoopUtilization: number;
  window?: WindowLoad;
  /** The machine it ran on (os.hostname()). */
  host?: string;
}

/** One worker of a server of several processes, over the run. */
export interface ServerWorkerUsage {
  pid: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** Clients registered or connected at the run's end. */
  clients: number;
  connectionsAccepted: number;
  window?: WindowLoad;
}

/**
 * How the link between driver and server was shaped in a run: direct (loopback as it is), relay
 * (the delaying relay of bench/relay.ts: bytes delayed, no packets) or netns (the kernel's TCP
 * over an emulated path between two network namespaces: bench/link/).
 */
export type LinkMethod = 'direct' | 'relay' | 'netns';

/** How the link between driver and server was shaped in a run. */
export interface NetworkEmulation {
  method: LinkMethod;
  /** Why this method ran (absent in results older than the field). */
  reason?: string;
  rttMs: number;
  bandwidthBitsPerSecond: number;
  /** netns: loss per direction, percent, and the seed of its generator. */
  lossPercent?: number;
  seed?: number;
  /** netns: the queue in front of the rate, bytes (with a rate). */
  queueBytes?: number;
  /** netns: jitter, ms. */
  jitterMs?: number;
  /** netns: what the forwarder itself costs (measured once per bench). */
  forwarder?: ForwarderCost;
  /** relay: what the relay itself added to a round trip at a round-trip time of 0 (measured, median). */
  relayOverheadMs?: number;
  /** relay: how many round trips relayOverheadMs took the median of, through the relay (and as many direct). */
  relayOverheadSamples?: number;
}

/** What the netns method's forwarder costs, measured on the machine with nothing shaped. */
export interface ForwarderCost {
  /** Median one-byte TCP round trip through the forwarder minus the same over a veth pair between the same namespaces, microseconds. */
  addedRoundTripUs: number;
  forwarderRoundTripUs: number;
  vethRoundTripUs: number;
  /** Round trips timed each way. */
  roundTrips: number;
  /** 64-byte UDP datagrams the forwarder delivered per second when offered as many as one sender could send. */
  packetsPerSecond: number;
  /** Of those offered, the share delivered (1: the sender, not the forwarder, was the limit). */
  deliveredShare: number;
}

/** One direction of a netns run's link, as the forwarder counted it over the whole run. */
export interface WireDirection {
  /** IPv4 packets the sender put on the link (retransmissions included; before any loss). */
  packets: number;
  /** Their bytes, IP and TCP headers included. */
  ipBytes: number;
  tcpPayloadBytes: number;
  /** Segments with no payload and only the ACK flag. */
  pureAcks: number;
  syn: number;
  fin: number;
  rst: number;
  /** Segments the sender's kernel sent again (its namespace's RetransSegs). */
  retransmittedSegments: number;
  /** Dropped by the link: at random (loss), by the full queue (drop-tail). */
  dropped: { loss: number; queue: number };
  /** Time packets waited in the queue behind the rate: mean and max, milliseconds. */
  queueWaitMs: { mean: number; max: number };
}

/** A netns run's packets and IP bytes each way: what the TCP payload bytes cost on the wire. */
export interface OnTheWire {
  /** Driver to server. */
  up: WireDirection;
  /** Server to driver. */
  down: WireDirection;
  /** Packets the emulation lost on its own (its buffers full): 0 unless the forwarder was overrun. */
  unintendedDrops: number;
}

/**
 * "From 150 ms to 50 ms", both sides, on the netns link with `oneWayDelayMs` each way: medians of
 * `samples` of each. The *Ms figures without "client" come from the forwarder's trace (when the
 * path delivered each packet, from the moment the client's first packet of the exchange entered
 * it); clientAnswerMs and clientLatencyMs are what the client itself timed.
 */
export interface FirstMessage {
  oneWayDelayMs: number;
  samples: number;
  /** A poll on a new connection: SYN-ACK back, the request in the server's namespace, the first byte of the answer back (from the SYN). */
  newConnectionPoll: { connectedMs: number; serverHasRequestMs: number; answerMs: number; clientAnswerMs: number };
  /** A poll on an open keep-alive connection (from the request). */
  keepAlivePoll: { serverHasRequestMs: number; answerMs: number; clientAnswerMs: number };
  /** One frame pushed down an open WebSocket: on the path (server's packet to client's), and server stamp to client receipt. */
  websocketFrame: { onTheWireMs: number; clientLatencyMs: number };
  /** Polls on new TLS connections (a full handshake each), one entry per version; absent from results made before TLS was measured. */
  newTlsConnectionPoll?: NewTlsConnectionPoll[];
  /** One frame pushed down an open WebSocket over TLS (wss), as websocketFrame; absent from results made before it was measured. */
  websocketFrameOverTls?: { version: '1.3' | '1.2'; onTheWireMs: number; clientLatencyMs: number };
}

/**
 * A poll on a new TLS connection, from the client's SYN (medians). The round trips are counted on
 * the trace, not assumed from the version: the client's flights of packets before the flight
 * that carries its request, each answered by the server (bench/link/request-flight.ts).
 */
export interface NewTlsConnectionPoll {
  version: '1.3' | '1.2';
  handshakeRoundTrips: number;
  connectedMs: number;
  /** The request's flight (TLS 1.3: the client's Finished and the request) all delivered to the server. */
  serverHasRequestMs: number;
  /** The server's reply to that flight at the client; over TLS 1.3 its session tickets leave with the answer, and the first of them is timed. */
  answerMs: number;
  /** The first byte of application data at the client, as it timed it from its connect call. */
  clientAnswerMs: number;
  /** TCP payload bytes before the request's flight (the handshake's, less TLS 1.3's client Finished and session tickets), up and down. */
  bytesBeforeRequest: { up: number; down: number };
}

/**
 * Faults a run can inject halfway through its window:
 * - client-kill: every client's connections are dropped at once; HTTP clients come back on their
 *   own (a poll retries, a stream resumes with Last-Event-ID);
 * - network-cut: the link between driver and server (the relay, or the netns forwarder) passes
 *   nothing for FAULT_CUT_MS, then delivers what it held;
 * - slow-consumer: the first client stops reading for the rest of the window (the server must
 *   bound what it buffers and count what it drops);
 * - server-restart: the server process is killed and started again on the same port; clients
 *   come back on their own and ask for their push again from where it would be, so what the
 *   server would have sent while it was down is counted lost.
 */
export const FAULTS = ['client-kill', 'network-cut', 'slow-consumer', 'server-restart'] as const;
export type FaultKind = (typeof FAULTS)[number];
export const FAULT_CUT_MS = 500;

/** When a fault happened, measured from the start of the window, and for how long. */
export interface FaultRecord {
  kind: FaultKind;
  atMs: number;
  durationMs: number;
}

export interface Delivery {
  /** Messages the clients should have received. */
  expected: number;
  /**
   * Messages actually sent: by the clients for echo (their sends that went out), by the server
   * for push (its count of events created) and broadcast (the clients each event was queued
   * for); absent where nobody counted (a push to a server the suite did not start).
   */
  sent?: number;
  /** Distinct messages received. */
  received: number;
  /** Sent and never received (sent - received); where sent is not known, the same as missing. */
  lost: number;
  /**
   * Expected and never received, by each client's sequence numbers: lost, or never sent (a push
   * cut short by a server that was down, say). Absent in results older than the field.
   */
  missing?: number;
  duplicated: number;
  reordered: number;
  /** Clients that lost at least one message. */
  clientsWithLoss: number;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/**
 * Which side limited a run (bench/bound.ts decides): the server, the driver, the emulated link,
 * a machine limit (open files, local ports), or none (no side was saturated: the scenario's own
 * rate set the pace). Only a server-bound figure is a server's or a transport's capacity.
 */
export type BoundSide = 'server' | 'driver' | 'link' | 'machine' | 'none';

export interface RunBound {
  side: BoundSide;
  /** The figures the decision rests on, in words. */
  reason: string;
}

/** A process's load over the measured window. */
export interface WindowLoad {
  cpuCores: number;
  eventLoopUtilization: number;
}

export interface ProcessUsage {
  cpuSeconds: number;
  peakRssBytes: number;
}

export interface CompletedRun {
  state: 'completed';
  id: string;
  scenario: ScenarioName;
  transport: TransportName;
  /** The URL the clients connected to. */
  target: string;
  clients: number;
  payloadBytes: number;
  durationSeconds: number;
  config: RunConfig;
  /** Over the whole run, from the first connection to the last close (warm-up included). */
  messages: Delivery;
  /** Exact TCP payload bytes of the driver's sockets over the whole run; total = sum of the parts. */
  bytes: WireBytes;
  /** The same totals as the sockets counted them (bytesWritten/bytesRead): a check of the split. */
  socketBytes: { up: number; down: number };
  connections: { opened: number; perClient: number };
  /** Latency over the measured window, in milliseconds (microsecond resolution). */
  latencyMs: LatencySummary;
  /** Broadcast: per event, milliseconds until the last client had it. */
  broadcastLastClientMs?: LatencySummary;
  /**
   * Messages sent in the measured window (by the client for echo, by the server's stamp for push
   * and broadcast) that arrived, per second of window; offeredPerSecond is what the run asked
   * for (open-loop echo, push, broadcast), absent where the clients set their own pace.
   */
  throughput: { messagesPerSecond: number; measuredSeconds: number; messagesInWindow: number; offeredPerSecond?: number };
  polls: { total: number; empty: number };
  /**
   * `window`: over the measured window (absent for a server the suite did not start). A server of
   * several processes: the figures are the workers' sum (and the primary's), `window.eventLoopUtilization`
   * the busiest worker's, and `workers` each one's.
   */
  server: ProcessUsage & {
    counters: Record<string, number>;
    window?: WindowLoad;
    workers?: ServerWorkerUsage[];
    /** Its resident memory when the clients began to connect (all workers and the primary), the baseline of memory per connection. */
    rssBeforeClientsBytes?: number;
  };
  /**
   * eventLoopUtilization: the busiest driver thread's over the measured window; `threads`, each
   * thread's; `window.cpuCores`, the driver process's CPU over the window (every thread).
   */
  driver: ProcessUsage & { saturated: boolean; eventLoopUtilization: number; threads?: number[]; window?: WindowLoad; shards?: ShardLoad[] };
  /** A shard's own result (--shard i/N): which share of the run it drove; merge the shards with `npm run report -- --merge`. */
  shard?: ShardSpec & { clients: number; firstClient: number };
  /** Which side was the limit (absent in results older than the field). */
  bound?: RunBound;
  /**
   * HTTP transports: the header bytes (the wire's `headers` kind) of each of the first
   * HEADER_SERIES_LENGTH requests and responses of the run's first client, in order, as the
   * accountant split them: HTTP/1.1 heads, or HTTP/2 HEADERS blocks after HPACK (where the first
   * request carries its headers whole and later ones mostly refer to the dynamic table).
   */
  headerSeries?: { requests: number[]; responses: number[] };
  /** HdrHistogram (hdr-histogram-js, base64 compressed) of latency in microseconds. */
  histogram: string;
  /** Errors clients met and recovered from, by message. */
  clientErrors: Record<string, number>;
  network: NetworkEmulation;
  /** netns runs: packets and IP bytes each way, every segment counted (absent for direct and relay runs). */
  onTheWire?: OnTheWire;
  fault?: FaultRecord;
  warnings: string[];
}

export interface FailedRun {
  state: 'failed';
  id: string;
  scenario: ScenarioName;
  transport: TransportName;
  config: RunConfig;
  error: string;
}

export type RunResult = CompletedRun | FailedRun;

/**
 * The first bytes one connection of a run carried, each way, exactly as captured by the
 * driver's socket tap: what the report shows as annotated hex (an HTTP poll, an SSE stream,
 * a WebSocket upgrade and its frames).
 */
export interface WireSample {
  transport: TransportName;
  runId: string;
  /** Client to server, base64. */
  up: string;
  /** Server to client, base64. */
  down: string;
  /** How many bytes each direction kept at most. */
  limitBytes: number;
}

/** The figures of a real browser the report uses. */
export interface BrowserFigures {
  name: string;
  version: string;
  /** One poll request, head and all. */
  pollRequestBytes: number;
  /** The head of the response to one poll. */
  pollResponseHeaderBytes: number;
  /** Framing of one WebSocket frame from the server. */
  websocketFrameBytes: number;
  /** The cookie (name=value) its requests carried (--cookie-bytes), as captured; absent: none. */
  cookieBytes?: number;
  /**
   * Its polls over HTTPS and HTTP/2 (bench/browser/measure-http2.ts), when measured: the header
   * block bytes (HEADERS and CONTINUATION fragments, after HPACK) of each poll's request and
   * response, in order, the first on a connection of its own (HPACK's tables empty), and the TLS
   * version ("1.2" or "1.3").
   */
  http2?: { requests: number[]; responses: number[]; tlsVersion: string };
}

export interface Results {
  schemaVersion: typeof SCHEMA_VERSION;
  environment: Environment;
  pinning: Pinning;
  /** The suite's options as resolved (after defaults). */
  suite: Record<string, unknown>;
  runs: RunResult[];
  /** One capture per transport (from its first completed run). */
  samples: WireSample[];
  /**
   * What a real browser sent (bench/browser/ writes more: the exchanges and frames); or why it
   * was not measured (skipped: chromium absent); or the error of a measurement that failed.
   */
  browser?: BrowserFigures | { skipped: string } | { failed: string };
  /** Is the driver stronger than what it measures? Its clients against bare loads (bench/driver-bench/). */
  driverBenchmark?: DriverBenchmark;
  /** Per-message CPU cost of each transport's code path (bench/micro/). */
  micro?: MicroResults;
  /** The method the suite's shaped runs used (bench/link/), why, and what the netns forwarder costs; absent where no run was shaped. */
  link?: { method: 'netns' | 'relay'; reason: string; cost?: ForwarderCost };
  /** "From 150 ms to 50 ms" measured on the netns link; or why not (skipped: no netns link), or the error of a measurement that failed. */
  firstMessage?: FirstMessage | { skipped: string } | { failed: string };
  /** Servers not of this project run beside ours: the textbook's Go echo server (servers/go-echo/). */
  peers?: { go?: { skipped?: string; version?: string; runIds: string[] } };
  finishedAt: string;
}
