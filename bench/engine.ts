/**
 * Runs one scenario: start the server (unless the run targets one of its own), connect the
 * clients, warm up, measure, drain, stop; and put the result together. It emits events and
 * draws nothing: progress.ts listens.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROUTES, clockNowMs, type ServerStats } from '../servers/contract.ts';
import { Fleet, type FleetPlan } from './fleet.ts';
import type { FleetHandle, FleetResult, FleetWindow } from './fleet-recorder.ts';
import { WorkerFleet } from './fleet-worker.ts';
import { AutocannonFleet } from './autocannon-fleet.ts';
import { addDelivery, withSent } from './delivery.ts';
import { mergeHistograms, encodeHistogram, newHistogram, recordMs, summarize } from './latency.ts';
import { affinityOf, coreCount } from './pinning.ts';
import { DELIVERED_SHORT, SATURATED, decideBound } from './bound.ts';
import {
  FAULT_CUT_MS,
  type CompletedRun,
  type Delivery,
  type FaultRecord,
  type NetworkEmulation,
  type RunConfig,
  type RunResult,
  type ServerWorkerUsage,
  type WindowLoad,
  type WireSample,
} from './result.ts';
import { DelayRelay, measureRelayOverhead } from './relay.ts';
import { runExceedsLimits } from './limits.ts';
import { ServerProcess } from './server-process.ts';
import { runId } from './scenarios.ts';
import { addWireBytes, emptyWireBytes } from './wire.ts';
import { linkMethodFor, needsNetns, netnsServerArgs, onTheWire, pathShapeOf, type LinkChoice } from './link/index.ts';
import { NetnsLink } from './link/netns.ts';
import { NamespaceFleet, spawnFleetProcess } from './link/fleet-process.ts';
import { ShardFleet } from './shard-process.ts';
import { shardAddresses, shardShare } from './shard.ts';
import { cannotShard } from './run-args.ts';
import { defaultDriverProcesses } from './limits.ts';
import { availableParallelism, hostname } from 'node:os';
import { createRunCertificate, removeRunCertificate, type RunCertificate } from './run-certificate.ts';
import type { ClientTls } from './clients/transport-client.ts';
import type { StartOptions } from './server-process.ts';

export type EnginePhase = 'starting server' | 'connecting' | 'warming up' | 'measuring' | 'draining';

export type EngineEvent =
  { type: 'run-start'; id: string; config: RunConfig } | { type: 'phase'; id: string; phase: EnginePhase } | { type: 'run-end'; result: RunResult };

export interface EngineContext {
  /** Command prefix that pins server processes (e.g. ['taskset', '-c', '1']), or []. */
  serverCommand: string[];
  /** The cores servers should end up on, to check the pinning; undefined when not pinning. */
  serverCores?: string;
  /** Loopback source addresses for the clients. */
  localAddresses: string[];
  emit: (event: EngineEvent) => void;
  /** When set, the run keeps the first bytes of one connection and hands them here. */
  onSample?: (sample: WireSample) => void;
  /** The method for shaped runs (bench/link/): netns or the relay, and why; absent: the relay. */
  link?: LinkChoice;
  /**
   * When the measured window starts, asked once the clients have connected (at `connectedAtMs`):
   * a shard's --start-at, or the moment its launcher picks once every shard has connected.
   * Absent: after the run's warm-up.
   */
  windowStart?: (connectedAtMs: number) => Promise<number>;
  /** Cores the driver may use (its pinning), which bound its default number of processes; absent: the machine's. */
  driverCores?: number;
  /**
   * TLS runs: the bench's certificate (bench/run-certificate.ts), which the servers it starts
   * present and its clients trust. Absent: a TLS run makes one of its own, removed after it.
   */
  certificate?: RunCertificate;
  /** A --target over TLS: the CA its clients verify the server's certificate with (--ca), PEM and file; absent: Node's own CAs. */
  ca?: { pem: string; path: string };
}

/** After every driver process has connected, its window starts this much later at the earliest (the start message's way over IPC). */
const SHARD_START_MS = 200;

/** Bytes of each direction a wire sample keeps. */
export const SAMPLE_BYTES = 4096;

const RSS_SAMPLE_MS = 100;

function serverArgs(config: RunConfig): string[] {
  const args = [
    '--max-message-bytes',
    String(Math.max(64 * 1024, config.payloadBytes)),
    '--long-poll-timeout-ms',
    String(config.longPollTimeoutMs),
    '--max-clients',
    String(Math.max(200_000, config.clients * 2)),
  ];
  if (config.perMessageDeflate) args.push('--per-message-deflate');
  if ((config.serverProcesses ?? 1) > 1) args.push('--processes', String(config.serverProcesses));
  // tens of thousands of clients connecting at once queue at the server: their requests' heads may wait longer than a slow sender's would be allowed
  if (config.clients > MASS_CONNECT_CLIENTS) args.push('--headers-timeout-ms', String(MASS_CONNECT_HEADERS_TIMEOUT_MS));
  // a slow consumer must reach the server's bound within the window
  if (config.fault === 'slow-consumer') args.push('--max-buffered-bytes', String(SLOW_CONSUMER_BUFFER_BYTES));
  return args;
}

