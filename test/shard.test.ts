/**
 * Shards of a run (bench/shard.ts, bench/shard-merge.ts, bench/run-args.ts): every client in
 * exactly one shard, the shards merged exactly, shards that do not add up refused by name, and a
 * run's own command line resolving to that run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseShard, shardAddresses, shardClients, shardShare } from '../bench/shard.ts';
import { MergeError, checkShards, mergeShardResults, mergeShardRuns } from '../bench/shard-merge.ts';
import { runArgs, cannotShard } from '../bench/run-args.ts';
import { parseBenchArgs } from '../bench/cli.ts';
import { DEFAULT_SUITE, RUN_DEFAULTS, SCALE_SUITE, resolveSuite } from '../bench/scenarios.ts';
import { decodeHistogram, encodeHistogram, newHistogram, recordMs } from '../bench/latency.ts';
import * as hdr from 'hdr-histogram-js';
import type { CompletedRun, Results, RunConfig, RunResult } from '../bench/result.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const base = fixture.runs.find((run): run is CompletedRun => run.state === 'completed' && run.scenario === 'push' && run.transport === 'websocket')!;

/** A histogram holding `values` (ms). */
function histogramOf(values: number[]): string {
  const histogram = newHistogram();
  for (const value of values) recordMs(histogram, value);
  return encodeHistogram(histogram);
}

/** Shard `index` of `count` of the fixture's run, with made-up counts that tell the shards apart. */
function shard(index: number, count: number, latenciesMs: number[], extra: Partial<CompletedRun> = {}): CompletedRun {
  const clients = shardClients(base.config.clients, { index, count }).clients;
  return {
    ...base,
    config: { ...base.config, shard: { index, count }, startAtMs: 1_800_000_000_000 },
    clients,
    shard: { index, count, clients, firstClient: shardClients(base.config.clients, { index, count }).first },
    messages: { expected: 100 * (index + 1), received: 90 * (index + 1), lost: 10, missing: 10, duplicated: index, reordered: 1, clientsWithLoss: 1 },
    bytes: {
      up: { total: 1000 + index, payload: 600, headers: 300 + index, framing: 50, setup: 50, tls: 0 },
      down: {
        total: 5000 * (index + 1),
        payload: 4000 * (index + 1),
        headers: 500 * (index + 1),
        framing: 400 * (index + 1),
        setup: 100 * (index + 1),
        tls: 0,
      },
    },
    socketBytes: { up: 1000 + index, down: 5000 * (index + 1) },
    connections: { opened: clients, perClient: 1 },
    polls: { total: 7 * index, empty: 3 * index },
    clientErrors: index === 0 ? { ECONNRESET: 2 } : { ECONNRESET: 1, ETIMEDOUT: 4 },
    throughput: { messagesPerSecond: 0, measuredSeconds: base.config.durationSeconds, messagesInWindow: latenciesMs.length, offeredPerSecond: 10 * clients },
    histogram: histogramOf(latenciesMs),
    driver: {
      ...base.driver,
      cpuSeconds: 1 + index,
      peakRssBytes: 100 << 20,
      eventLoopUtilization: 0.2 * (index + 1),
      window: { cpuCores: 0.1, eventLoopUtilization: 0.2 * (index + 1) },
    },
    warnings: index === 1 ? ['something odd'] : [],
    ...extra,
  };
}

