/**
 * Merges the shards of one run (--shard i/N, run on one machine or many) into the run they are
 * parts of, exactly: latency histograms added (never percentiles averaged); bytes, messages,
 * connections, polls, losses and errors summed; each shard's driver load listed. Pure: results
 * in, result out. The bench uses it for its own driver processes (--driver-processes), and
 * `npm run report -- --merge` for results.json files from many machines.
 *
 * It refuses what would not add up: shards of different runs (any field of the run's config that
 * differs, named), a shard twice or missing, a failed shard, histograms of different settings.
 */
import { decodeHistogram, encodeHistogram, mergeHistograms, summarize, type LatencyHistogram } from './latency.ts';
import { addDelivery } from './delivery.ts';
import { addWireBytes, emptyWireBytes } from './wire.ts';
import { SATURATED, decideBound } from './bound.ts';
import type { CompletedRun, Delivery, Results, RunConfig, RunResult, ShardLoad } from './result.ts';

export class MergeError extends Error {}

/** Config fields that differ between the shards of one run by design. */
const PER_SHARD_FIELDS: readonly (keyof RunConfig)[] = ['shard'];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The histogram settings that must agree for two histograms to add up. */
function histogramSettings(histogram: LatencyHistogram): Record<string, number> {
  const fields = histogram as unknown as { lowestDiscernibleValue: number; highestTrackableValue: number; numberOfSignificantValueDigits: number };
  return {
    lowestDiscernibleValue: fields.lowestDiscernibleValue,
    highestTrackableValue: fields.highestTrackableValue,
    numberOfSignificantValueDigits: fields.numberOfSignificantValueDigits,
  };
}

function describeShard(run: RunResult): string {
  return run.config.shard === undefined ? run.id : `${run.id} (shard ${run.config.shard.index}/${run.config.shard.count})`;
}

/** Checks that `runs` are every shard of one run, once each, and all completed; throws a MergeError naming what differs. */
export function checkShards(runs: RunResult[]): CompletedRun[] {
  if (runs.length === 0) throw new MergeError('no shards to merge');
  const first = runs[0]!;
  for (const run of runs) {
    if (run.config.shard === undefined) throw new MergeError(`${run.id} is not a shard (it has no shard field): only the shards of a run merge`);
    if (run.id !== first.id) throw new MergeError(`the shards are of different runs: ${first.id} and ${run.id}`);
    for (const field of Object.keys({ ...first.config, ...run.config }) as (keyof RunConfig)[]) {
      if (PER_SHARD_FIELDS.includes(field)) continue;
      if (!same(first.config[field], run.config[field])) {
        throw new MergeError(
          `the shards are of different runs: config.${field} is ${JSON.stringify(first.config[field])} in ${describeShard(first)} and ${JSON.stringify(run.config[field])} in ${describeShard(run)}`,
        );
      }
    }
  }
  const count = first.config.shard!.count;
  for (const run of runs) {
    if (run.config.shard!.count !== count) {
      throw new MergeError(
        `the shards split the run differently: config.shard.count is ${count} in ${describeShard(first)} and ${run.config.shard!.count} in ${describeShard(run)}`,
      );
    }
  }
  const seen = new Map<number, RunResult>();
  for (const run of runs) {
    const index = run.config.shard!.index;
    if (seen.has(index)) throw new MergeError(`shard ${index}/${count} of ${run.id} is given twice`);
    seen.set(index, run);
  }
  const missing = Array.from({ length: count }, (_, index) => index).filter((index) => !seen.has(index));
  if (missing.length > 0)
    throw new MergeError(`${first.id}: shard${missing.length > 1 ? 's' : ''} ${missing.map((index) => `${index}/${count}`).join(', ')} missing`);
  const failed = runs.find((run) => run.state === 'failed');
  if (failed !== undefined && failed.state === 'failed') throw new MergeError(`${describeShard(failed)} failed: ${failed.error}`);
  const completed = [...seen.values()].sort((a, b) => a.config.shard!.index - b.config.shard!.index) as CompletedRun[];
  const settings = histogramSettings(decodeHistogram(completed[0]!.histogram));
  for (const run of completed) {
    const own = histogramSettings(decodeHistogram(run.histogram));
    for (const [field, value] of Object.entries(own)) {
      if (settings[field] !== value) {
        throw new MergeError(
          `the shards' histograms differ: ${field} is ${settings[field]} in ${describeShard(completed[0]!)} and ${value} in ${describeShard(run)}`,
        );
      }
    }
  }
  return completed;
}

function sumCounters(into: Record<string, number>, from: Record<string, number>): void {
  for (const [name, value] of Object.entries(from)) into[name] = (into[name] ?? 0) + value;
}

