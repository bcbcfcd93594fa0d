/**
 * The command line of one run: `npm run bench -- <these>` resolves to exactly this run's
 * config. The bench's own driver processes (bench/shard-process.ts) run each shard as this
 * command, the same command a Kubernetes pod runs (deploy/kubernetes/), so a shard is driven
 * the same way on one machine and on many.
 */
import type { RunConfig } from './result.ts';

/** Why a run cannot be split over driver processes, or undefined when it can. */
export function cannotShard(config: RunConfig): string | undefined {
  if (config.rttMs > 0 || config.bandwidthBitsPerSecond > 0 || config.emulateLink === true || config.lossPercent !== undefined) {
    return 'an emulated link carries one driver process: run it with --driver-processes 1';
  }
  if (config.fault !== undefined) return 'faults are injected by one driver process: run it with --driver-processes 1';
  if (config.scenario === 'broadcast')
    return 'broadcast events come from the server the bench started, and each shard counts them on its own: run it with --driver-processes 1';
  return undefined;
}

/** The options that make `npm run bench` run this one run (without --target and --shard, which the caller adds). */
export function runArgs(config: RunConfig): string[] {
  const args = [
    '--transports',
    config.transport,
    '--scenarios',
    config.scenario,
    '--clients',
    String(config.clients),
    '--payload',
    String(config.payloadBytes),
    '--warmup',
    String(config.warmupSeconds),
    '--duration',
    String(config.durationSeconds),
    '--in-flight',
    String(config.inFlight),
    '--rate',
    String(config.targetRatePerSecond),
    '--push-rate',
    String(config.pushRatePerSecond),
    '--poll-interval',
    String(config.pollIntervalMs),
    '--broadcast-events',
    String(config.broadcastEvents),
    '--long-poll-timeout',
    String(config.longPollTimeoutMs),
    '--workers',
    String(config.workers),
  ];
  if (config.perMessageDeflate) args.push('--per-message-deflate');
  if (config.cookieBytes !== undefined) args.push('--cookie-bytes', String(config.cookieBytes));
  if (config.origin !== undefined) args.push('--origin', config.origin ?? 'none');
  if (config.tls !== undefined) args.push(`--tls=${config.tls}`);
  if (config.http !== undefined) args.push('--http', config.http);
  return args;
}