/** From this many clients, a run's server waits MASS_CONNECT_HEADERS_TIMEOUT_MS for a request's head (the default is 10 s). */
const MASS_CONNECT_CLIENTS = 10_000;
const MASS_CONNECT_HEADERS_TIMEOUT_MS = 120_000;

/** The server's bound on a client's unsent output in a slow-consumer run. */
const SLOW_CONSUMER_BUFFER_BYTES = 256 * 1024;

function targetUrl(config: RunConfig, server: ServerProcess | undefined): string {
  if (config.target !== undefined) return config.target;
  if (server === undefined) throw new Error('no server and no target');
  const base = `${server.host}:${server.port}`;
  const secure = config.tls !== undefined;
  switch (config.transport) {
    case 'websocket':
      return `${secure ? 'wss' : 'ws'}://${base}${ROUTES.websocket}`;
    case 'tcp':
      return `${secure ? 'tls' : 'tcp'}://${base}`;
    case 'sse':
      return `${secure ? 'https' : 'http'}://${base}${ROUTES.events}`;
    default:
      return `${secure ? 'https' : 'http'}://${base}${ROUTES.messages}`;
  }
}

/** Why the run's protocols cannot be (HTTP/2 where it does not apply, or without TLS), or undefined. */
export function refuseProtocols(config: RunConfig): string | undefined {
  if (config.http === '2' && (config.transport === 'websocket' || config.transport === 'tcp')) {
    return `HTTP/2 carries short-poll, long-poll and SSE: ${config.transport} has no HTTP/2 form (leave out --http 2)`;
  }
  if (config.http === '2' && config.tls === undefined) return 'HTTP/2 runs over TLS, as browsers speak it: add --tls';
  return undefined;
}

/** Whether a failure is the clients refusing the server's certificate. */
function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) || /certificate/i.test(message);
}

/** Splits `total` clients over `workers` fleets as evenly as whole numbers allow. */
function shares(total: number, workers: number): number[] {
  const count = Math.max(1, Math.min(workers, total));
  return Array.from({ length: count }, (_, i) => Math.floor(total / count) + (i < total % count ? 1 : 0));
}

/** Runs the fleets' part of a run; if it fails, every fleet is aborted (clients closed, workers ended) before the error goes on. */
async function driveFleets<T>(fleets: FleetHandle[], drive: () => Promise<T>): Promise<T> {
  try {
    return await drive();
  } catch (error) {
    await Promise.allSettled(fleets.map((fleet) => fleet.abort()));
    throw error;
  }
}

/** Samples this process's resident memory while a run goes on. */
function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  // a sampler never keeps the process alive, even if a failed run forgets to stop it
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

export async function runScenario(config: RunConfig, context: EngineContext): Promise<RunResult> {
  const id = runId(config);
  context.emit({ type: 'run-start', id, config });
  let server: ServerProcess | undefined;
  let relay: DelayRelay | undefined;
  let netns: NetnsLink | undefined;
  let ownCertificate: RunCertificate | undefined;
  try {
    // a TLS run the bench did not make a certificate for makes its own
    if (config.tls !== undefined && config.target === undefined && context.certificate === undefined && refuseProtocols(config) === undefined) {
      ownCertificate = await createRunCertificate();
    }
    const result = await measure(
      config,
      id,
      ownCertificate === undefined ? context : { ...context, certificate: ownCertificate },
      (started) => (server = started),
      (started) => (relay = started),
      (started) => (netns = started),
    );
    context.emit({ type: 'run-end', result });
    return result;
  } catch (error) {
    const result: RunResult = {
      state: 'failed',
      id,
      scenario: config.scenario,
      transport: config.transport,
      config,
      error: error instanceof Error ? error.message : String(error),
    };
    context.emit({ type: 'run-end', result });
    return result;
  } finally {
    await (relay as DelayRelay | undefined)?.close();
    await (server as ServerProcess | undefined)?.stop();
    await (netns as NetnsLink | undefined)?.close();
    if (ownCertificate !== undefined) await removeRunCertificate(ownCertificate);
  }
}

interface ShapedLink {
  emulation: NetworkEmulation;
  relay?: DelayRelay;
}

/**
 * Puts the delaying relay between driver and server when the run asks for a round-trip time or
 * a bandwidth (or a network cut) and the netns link does not carry it; says how the link was
 * shaped either way.
 */
