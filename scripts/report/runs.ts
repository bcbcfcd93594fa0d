/** Picking and ordering the runs of a results file. */
import type { CompletedRun, Results, RunConfig, RunResult, ScenarioName } from '../../bench/result.ts';
import { TRANSPORTS, type TransportName } from '../../servers/contract.ts';

/** The transports that answer with HTTP polls: what the textbook sets WebSocket against. */
export const POLLING_TRANSPORTS: readonly TransportName[] = ['short-poll', 'long-poll'];

function isCompleted(run: RunResult): run is CompletedRun {
  return run.state === 'completed';
}

/** Over what a run's clients spoke: TLS (and its version) and the HTTP version; absent in both, plaintext HTTP/1.1. */
export type ProtocolChoice = Pick<RunConfig, 'tls' | 'http'>;

/**
 * What a run asked the clients to do, without what only one transport reads (poll interval,
 * long-poll timeout, deflate) or how the driver ran: runs with the same key did the same work on
 * different transports, so their figures can be set side by side. `protocol` leaves TLS and
 * the HTTP version out, to set the same work over different protocols side by side.
 */
export function workloadKey(config: RunConfig, protocol: 'with-protocol' | 'without-protocol' = 'with-protocol'): string {
  const parts: (string | number)[] = [config.scenario, config.clients, config.payloadBytes];
  if (config.scenario === 'echo') parts.push(config.inFlight, config.targetRatePerSecond);
  if (config.scenario === 'push') parts.push(config.pushRatePerSecond);
  if (config.scenario === 'broadcast') parts.push(config.broadcastEvents);
  // the emulated link is part of the work (results from before it existed have none)
  parts.push(config.rttMs ?? 0, config.bandwidthBitsPerSecond ?? 0, config.fault ?? '', config.lossPercent ?? 0);
  // TLS and HTTP/2 are part of the work too (results from before them have neither: plaintext HTTP/1.1)
  if (protocol === 'with-protocol') parts.push(config.tls ?? '', config.http ?? '');
  return parts.join('|');
}

/**
 * Runs of the same workload together (fewer clients and smaller messages first), and within a
 * workload in the order of TRANSPORTS: from short polling to raw TCP.
 */
export function sortRuns<T extends RunResult>(runs: readonly T[]): T[] {
  const transportRank = (run: T): number => TRANSPORTS.indexOf(run.transport);
  return [...runs].sort(
    (a, b) =>
      a.config.clients - b.config.clients ||
      a.config.payloadBytes - b.config.payloadBytes ||
      compareText(workloadKey(a.config), workloadKey(b.config)) ||
      transportRank(a) - transportRank(b) ||
      compareText(a.id, b.id),
  );
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function runsOf(results: Results, scenario: ScenarioName): RunResult[] {
  return sortRuns(results.runs.filter((run) => run.scenario === scenario));
}

export function completedRuns(results: Results, filter: { scenario?: ScenarioName; transports?: readonly TransportName[] } = {}): CompletedRun[] {
  return sortRuns(
    results.runs
      .filter(isCompleted)
      .filter((run) => filter.scenario === undefined || run.scenario === filter.scenario)
      .filter((run) => filter.transports === undefined || filter.transports.includes(run.transport)),
  );
}

/**
 * The completed run of `transport` that did the same work as `run`, if any: over the same TLS and
 * HTTP version, or over `protocol` when given (an HTTP/2 poll beside a WebSocket run, say).
 */
export function sameWorkload(results: Results, run: RunResult, transport: TransportName, protocol?: ProtocolChoice): CompletedRun | undefined {
  const config: RunConfig = protocol === undefined ? run.config : { ...run.config, tls: protocol.tls, http: protocol.http };
  const key = workloadKey(config);
  return completedRuns(results, { scenario: run.scenario, transports: [transport] }).find((other) => workloadKey(other.config) === key);
}