/** The load of one shard's driver, from its result. */
export function shardLoad(run: CompletedRun): ShardLoad {
  return {
    index: run.config.shard?.index ?? 0,
    clients: run.shard?.clients ?? run.clients,
    cpuSeconds: run.driver.cpuSeconds,
    peakRssBytes: run.driver.peakRssBytes,
    eventLoopUtilization: run.driver.eventLoopUtilization,
    ...(run.driver.window === undefined ? {} : { window: run.driver.window }),
    ...(run.driver.shards?.[0]?.host === undefined ? {} : { host: run.driver.shards[0].host }),
  };
}

/** The run the shards are parts of. */
export function mergeShardRuns(runs: RunResult[]): CompletedRun {
  const shards = checkShards(runs);
  const first = shards[0]!;
  const { shard: _shard, ...config } = first.config;
  const delivery: Delivery = { expected: 0, sent: 0, received: 0, lost: 0, missing: 0, duplicated: 0, reordered: 0, clientsWithLoss: 0 };
  const bytes = emptyWireBytes();
  const socketBytes = { up: 0, down: 0 };
  const polls = { total: 0, empty: 0 };
  const clientErrors: Record<string, number> = {};
  const counters: Record<string, number> = {};
  let connectionsOpened = 0;
  let messagesInWindow = 0;
  for (const run of shards) {
    addDelivery(delivery, run.messages);
    addWireBytes(bytes, run.bytes);
    socketBytes.up += run.socketBytes.up;
    socketBytes.down += run.socketBytes.down;
    polls.total += run.polls.total;
    polls.empty += run.polls.empty;
    sumCounters(clientErrors, run.clientErrors);
    sumCounters(counters, run.server.counters);
    connectionsOpened += run.connections.opened;
    messagesInWindow += run.throughput.messagesInWindow;
  }
  const histogram = mergeHistograms(shards.map((run) => run.histogram));
  const loads = shards.map(shardLoad);
  const driverUtilization = Math.max(...loads.map((load) => load.eventLoopUtilization));
  const offeredPerSecond = shards.every((run) => run.throughput.offeredPerSecond !== undefined)
    ? shards.reduce((sum, run) => sum + run.throughput.offeredPerSecond!, 0)
    : undefined;
  const bound = decideBound({ driverEventLoopUtilization: driverUtilization, link: { bandwidthBitsPerSecond: 0, utilization: 0 }, clientErrors });
  const warnings = shards.flatMap((run) => run.warnings.map((warning) => `shard ${run.config.shard!.index}/${run.config.shard!.count}: ${warning}`));
  return {
    state: 'completed',
    id: first.id,
    scenario: first.scenario,
    transport: first.transport,
    target: first.target,
    clients: config.clients,
    payloadBytes: first.payloadBytes,
    durationSeconds: first.durationSeconds,
    config,
    messages: delivery,
    bytes,
    socketBytes,
    connections: { opened: connectionsOpened, perClient: connectionsOpened / config.clients },
    latencyMs: summarize(histogram),
    throughput: {
      messagesPerSecond: messagesInWindow / first.throughput.measuredSeconds,
      measuredSeconds: first.throughput.measuredSeconds,
      messagesInWindow,
      ...(offeredPerSecond === undefined ? {} : { offeredPerSecond }),
    },
    polls,
    server: {
      cpuSeconds: shards.reduce((sum, run) => sum + run.server.cpuSeconds, 0),
      peakRssBytes: Math.max(...shards.map((run) => run.server.peakRssBytes)),
      counters,
    },
    driver: {
      cpuSeconds: loads.reduce((sum, load) => sum + load.cpuSeconds, 0),
      peakRssBytes: loads.reduce((sum, load) => sum + load.peakRssBytes, 0),
      saturated: driverUtilization >= SATURATED,
      eventLoopUtilization: driverUtilization,
      threads: loads.map((load) => load.eventLoopUtilization),
      ...(loads.every((load) => load.window !== undefined)
        ? { window: { cpuCores: loads.reduce((sum, load) => sum + load.window!.cpuCores, 0), eventLoopUtilization: driverUtilization } }
        : {}),
      shards: loads,
    },
    bound,
    histogram: encodeHistogram(histogram),
    clientErrors,
    network: first.network,
    warnings,
  };
}

/** Merges results.json files of shards: every run they hold, shard by shard, into one Results. */
export function mergeShardResults(files: { name: string; results: Results }[]): Results {
  if (files.length === 0) throw new MergeError('no results to merge');
  const byId = new Map<string, RunResult[]>();
  for (const { name, results } of files) {
    if (results.runs.length === 0) throw new MergeError(`${name} holds no run`);
    for (const run of results.runs) byId.set(run.id, [...(byId.get(run.id) ?? []), run]);
  }
  const first = files[0]!.results;
  const runs = [...byId.values()].map((shards) => mergeShardRuns(shards));
  return {
    ...first,
    suite: { ...first.suite, mergedFrom: files.map((file) => file.name) },
    runs,
    samples: first.samples,
    finishedAt:
      files
        .map((file) => file.results.finishedAt)
        .sort()
        .at(-1) ?? first.finishedAt,
  };
}