async function shapeLink(
  config: RunConfig,
  server: { host: string; port: number },
  method: { method: 'direct' | 'relay' | 'netns'; reason: string },
  netns: NetnsLink | undefined,
  link: LinkChoice | undefined,
): Promise<ShapedLink> {
  const shape = { rttMs: config.rttMs, bandwidthBitsPerSecond: config.bandwidthBitsPerSecond };
  if (method.method === 'direct') return { emulation: { method: 'direct', reason: method.reason, ...shape } };
  if (method.method === 'netns' && netns !== undefined) {
    const path = netns.shape.up;
    return {
      emulation: {
        method: 'netns',
        reason: method.reason,
        ...shape,
        ...(path.lossPercent > 0 ? { lossPercent: path.lossPercent, seed: netns.shape.seed } : {}),
        ...(path.rateBitsPerSecond > 0 ? { queueBytes: path.queueBytes } : {}),
        ...(path.jitterMs > 0 ? { jitterMs: path.jitterMs, seed: netns.shape.seed } : {}),
        ...(link?.cost === undefined ? {} : { forwarder: link.cost }),
      },
    };
  }
  const overhead = await measureRelayOverhead();
  return { emulation: { method: 'relay', reason: method.reason, ...shape, ...overhead }, relay: await DelayRelay.start(server, shape) };
}

