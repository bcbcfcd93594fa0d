/**
 * What the driver benchmark measured: on one server per transport, the bench's own clients
 * beside loads that do nothing but load, each held for the same window, in rounds.
 */
import type { TransportName } from '../../servers/contract.ts';

/** bench: the bench's clients as every run uses them; untapped: the same with no byte accounting; reference: a bare load. */
export type DriverLoadKind = 'bench' | 'untapped' | 'reference';

export interface DriverLoadRound {
  /** Requests (HTTP) or messages (WebSocket, TCP) the server took per second of window, by its own counter. */
  ratePerSecond: number;
  /** The load's process CPU over the window, in cores (wrk: its own process). */
  driverCpuCores: number;
  /** The driver thread's event-loop utilization (absent for a load outside this process, wrk). */
  driverEventLoopUtilization?: number;
  serverCpuCores: number;
  serverEventLoopUtilization: number;
}

export interface DriverLoadResult {
  /** "wirecost clients", "wirecost clients, untapped", "ws loop", "net loop", "autocannon", "wrk". */
  name: string;
  kind: DriverLoadKind;
  /** One entry per round, in the order they ran. */
  rounds: DriverLoadRound[];
  /** Why the load did not run (wrk not installed, say). */
  skipped?: string;
}

export interface DriverBenchTransport {
  /** The server the loads ran against. */
  transport: TransportName;
  /** What each load does: "empty polls" (GET /messages with nothing pending) or "echo, closed loop". */
  workload: string;
  /** What the rate counts: "requests" or "messages". */
  unit: 'requests' | 'messages';
  clients: number;
  payloadBytes: number;
  loads: DriverLoadResult[];
}

export interface DriverBenchmark {
  warmupSeconds: number;
  windowSeconds: number;
  rounds: number;
  /** The goals the report checks the ratios against (computed figures, not timed tests). */
  goals: { benchOverReference: number; tappingCostAtMost: number };
  transports: DriverBenchTransport[];
}
