/**
 * A run split into shards, as k6 splits a test into execution segments: shard i of N drives the
 * clients [floor(i·C/N), floor((i+1)·C/N)) of the run's C, and the same share of any arrival
 * rate, from its own share of the source addresses. Every shard is still the same run (the
 * same id); its results carry the shard, and bench/shard-merge.ts adds them up exactly.
 */
import type { RunConfig, ShardSpec } from './result.ts';

/** Parses "i/N" (i from 0 to N-1). */
export function parseShard(text: string): ShardSpec | undefined {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (match === null) return undefined;
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) return undefined;
  return { index, count };
}

/** The first client of the shard and how many it drives. */
export function shardClients(total: number, shard: ShardSpec | undefined): { first: number; clients: number } {
  if (shard === undefined) return { first: 0, clients: total };
  const first = Math.floor((shard.index * total) / shard.count);
  const end = Math.floor(((shard.index + 1) * total) / shard.count);
  return { first, clients: end - first };
}

/** The run as this shard drives it: its clients, its share of an open-loop echo rate. */
export function shardShare(config: RunConfig): { first: number; clients: number; targetRatePerSecond: number } {
  const { first, clients } = shardClients(config.clients, config.shard);
  return { first, clients, targetRatePerSecond: config.clients === 0 ? 0 : (config.targetRatePerSecond * clients) / config.clients };
}

/**
 * The source addresses of shard i of N: every N-th of the run's, starting at the i-th; where the
 * run has fewer than N, the (i mod n)-th; where it has none and the server is on this machine's
 * loopback, 127.0.0.(i+1) of its own, so that each shard has a full range of local ports.
 */
export function shardAddresses(addresses: readonly string[], shard: ShardSpec | undefined, targetHost: string): string[] {
  if (shard === undefined || shard.count === 1) return [...addresses];
  if (addresses.length === 0) return targetHost.startsWith('127.') ? [`127.0.0.${shard.index + 1}`] : [];
  const own = addresses.filter((_, k) => k % shard.count === shard.index);
  return own.length > 0 ? own : [addresses[shard.index % addresses.length]!];
}

/** "shard 2/6". */
export function shardLabel(shard: ShardSpec): string {
  return `shard ${shard.index}/${shard.count}`;
}