async function measure(
  config: RunConfig,
  id: string,
  context: EngineContext,
  started: (server: ServerProcess) => void,
  relayStarted: (relay: DelayRelay | undefined) => void,
  netnsStarted: (link: NetnsLink) => void,
): Promise<CompletedRun> {
  const warnings: string[] = [];
  const refused = refuseProtocols(config);
  if (refused !== undefined) throw new Error(refused);
  const method = linkMethodFor(config, context.link);
  if (method.method !== 'netns' && needsNetns(config)) {
    throw new Error(`loss, jitter and a queue need the netns link, and this run has the ${method.method} link: ${method.reason}`);
  }
  // the netns link: the server in one namespace, the clients in another, the forwarder between
  let netns: NetnsLink | undefined;
  // the first fleet's process, started in the client's namespace while the server starts
  let fleetProcess: ChildProcess | undefined;
  if (method.method === 'netns') {
    netns = await NetnsLink.start(pathShapeOf(config));
    netnsStarted(netns);
    fleetProcess = spawnFleetProcess(netns.inNamespace('client'));
  }
  // this process's share of the run: all of it, or a shard's (--shard i/N)
  const share = shardShare(config);
  const driven: RunConfig = { ...config, clients: share.clients, targetRatePerSecond: share.targetRatePerSecond };
  const driverProcesses =
    config.shard !== undefined ? 1 : (config.driverProcesses ?? defaultDriverProcesses(driven, context.driverCores ?? availableParallelism()));
  if (driverProcesses > 1) {
    const reason = cannotShard(config);
    if (reason !== undefined) throw new Error(reason);
  }
  if ((config.serverProcesses ?? 1) > 1 && config.target !== undefined) throw new Error('--server-processes starts the server: leave out --target');
  // the clients in the namespace have one source address, none of the loopback ones
  const targetHost = config.target === undefined ? (netns?.serverAddress ?? '127.0.0.1') : new URL(config.target).hostname;
  const localAddresses = netns === undefined ? shardAddresses(context.localAddresses, config.shard, targetHost) : [];
  const exceeded = runExceedsLimits(driven, { localAddresses: localAddresses.length, driverProcesses, serverProcesses: config.serverProcesses ?? 1 });
  if (exceeded !== undefined) throw new Error(exceeded);
  // TLS: the servers present the run's certificate, the clients trust it (or, against a --target, the CA given)
  const certificate = config.tls === undefined || config.target !== undefined ? undefined : context.certificate;
  if (config.tls !== undefined && config.target === undefined && certificate === undefined) throw new Error('a TLS run needs the bench certificate');
  const ca = config.target !== undefined ? context.ca : certificate === undefined ? undefined : { pem: certificate.certPem, path: certificate.certPath };
  const clientTls: ClientTls | undefined = config.tls === undefined ? undefined : { version: config.tls, ...(ca === undefined ? {} : { ca: ca.pem }) };
  const serverStart: StartOptions = {
    pinCommand: netns === undefined ? context.serverCommand : [...netns.inNamespace('server'), ...context.serverCommand],
    ...(netns === undefined ? {} : { host: netns.serverAddress }),
    ...(certificate === undefined ? {} : { tls: { certPath: certificate.certPath, keyPath: certificate.keyPath, version: config.tls } }),
    ...(config.http === undefined ? {} : { http: config.http }),
  };
  let server: ServerProcess | undefined;
  if (config.target === undefined) {
    context.emit({ type: 'phase', id, phase: 'starting server' });
    server = await ServerProcess.start(config.transport, {
      args: [...serverArgs(config), ...(netns === undefined ? [] : netnsServerArgs(netns.serverAddress))],
      ...serverStart,
    });
    started(server);
    if (context.serverCores !== undefined && affinityOf(server.pid) !== context.serverCores) {
      warnings.push(`the server was to run on core ${context.serverCores} but runs on ${affinityOf(server.pid) ?? 'unknown cores'}`);
    }
  } else if (config.scenario === 'broadcast') {
    throw new Error('broadcast needs a server the suite started (it triggers the events): not available with --target');
  }
  const serverUrl = new URL(targetUrl(config, server));
  // a server with a port per worker: each client keeps to one (sticky placement)
  const ports = config.targetPorts ?? (server !== undefined && new Set(server.ports).size > 1 ? server.ports : undefined);
  if (ports !== undefined && method.method === 'relay')
    throw new Error('the relay forwards one port, and this server has a port per worker: use --link netns or --server-processes 1');
  const network = await shapeLink(config, { host: serverUrl.hostname, port: Number(serverUrl.port) }, method, netns, context.link);
  relayStarted(network.relay);
  // the URL the clients connect to: the server's, or the relay's in front of it
  const url = new URL(serverUrl.href);
  if (network.relay !== undefined) {
    url.hostname = '127.0.0.1';
    url.port = String(network.relay.port);
  }
  const target = url.href;
  const plan = (clients: number, first: boolean, firstClient: number): FleetPlan => ({
    config: driven,
    clients,
    captureBytes: first && context.onSample !== undefined ? SAMPLE_BYTES : 0,
    headerSeries: first,
    localAddresses,
    firstClient: share.first + firstClient,
    processClient: firstClient,
    ...(ports === undefined ? {} : { ports }),
    client: {
      host: url.hostname,
      port: Number(url.port),
      ...(config.transport === 'websocket' ? { url: target } : {}),
      ...(config.origin === undefined ? {} : { origin: config.origin }),
      ...(config.cookieBytes === undefined ? {} : { cookieBytes: config.cookieBytes }),
      ...(clientTls === undefined ? {} : { tls: clientTls }),
      ...(config.http === undefined ? {} : { http: config.http }),
      pollIntervalMs: config.pollIntervalMs,
      perMessageDeflate: config.perMessageDeflate,
    },
  });

  const serverBefore = await server?.stats();
  const cpuBefore = process.cpuUsage();
  const rss = sampleRss();

  const split = shares(driven.clients, config.workers);
  const firstOf = (index: number): number => split.slice(0, index).reduce((sum, clients) => sum + clients, 0);
  const targets = ports === undefined ? [target] : ports.map((port) => Object.assign(new URL(target), { port: String(port) }).href);
  const fleets: FleetHandle[] =
    driverProcesses > 1
      ? [new ShardFleet(config, targets, driverProcesses, context.localAddresses.length, ca?.path)]
      : split.map((clients, index) =>
          netns !== undefined
            ? new NamespaceFleet(plan(clients, index === 0, firstOf(index)), (index === 0 ? fleetProcess : undefined) ?? netns.inNamespace('client'))
            : config.engine === 'autocannon'
              ? new AutocannonFleet(plan(clients, index === 0, firstOf(index)))
              : config.workers > 1
                ? new WorkerFleet(plan(clients, index === 0, firstOf(index)))
                : new Fleet(plan(clients, index === 0, firstOf(index))),
        );
  const measured = await driveFleets(fleets, async () => {
    context.emit({ type: 'phase', id, phase: 'connecting' });
    await Promise.all(fleets.map((fleet) => fleet.connect())).catch((error: unknown) => {
      if (config.tls === undefined || !isCertificateError(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(
        `the clients refused the server's certificate (${message})${config.target === undefined ? '' : ': give the CA that signed it with --ca <file>'}`,
      );
    });

    const connectedAtMs = clockNowMs();
    const startMs =
      context.windowStart !== undefined
        ? await context.windowStart(connectedAtMs)
        : (config.startAtMs ?? (driverProcesses > 1 ? clockNowMs() + SHARD_START_MS : clockNowMs()) + config.warmupSeconds * 1000);
    // a window set from outside (--start-at, the launcher of driver processes) that has begun already cannot be measured whole
    if ((context.windowStart !== undefined || config.startAtMs !== undefined) && startMs < clockNowMs()) {
      throw new Error(
        `the clients connected ${Math.round(clockNowMs() - startMs)} ms after the window was to start (--start-at ${Math.round(startMs)}): start the shards later`,
      );
    }
    const window: FleetWindow = { startMs, endMs: startMs + config.durationSeconds * 1000 };
    const loads = meterLoads(window, () => server);
    context.emit({ type: 'phase', id, phase: config.warmupSeconds > 0 ? 'warming up' : 'measuring' });
    const phaseTimer = setTimeout(() => context.emit({ type: 'phase', id, phase: 'measuring' }), Math.max(0, startMs - clockNowMs()));
    const broadcasts: Promise<BroadcastsSent> =
      config.scenario === 'broadcast' && server !== undefined ? broadcastDuring(server, config, window) : Promise.resolve({ events: 0, queued: 0 });
    let networkCut: FaultRecord | undefined;
    const cutTimer =
      config.fault === 'network-cut'
        ? setTimeout(
            () => {
              network.relay?.cut(FAULT_CUT_MS);
              netns?.cut(FAULT_CUT_MS);
              networkCut = { kind: 'network-cut', atMs: clockNowMs() - window.startMs, durationMs: FAULT_CUT_MS };
            },
            Math.max(0, (window.startMs + window.endMs) / 2 - clockNowMs()),
          )
        : undefined;
    // a server restart halfway through the window; its error (if any) is thrown once the fleets are done
    const lives: ServerLife[] = [];
    let restartFault: FaultRecord | undefined;
    const restarting: Promise<unknown> =
      config.fault === 'server-restart' && server !== undefined && serverBefore !== undefined
        ? sleep(Math.max(0, (window.startMs + window.endMs) / 2 - clockNowMs()))
            .then(async () => {
              const old = server!;
              const end = await old.stats();
              const killedAtMs = clockNowMs();
              await old.kill();
              lives.push({ before: lives.length === 0 ? serverBefore : lives.at(-1)!.next!, end });
              server = await ServerProcess.start(config.transport, {
                args: [...serverArgs(config), ...(netns === undefined ? [] : netnsServerArgs(netns.serverAddress)), '--port', String(old.port)],
                ...serverStart,
              });
              started(server);
              lives.at(-1)!.next = await server.stats();
              restartFault = { kind: 'server-restart', atMs: killedAtMs - window.startMs, durationMs: clockNowMs() - killedAtMs };
            })
            .then(
              () => undefined,
              (error: unknown) => error,
            )
        : Promise.resolve(undefined);
    await Promise.all(fleets.map((fleet) => fleet.run(window)));
    clearTimeout(phaseTimer);
    clearTimeout(cutTimer);
    const restartError = await restarting;
    if (restartError !== undefined)
      throw new Error(`the server could not be restarted: ${restartError instanceof Error ? restartError.message : String(restartError)}`);
    const { events: broadcastEvents, queued: broadcastsQueued } = await broadcasts;

    context.emit({ type: 'phase', id, phase: 'draining' });
    const results = await Promise.all(fleets.map((fleet) => fleet.finish(broadcastEvents)));
    return { window, results, networkCut, restartFault, lives, broadcastEvents, broadcastsQueued, windowLoads: await loads };
  }).finally(() => rss.stop());
  const { window, results, networkCut, restartFault, lives, broadcastEvents, broadcastsQueued, windowLoads } = measured;
  const cpu = process.cpuUsage(cpuBefore);
  let driverPeakRss = rss.stop();
  // a fleet in the client's namespace did the driver's work in a process of its own
  const shardLoads = fleets.flatMap((fleet) => (fleet instanceof ShardFleet ? fleet.loads : []));
  for (const load of shardLoads) {
    cpu.user += load.cpuSeconds * 1e6;
    driverPeakRss += load.peakRssBytes;
    windowLoads.driverCpuCores += load.window?.cpuCores ?? 0;
  }
  for (const fleet of fleets) if (fleet instanceof ShardFleet) warnings.push(...fleet.warnings);
  for (const fleet of fleets) {
    if (!(fleet instanceof NamespaceFleet) || fleet.usage === undefined) continue;
    cpu.user += fleet.usage.cpuSeconds * 1e6;
    driverPeakRss += fleet.usage.peakRssBytes;
    if (fleet.usage.windowSeconds > 0) windowLoads.driverCpuCores += fleet.usage.windowCpuSeconds / fleet.usage.windowSeconds;
  }
  // the link's counters once the last segments (the connections' teardown) have crossed it
  const wireStats = await netns?.quiet(config.rttMs / 2 + LINK_QUIET_MS, LINK_QUIET_LIMIT_MS + 2 * config.rttMs);
  const serverAfter = await server?.stats();

  const merged = mergeFleets(results);
  const fleetFault = results.find((result) => result.fault !== undefined)?.fault;
  const fault: FaultRecord | undefined =
    networkCut ??
    restartFault ??
    (config.fault !== undefined && fleetFault !== undefined
      ? { kind: config.fault, atMs: fleetFault.atMs - window.startMs, durationMs: fleetFault.durationMs }
      : undefined);
  if (config.fault !== undefined && fault === undefined) warnings.push(`the ${config.fault} fault was not injected (the window ended first)`);
  const sample = results[0]?.sample;
  const headerSeries = results[0]?.headerSeries;
  if (sample !== undefined) context.onSample?.({ transport: config.transport, runId: id, ...sample, limitBytes: SAMPLE_BYTES });
  const histogram = mergeHistograms(results.map((result) => result.histogram));
  const lastClient = newHistogram();
  for (const latencyMs of merged.broadcastLastClientMs.values()) recordMs(lastClient, latencyMs);
  const threads = shardLoads.length > 0 ? shardLoads.map((load) => load.eventLoopUtilization) : results.map((result) => result.eventLoopUtilization);
  const utilization = Math.max(...threads);
  const durationMs = (config.warmupSeconds + config.durationSeconds) * 1000;
  const bound = decideBound({
    driverEventLoopUtilization: utilization,
    ...(windowLoads.server === undefined
      ? {}
      : {
          serverEventLoopUtilization: windowLoads.server.eventLoopUtilization,
          serverCpuCores: windowLoads.server.cpuCores,
          ...(windowLoads.serverWorkers === undefined
            ? {}
            : { serverCores: context.serverCores === undefined ? availableParallelism() : coreCount(context.serverCores) }),
        }),
    link: {
      bandwidthBitsPerSecond: config.bandwidthBitsPerSecond,
      utilization:
        config.bandwidthBitsPerSecond > 0
          ? (Math.max(merged.wire.up.total, merged.wire.down.total) * 8 * 1000) / durationMs / config.bandwidthBitsPerSecond
          : 0,
    },
    clientErrors: merged.errors,
  });
  if (bound.side === 'driver') warnings.push(`driver-bound: ${bound.reason}; these figures measure the driver, not the server`);
  if (bound.side === 'machine') warnings.push(`machine-bound: ${bound.reason}`);
  const offeredPerSecond = offeredRate(driven, broadcastEvents);
  const deliveredPerSecond = merged.messagesInWindow / config.durationSeconds;
  if (offeredPerSecond !== undefined && deliveredPerSecond < DELIVERED_SHORT * offeredPerSecond) {
    warnings.push(
      `delivered ${Math.round(deliveredPerSecond).toLocaleString('en-US')} of the ${Math.round(offeredPerSecond).toLocaleString('en-US')} messages a second asked for`,
    );
  }
  const lateSetupMs = Math.max(...results.map((result) => result.lateSetupMs));
  if (lateSetupMs > 0) {
    warnings.push(
      `push requests were still being made ${Math.round(lateSetupMs)} ms into the measured window: the warm-up was too short for this many clients`,
    );
  }
  // every life of the server process (one, or two around a restart): from its first snapshot to its last
  const spans: ServerLife[] =
    serverBefore === undefined || serverAfter === undefined ? [] : [...lives, { before: lives.at(-1)?.next ?? serverBefore, end: serverAfter }];
  const counters = sumCounters(spans.map((span) => serverCounters(span.end, span.before)));
  const delivery = withSent(merged.delivery, sentCount(config, merged.delivery, spans.length > 0 ? counters : undefined, broadcastsQueued));
  if (delivery.lost > 0)
    warnings.push(`${delivery.lost} messages LOST (of ${delivery.sent ?? delivery.expected} ${delivery.sent === undefined ? 'expected' : 'sent'})`);
  if (delivery.duplicated > 0) warnings.push(`${delivery.duplicated} messages duplicated`);
  if (delivery.reordered > 0) warnings.push(`${delivery.reordered} messages reordered`);
  if (merged.socketBytes.up !== merged.wire.up.total || merged.socketBytes.down !== merged.wire.down.total) {
    warnings.push(
      `byte split differs from the sockets' own count: split ${merged.wire.up.total}/${merged.wire.down.total}, sockets ${merged.socketBytes.up}/${merged.socketBytes.down}`,
    );
  }

  const wire = wireStats === undefined ? undefined : onTheWire(wireStats);
  if (wire !== undefined && wire.unintendedDrops > 0) {
    warnings.push(
      `the emulated link dropped ${wire.unintendedDrops} packets it was not asked to (the forwarder fell behind): its figures are not the link's alone`,
    );
  }

  const serverCpuSeconds = spans.reduce((sum, span) => sum + (cpuMicros(span.end) - cpuMicros(span.before)) / 1e6, 0);
  return {
    state: 'completed',
    id,
    scenario: config.scenario,
    transport: config.transport,
    target,
    clients: driven.clients,
    payloadBytes: config.payloadBytes,
    durationSeconds: config.durationSeconds,
    config,
    ...(config.shard === undefined ? {} : { shard: { ...config.shard, clients: share.clients, firstClient: share.first } }),
    messages: delivery,
    bytes: merged.wire,
    socketBytes: merged.socketBytes,
    connections: { opened: merged.connectionsOpened, perClient: merged.connectionsOpened / driven.clients },
    latencyMs: summarize(histogram),
    ...(headerSeries === undefined ? {} : { headerSeries }),
    ...(config.scenario === 'broadcast' ? { broadcastLastClientMs: summarize(lastClient) } : {}),
    throughput: {
      messagesPerSecond: deliveredPerSecond,
      measuredSeconds: config.durationSeconds,
      messagesInWindow: merged.messagesInWindow,
      ...(offeredPerSecond === undefined ? {} : { offeredPerSecond }),
    },
    polls: merged.polls,
    server: {
      cpuSeconds: serverCpuSeconds,
      peakRssBytes: Math.max(0, ...spans.map((span) => span.end.maxRssBytes)),
      ...(serverBefore === undefined ? {} : { rssBeforeClientsBytes: serverBefore.rssBytes }),
      counters,
      ...(windowLoads.server === undefined ? {} : { window: windowLoads.server }),
      ...(serverAfter?.workers === undefined ? {} : { workers: workerUsage(serverAfter.workers, serverBefore?.workers, windowLoads.serverWorkers) }),
    },
    driver: {
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssBytes: driverPeakRss,
      saturated: utilization >= SATURATED,
      eventLoopUtilization: utilization,
      threads,
      window: { cpuCores: windowLoads.driverCpuCores, eventLoopUtilization: utilization },
      ...(shardLoads.length > 0
        ? { shards: shardLoads }
        : config.shard !== undefined
          ? {
              shards: [
                {
                  index: config.shard.index,
                  clients: share.clients,
                  cpuSeconds: (cpu.user + cpu.system) / 1e6,
                  peakRssBytes: driverPeakRss,
                  eventLoopUtilization: utilization,
                  window: { cpuCores: windowLoads.driverCpuCores, eventLoopUtilization: utilization },
                  host: hostname(),
                },
              ],
            }
          : {}),
    },
    histogram: encodeHistogram(histogram),
    clientErrors: merged.errors,
    network: network.emulation,
    ...(wire === undefined ? {} : { onTheWire: wire }),
    bound,
    ...(fault === undefined ? {} : { fault }),
    warnings,
  };
}

/** The netns link's counters are read once no packet has crossed for this long (plus half the RTT), or after the limit. */
const LINK_QUIET_MS = 30;
const LINK_QUIET_LIMIT_MS = 2_000;

/** Messages a second the run asked for; undefined where the clients set their own pace (closed-loop echo, idle). */
function offeredRate(config: RunConfig, broadcastEvents: number): number | undefined {
  switch (config.scenario) {
    case 'echo':
      return config.targetRatePerSecond > 0 ? config.targetRatePerSecond : undefined;
    case 'push':
      return config.clients * config.pushRatePerSecond;
    case 'broadcast':
      return (config.clients * broadcastEvents) / config.durationSeconds;
    case 'idle':
      return undefined;
  }
}

/** The driver's CPU and the server's load over the measured window. */
interface WindowLoads {
  driverCpuCores: number;
  /** A server of several processes: the workers' CPU summed, and the busiest worker's event-loop utilization. */
  server?: WindowLoad;
  /** Each worker's, by pid. */
  serverWorkers?: Map<number, WindowLoad>;
}

/** A process's load between two snapshots `seconds` apart. */
function loadBetween(before: ServerStats, after: ServerStats, seconds: number): WindowLoad {
  const activeMs = after.eventLoopActiveMs - before.eventLoopActiveMs;
  const idleMs = after.eventLoopIdleMs - before.eventLoopIdleMs;
  return {
    cpuCores: (cpuMicros(after) - cpuMicros(before)) / 1e6 / seconds,
    eventLoopUtilization: activeMs + idleMs > 0 ? activeMs / (activeMs + idleMs) : 0,
  };
}

/** Each worker's usage over the run, and over the window where it was metered. */
function workerUsage(after: ServerStats[], before: ServerStats[] | undefined, window: Map<number, WindowLoad> | undefined): ServerWorkerUsage[] {
  return after.map((end) => {
    const start = before?.find((one) => one.pid === end.pid);
    const load = window?.get(end.pid);
    return {
      pid: end.pid,
      cpuSeconds: (cpuMicros(end) - (start === undefined ? 0 : cpuMicros(start))) / 1e6,
      peakRssBytes: end.maxRssBytes,
      clients: end.clients,
      connectionsAccepted: end.connectionsAccepted - (start?.connectionsAccepted ?? 0),
      ...(load === undefined ? {} : { window: load }),
    };
  });
}

/** Snapshots the driver's CPU and the server's counters at the window's start and end. */
async function meterLoads(window: FleetWindow, currentServer: () => ServerProcess | undefined): Promise<WindowLoads> {
  await sleep(Math.max(0, window.startMs - clockNowMs()));
  const cpuStart = process.cpuUsage();
  const startedAt = performance.now();
  const before = await currentServer()
    ?.stats()
    .catch(() => undefined);
  await sleep(Math.max(0, window.endMs - clockNowMs()));
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (performance.now() - startedAt) / 1000;
  const after = await currentServer()
    ?.stats()
    .catch(() => undefined);
  const driverCpuCores = (cpu.user + cpu.system) / 1e6 / seconds;
  // a server restarted in the window has no load over it
  if (before === undefined || after === undefined || before.pid !== after.pid) return { driverCpuCores };
  const server = loadBetween(before, after, seconds);
  if (after.workers === undefined || before.workers === undefined) return { driverCpuCores, server };
  const serverWorkers = new Map<number, WindowLoad>();
  for (const end of after.workers) {
    const start = before.workers.find((one) => one.pid === end.pid);
    if (start !== undefined) serverWorkers.set(end.pid, loadBetween(start, end, seconds));
  }
  const busiest = Math.max(0, ...[...serverWorkers.values()].map((load) => load.eventLoopUtilization));
  return { driverCpuCores, server: { cpuCores: server.cpuCores, eventLoopUtilization: busiest }, serverWorkers };
}

/** One server process's life in a run: its counters when the run (or its restart) began, and at its end. */
interface ServerLife {
  before: ServerStats;
  end: ServerStats;
  /** The restarted server's first counters, when this life ended in a restart. */
  next?: ServerStats;
}

function cpuMicros(stats: ServerStats): number {
  return stats.cpuUserMicros + stats.cpuSystemMicros;
}

function sumCounters(all: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const counters of all) for (const [name, value] of Object.entries(counters)) sum[name] = (sum[name] ?? 0) + value;
  return sum;
}

/** The server's counters over the run (differences for the ones that only grow). */
function serverCounters(after: ServerStats, before: ServerStats | undefined): Record<string, number> {
  const counters: Record<string, number> = {
    connectionsAccepted: after.connectionsAccepted - (before?.connectionsAccepted ?? 0),
    requests: after.requests - (before?.requests ?? 0),
    messagesIn: after.messagesIn - (before?.messagesIn ?? 0),
    messagesOut: after.messagesOut - (before?.messagesOut ?? 0),
    eventsCreated: after.eventsCreated - (before?.eventsCreated ?? 0),
    evictedDelivered: after.evictedDelivered - (before?.evictedDelivered ?? 0),
    bytesRead: after.bytesRead - (before?.bytesRead ?? 0),
    bytesWritten: after.bytesWritten - (before?.bytesWritten ?? 0),
  };
  for (const [cause, count] of Object.entries(after.errors)) {
    const delta = count - (before?.errors[cause as keyof typeof after.errors] ?? 0);
    if (delta > 0) counters[`errors.${cause}`] = delta;
  }
  return counters;
}

interface BroadcastsSent {
  events: number;
  /** Messages the server sent or queued: for each event, the clients it reached. */
  queued: number;
}

/** Sends config.broadcastEvents events, evenly spread over the window; resolves with how many went out, and to how many clients in all. */
async function broadcastDuring(server: ServerProcess, config: RunConfig, window: FleetWindow): Promise<BroadcastsSent> {
  const spacingMs = (window.endMs - window.startMs) / config.broadcastEvents;
  const sent: BroadcastsSent = { events: 0, queued: 0 };
  for (let i = 0; i < config.broadcastEvents; i++) {
    await sleep(Math.max(0, window.startMs + spacingMs * (i + 0.5) - clockNowMs()));
    sent.queued += await server.broadcast(config.payloadBytes);
    sent.events += 1;
  }
  return sent;
}

/** What was actually sent: the clients' echoes, the server's push events, the broadcasts' reach; undefined where nobody counted. */
function sentCount(config: RunConfig, fleets: Delivery, serverCounters: Record<string, number> | undefined, broadcastsQueued: number): number | undefined {
  switch (config.scenario) {
    case 'echo':
      return fleets.sent;
    case 'push':
      return serverCounters?.eventsCreated;
    case 'broadcast':
      return serverCounters === undefined ? undefined : broadcastsQueued;
    case 'idle':
      return 0;
  }
}

interface MergedFleets {
  delivery: Delivery;
  wire: ReturnType<typeof emptyWireBytes>;
  socketBytes: { up: number; down: number };
  connectionsOpened: number;
  polls: { total: number; empty: number };
  errors: Record<string, number>;
  messagesInWindow: number;
  broadcastLastClientMs: Map<number, number>;
}

/** Sums the fleets' counters; for broadcast, the latest arrival of each event across fleets. */
function mergeFleets(results: FleetResult[]): MergedFleets {
  const merged: MergedFleets = {
    delivery: { expected: 0, sent: 0, received: 0, lost: 0, missing: 0, duplicated: 0, reordered: 0, clientsWithLoss: 0 },
    wire: emptyWireBytes(),
    socketBytes: { up: 0, down: 0 },
    connectionsOpened: 0,
    polls: { total: 0, empty: 0 },
    errors: {},
    messagesInWindow: 0,
    broadcastLastClientMs: new Map(),
  };
  for (const result of results) {
    addDelivery(merged.delivery, result.delivery);
    addWireBytes(merged.wire, result.wire);
    merged.socketBytes.up += result.socketBytes.up;
    merged.socketBytes.down += result.socketBytes.down;
    merged.connectionsOpened += result.connectionsOpened;
    merged.polls.total += result.polls.total;
    merged.polls.empty += result.polls.empty;
    merged.messagesInWindow += result.messagesInWindow;
    for (const [message, count] of Object.entries(result.errors)) merged.errors[message] = (merged.errors[message] ?? 0) + count;
    for (const [seq, latencyMs] of Object.entries(result.broadcastLastClientMs)) {
      merged.broadcastLastClientMs.set(Number(seq), Math.max(merged.broadcastLastClientMs.get(Number(seq)) ?? 0, latencyMs));
    }
  }
  return merged;
}
