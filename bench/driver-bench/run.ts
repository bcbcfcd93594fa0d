/**
 * The driver benchmark (`npm run bench -- --profile driver`, and briefly in every whole suite):
 * is the bench's driver stronger than what it measures? On one server per transport, pinned as
 * the bench pins its servers, it holds the bench's own clients, the same clients with no byte
 * accounting, and loads that do nothing but load (references.ts) for the same window each, in
 * rounds whose order rotates, and records what the server took per second by its own counter.
 * The report divides: the bench's clients over the better reference, untapped over tapped.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROUTES, clockNowMs, type ServerStats, type TransportName } from '../../servers/contract.ts';
import { Fleet } from '../fleet.ts';
import type { FleetWindow } from '../fleet-recorder.ts';
import type { RunConfig } from '../result.ts';
import { RUN_DEFAULTS } from '../scenarios.ts';
import { ServerProcess } from '../server-process.ts';
import { autocannonLoad, bareTcpLoop, bareWebSocketLoop, wrkInstalled, wrkLoad, type Load } from './references.ts';
import type { DriverBenchTransport, DriverBenchmark, DriverLoadKind, DriverLoadResult, DriverLoadRound } from './result.ts';

export interface DriverBenchOptions {
  warmupSeconds: number;
  windowSeconds: number;
  rounds: number;
  /** Command prefix that pins the server (['taskset', '-c', '1']) and wrk (driverCommand), or []. */
  serverCommand: string[];
  driverCommand: string[];
  /** Hears what the benchmark is doing. */
  onStep?: (text: string) => void;
}

/** Clients (connections) of every load, and the size of an echo message. */
export const DRIVER_BENCH_CLIENTS = 50;
export const DRIVER_BENCH_PAYLOAD_BYTES = 1024;

/** The goals the report checks the figures against: the bench's clients at 0.9x the better reference or more, tapping costing 10% or less. */
export const DRIVER_BENCH_GOALS = { benchOverReference: 0.9, tappingCostAtMost: 0.1 };

/** A load the benchmark can start on a server, for a window. */
interface LoadPlan {
  name: string;
  kind: DriverLoadKind;
  start(server: ServerProcess, window: FleetWindow): Promise<Load & { cpuSeconds?(): number }>;
  /** Why it cannot run here, when it cannot. */
  skipped?: string;
}

/** The bench's own clients: the same Fleet every run uses (recorder, latency, sequence numbers), tapped or not. */
function fleetPlan(transport: TransportName, tap: boolean): LoadPlan {
  return {
    name: tap ? 'wirecost clients' : 'wirecost clients, untapped',
    kind: tap ? 'bench' : 'untapped',
    async start(server, window) {
      const polls = transport === 'short-poll';
      const config: RunConfig = {
        ...RUN_DEFAULTS,
        scenario: polls ? 'idle' : 'echo',
        transport,
        clients: DRIVER_BENCH_CLIENTS,
        payloadBytes: DRIVER_BENCH_PAYLOAD_BYTES,
        pollIntervalMs: 0,
      };
      const fleet = new Fleet({
        config,
        clients: DRIVER_BENCH_CLIENTS,
        captureBytes: 0,
        localAddresses: [],
        client: { host: server.host, port: server.port, pollIntervalMs: 0, perMessageDeflate: false, tap },
      });
      await fleet.connect();
      const running = fleet.run(window);
      return {
        async stop() {
          await running;
          await fleet.finish(0);
        },
      };
    },
  };
}

async function loadPlans(transport: TransportName, driverCommand: string[]): Promise<LoadPlan[]> {
  const bench = [fleetPlan(transport, true), fleetPlan(transport, false)];
  switch (transport) {
    case 'websocket':
      return [
        ...bench,
        {
          name: 'ws loop',
          kind: 'reference',
          start: (server) => bareWebSocketLoop(`ws://${server.host}:${server.port}${ROUTES.websocket}`, DRIVER_BENCH_CLIENTS, DRIVER_BENCH_PAYLOAD_BYTES),
        },
      ];
    case 'tcp':
      return [
        ...bench,
        { name: 'net loop', kind: 'reference', start: (server) => bareTcpLoop(server.host, server.port, DRIVER_BENCH_CLIENTS, DRIVER_BENCH_PAYLOAD_BYTES) },
      ];
    default: {
      const poll = async (server: ServerProcess): Promise<string> =>
        `http://${server.host}:${server.port}${ROUTES.messages}?client=${await registerClient(server)}&after=0`;
      const wrk = await wrkInstalled();
      return [
        ...bench,
        { name: 'autocannon', kind: 'reference', start: async (server) => autocannonLoad(await poll(server), DRIVER_BENCH_CLIENTS) },
        {
          name: 'wrk',
          kind: 'reference',
          start: async (server) => wrkLoad(await poll(server), DRIVER_BENCH_CLIENTS, driverCommand),
          ...(wrk ? {} : { skipped: "wrk is not installed (Debian's package wrk)" }),
        },
      ];
    }
  }
}