describe('shards of a run', () => {
  it('parses i/N and refuses what is not a shard', () => {
    assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
    assert.deepEqual(parseShard('3/4'), { index: 3, count: 4 });
    for (const text of ['4/4', '1/0', '-1/2', 'a/b', '1', '1/2/3']) assert.equal(parseShard(text), undefined, text);
  });

  it('puts every client in exactly one shard, the shares differing by one at most', () => {
    for (const total of [1, 7, 100, 100_000, 99_999]) {
      for (const count of [1, 2, 3, 6, 7]) {
        let next = 0;
        const sizes: number[] = [];
        for (let index = 0; index < count; index++) {
          const { first, clients } = shardClients(total, { index, count });
          assert.equal(first, next, `${total}/${count}: shard ${index} starts where the one before ended`);
          next = first + clients;
          sizes.push(clients);
        }
        assert.equal(next, total, `${total} clients over ${count} shards`);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${total}/${count}: ${sizes.join(',')}`);
      }
    }
  });

  it('gives each shard its share of an open-loop rate, and its own source addresses', () => {
    const config: RunConfig = { ...RUN_DEFAULTS, scenario: 'echo', transport: 'websocket', clients: 10, targetRatePerSecond: 1000 };
    const shares = [0, 1, 2].map((index) => shardShare({ ...config, shard: { index, count: 3 } }));
    assert.deepEqual(
      shares.map((share) => share.clients),
      [3, 3, 4],
    );
    assert.equal(
      shares.reduce((sum, share) => sum + share.targetRatePerSecond, 0),
      1000,
    );
    assert.deepEqual(shardAddresses([], { index: 2, count: 3 }, '127.0.0.1'), ['127.0.0.3'], 'on loopback, an address of its own');
    assert.deepEqual(shardAddresses([], { index: 2, count: 3 }, '10.0.0.5'), [], 'to another machine, the default route');
    const four = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
    assert.deepEqual(shardAddresses(four, { index: 1, count: 2 }, '127.0.0.1'), ['127.0.0.2', '127.0.0.4']);
    assert.deepEqual(shardAddresses(four.slice(0, 2), { index: 2, count: 3 }, '127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(shardAddresses(four, undefined, '127.0.0.1'), four, 'no shard: all of them');
  });
});

describe('merging shards (bench/shard-merge.ts)', () => {
  it('adds histograms (never percentiles), sums every count, lists each shard, and keeps the config of the whole run', () => {
    const latencies = [
      [1, 2, 3, 4, 5],
      [100, 200, 300],
    ];
    const merged = mergeShardRuns([shard(1, 2, latencies[1]!), shard(0, 2, latencies[0]!)]);
    assert.equal(merged.config.shard, undefined);
    assert.equal(merged.clients, base.config.clients);
    assert.deepEqual(merged.messages, { expected: 300, received: 270, lost: 20, missing: 20, duplicated: 1, reordered: 2, clientsWithLoss: 2 });
    assert.deepEqual(merged.bytes.down, { total: 15000, payload: 12000, headers: 1500, framing: 1200, setup: 300, tls: 0 });
    assert.equal(merged.bytes.up.total, 2001);
    assert.deepEqual(merged.socketBytes, { up: 2001, down: 15000 });
    assert.deepEqual(merged.polls, { total: 7, empty: 3 });
    assert.deepEqual(merged.clientErrors, { ECONNRESET: 3, ETIMEDOUT: 4 });
    assert.equal(merged.connections.opened, base.config.clients);
    const histogram = decodeHistogram(merged.histogram);
    assert.equal(histogram.totalCount, 8, 'the merged count is the sum of the shards');
    assert.equal(merged.latencyMs.count, 8);
    // the median of all eight values (4 or 5 ms), not an average of the shards' medians (3 and 200)
    assert.ok(merged.latencyMs.p50 >= 3.9 && merged.latencyMs.p50 <= 5.1, `p50 ${merged.latencyMs.p50}`);
    assert.ok(merged.latencyMs.max >= 299 && merged.latencyMs.max <= 301);
    assert.equal(merged.throughput.messagesInWindow, 8);
    assert.equal(merged.throughput.offeredPerSecond, 10 * base.config.clients);
    assert.deepEqual(
      merged.driver.shards?.map((load) => [load.index, load.cpuSeconds]),
      [
        [0, 1],
        [1, 2],
      ],
    );
    assert.equal(merged.driver.cpuSeconds, 3);
    assert.equal(merged.driver.eventLoopUtilization, 0.4, "the busiest shard's");
    assert.deepEqual(merged.warnings, ['shard 1/2: something odd']);
  });

  it('refuses shards of different runs, naming the field that differs, and a shard twice, missing or failed', () => {
    const ok = [shard(0, 2, [1]), shard(1, 2, [2])];
    assert.doesNotThrow(() => checkShards(ok));
    const other = shard(1, 2, [2], { config: { ...ok[1]!.config, payloadBytes: 17 } });
    assert.throws(
      () => checkShards([ok[0]!, other]),
      (error: Error) => error instanceof MergeError && /config\.payloadBytes is 1024 .* and 17/.test(error.message),
    );
    const later = shard(1, 2, [2], { config: { ...ok[1]!.config, startAtMs: 1 } });
    assert.throws(() => checkShards([ok[0]!, later]), /config\.startAtMs/);
    const otherId = { ...ok[1]!, id: 'push/websocket/16B/c9/r1' };
    assert.throws(() => checkShards([ok[0]!, otherId]), /different runs: .* and push\/websocket\/16B\/c9\/r1/);
    assert.throws(() => checkShards([ok[0]!, ok[0]!]), /shard 0\/2 of .* is given twice/);
    assert.throws(() => checkShards([ok[0]!]), /shard 1\/2 missing/);
    const threeWay = shard(1, 3, [2]);
    assert.throws(() => checkShards([ok[0]!, threeWay]), /config\.shard\.count is 2 .* and 3/);
    const failed: RunResult = {
      state: 'failed',
      id: ok[1]!.id,
      scenario: 'push',
      transport: 'websocket',
      config: ok[1]!.config,
      error: 'the server went away',
    };
    assert.throws(() => checkShards([ok[0]!, failed]), /shard 1\/2\) failed: the server went away/);
    const whole = { ...ok[0]!, config: { ...ok[0]!.config, shard: undefined } };
    assert.throws(() => checkShards([whole]), /is not a shard/);
  });

  it('refuses histograms of different settings, naming the setting', () => {
    const coarse = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
    coarse.recordValue(5);
    const odd = shard(1, 2, [], { histogram: hdr.encodeIntoCompressedBase64(coarse) });
    assert.throws(() => checkShards([shard(0, 2, [1]), odd]), /histograms differ: numberOfSignificantValueDigits is 3 .* and 2/);
  });

  it('merges results files run by run, and says which files it came from', () => {
    const file = (run: CompletedRun): Results => ({ ...fixture, runs: [run] });
    const merged = mergeShardResults([
      { name: 'a/results.json', results: file(shard(0, 2, [1])) },
      { name: 'b/results.json', results: file(shard(1, 2, [2])) },
    ]);
    assert.equal(merged.runs.length, 1);
    assert.deepEqual(merged.suite.mergedFrom, ['a/results.json', 'b/results.json']);
    assert.throws(() => mergeShardResults([]), /no results/);
  });
});

describe("a run's own command line (bench/run-args.ts)", () => {
  it('resolves to exactly that run, for every run of the default and scale suites that a shard can drive', () => {
    const runs = [...resolveSuite(DEFAULT_SUITE, {}), ...resolveSuite(SCALE_SUITE, {})].filter((config) => cannotShard(config) === undefined);
    assert.ok(runs.length > 20);
    for (const config of runs) {
      const target = config.tls === undefined ? 'ws://127.0.0.1:9/ws' : 'wss://127.0.0.1:9/ws';
      const parsed = parseBenchArgs([...runArgs(config), '--target', target, '--shard', '0/2', '--start-at', '1800000000000']);
      assert.notEqual(parsed, 'help');
      if (parsed === 'help') continue;
      const resolved = resolveSuite(DEFAULT_SUITE, parsed.overrides);
      assert.equal(resolved.length, 1, config.scenario);
      const shardRun = resolved[0]!;
      for (const field of [
        'scenario',
        'transport',
        'clients',
        'payloadBytes',
        'warmupSeconds',
        'durationSeconds',
        'inFlight',
        'targetRatePerSecond',
        'pushRatePerSecond',
        'pollIntervalMs',
        'broadcastEvents',
        'longPollTimeoutMs',
        'perMessageDeflate',
        'cookieBytes',
        'origin',
      ] as const) {
        assert.deepEqual(shardRun[field], config[field], `${field} of ${config.scenario}/${config.transport}/c${config.clients}`);
      }
    }
  });

  it('refuses to split a run whose link, fault or broadcast one process must carry', () => {
    const push: RunConfig = { ...RUN_DEFAULTS, scenario: 'push', transport: 'websocket' };
    assert.equal(cannotShard(push), undefined);
    assert.match(cannotShard({ ...push, rttMs: 20 }) ?? '', /emulated link/);
    assert.match(cannotShard({ ...push, fault: 'client-kill' }) ?? '', /faults/);
    assert.match(cannotShard({ ...push, scenario: 'broadcast' }) ?? '', /broadcast/);
  });
});