/** A client id for the references' empty polls (they all poll as one client: nothing is ever pending for it). */
async function registerClient(server: ServerProcess): Promise<string> {
  const response = await fetch(`http://${server.host}:${server.port}${ROUTES.clients}`, { method: 'POST' });
  if (response.status !== 201) throw new Error(`POST /clients answered ${response.status}`);
  return ((await response.json()) as { clientId: string }).clientId;
}

function cpuMicros(stats: ServerStats): number {
  return stats.cpuUserMicros + stats.cpuSystemMicros;
}

/** One load on one server for one window: its rate by the server's counter, and both sides' load. */
async function measureLoad(server: ServerProcess, plan: LoadPlan, counter: 'requests' | 'messagesIn', options: DriverBenchOptions): Promise<DriverLoadRound> {
  const startMs = clockNowMs() + options.warmupSeconds * 1000;
  const window: FleetWindow = { startMs, endMs: startMs + options.windowSeconds * 1000 };
  const load = await plan.start(server, window);
  try {
    await sleep(Math.max(0, window.startMs - clockNowMs()));
    const before = await server.stats();
    const startedAt = performance.now();
    const cpuBefore = process.cpuUsage();
    const loadCpuBefore = load.cpuSeconds?.();
    const eluBefore = performance.eventLoopUtilization();
    await sleep(Math.max(0, window.endMs - clockNowMs()));
    const elu = performance.eventLoopUtilization(eluBefore).utilization;
    const cpu = process.cpuUsage(cpuBefore);
    const loadCpuAfter = load.cpuSeconds?.();
    const after = await server.stats();
    const seconds = (performance.now() - startedAt) / 1000;
    const activeMs = after.eventLoopActiveMs - before.eventLoopActiveMs;
    const idleMs = after.eventLoopIdleMs - before.eventLoopIdleMs;
    const external = loadCpuBefore !== undefined && loadCpuAfter !== undefined;
    return {
      ratePerSecond: (after[counter] - before[counter]) / seconds,
      driverCpuCores: external ? (loadCpuAfter - loadCpuBefore) / seconds : (cpu.user + cpu.system) / 1e6 / seconds,
      ...(external ? {} : { driverEventLoopUtilization: elu }),
      serverCpuCores: (cpuMicros(after) - cpuMicros(before)) / 1e6 / seconds,
      serverEventLoopUtilization: activeMs + idleMs > 0 ? activeMs / (activeMs + idleMs) : 0,
    };
  } finally {
    await load.stop();
  }
}

async function benchTransport(transport: TransportName, options: DriverBenchOptions): Promise<DriverBenchTransport> {
  const polls = transport === 'short-poll';
  const counter = polls ? 'requests' : 'messagesIn';
  const plans = await loadPlans(transport, options.driverCommand);
  const loads: DriverLoadResult[] = plans.map((plan) => ({
    name: plan.name,
    kind: plan.kind,
    rounds: [],
    ...(plan.skipped === undefined ? {} : { skipped: plan.skipped }),
  }));
  const server = await ServerProcess.start(transport, { pinCommand: options.serverCommand });
  try {
    const runnable = plans.map((plan, index) => ({ plan, result: loads[index]! })).filter(({ plan }) => plan.skipped === undefined);
    for (let round = 0; round < options.rounds; round++) {
      // each round starts one load later, so no load always runs first (or last)
      const order = runnable.map((_, index) => runnable[(index + round) % runnable.length]!);
      for (const { plan, result } of order) {
        options.onStep?.(`driver benchmark: ${transport}, ${plan.name}, round ${round + 1} of ${options.rounds}`);
        result.rounds.push(await measureLoad(server, plan, counter, options));
      }
    }
  } finally {
    await server.stop();
  }
  return {
    transport,
    workload: polls ? 'empty polls (GET /messages, nothing pending)' : `echo, closed loop, one message in flight per client`,
    unit: polls ? 'requests' : 'messages',
    clients: DRIVER_BENCH_CLIENTS,
    payloadBytes: polls ? 0 : DRIVER_BENCH_PAYLOAD_BYTES,
    loads,
  };
}

/** The transports whose clients the benchmark holds against a reference: HTTP (on short-poll's server), WebSocket, TCP. */
export const DRIVER_BENCH_TRANSPORTS: TransportName[] = ['short-poll', 'websocket', 'tcp'];

export async function runDriverBenchmark(options: DriverBenchOptions): Promise<DriverBenchmark> {
  const transports: DriverBenchTransport[] = [];
  for (const transport of DRIVER_BENCH_TRANSPORTS) transports.push(await benchTransport(transport, options));
  return {
    warmupSeconds: options.warmupSeconds,
    windowSeconds: options.windowSeconds,
    rounds: options.rounds,
    goals: DRIVER_BENCH_GOALS,
    transports,
  };
}
