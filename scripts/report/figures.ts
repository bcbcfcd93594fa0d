/**
 * The figures the report computes from a run's raw counts, each with the formula the report
 * prints beside it. One place, so that the tables, the claims, the charts and the comparison
 * agree on every figure.
 */
import type { CompletedRun, RunConfig } from '../../bench/result.ts';
import type { ByteKind, ByteSplit, Direction } from '../../bench/wire.ts';

export const BYTE_KINDS: readonly ByteKind[] = ['payload', 'headers', 'framing', 'setup'];
export const DIRECTIONS: readonly Direction[] = ['up', 'down'];

/** Kaazing's "Mbps" and ours: 2^20 bits per second. */
export const BITS_PER_MEGABIT = 2 ** 20;
const BYTES_PER_MEBIBYTE = 2 ** 20;

export const FORMULAS = {
  bytesPerMessage: 'bytes / messages received (whole run, warm-up included)',
  bytesPerClientSecond: 'bytes / clients / (warm-up + window seconds), as the bytes cover the whole run',
  overhead: '(total up + down) / (payload up + down)',
  emptyPolls: 'polls.empty / polls.total',
  serverCpuPerMessage: 'server CPU seconds / messages received × 10^6',
  headersFramingPerMessage: '(headers + framing, up + down) / messages received',
  bytesAfterSetupPerMessage: '(bytes − setup, up + down) / messages received',
  mbps: 'bytes (up + down) × 8 / (warm-up + window seconds) / 2^20',
  leastSquares:
    'least squares over the points (x, y): slope = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², intercept = ȳ − slope × x̄, ' +
    'R² = 1 − Σ(y − intercept − slope × x)² / Σ(y − ȳ)²',
} as const;

/** A straight line fitted to points by least squares (FORMULAS.leastSquares). */
export interface LineFit {
  points: number;
  slope: number;
  intercept: number;
  /** Share of the variance of y the line accounts for; undefined when y does not vary. */
  rSquared: number | undefined;
}

/** The least-squares line through the points; undefined with fewer than two distinct x. */
export function fitLine(points: readonly (readonly [x: number, y: number])[]): LineFit | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  if (sxx === 0) return undefined;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;
  const residual = points.reduce((sum, [x, y]) => sum + (y - intercept - slope * x) ** 2, 0);
  const total = points.reduce((sum, [, y]) => sum + (y - meanY) ** 2, 0);
  return { points: n, slope, intercept, rSquared: total === 0 ? undefined : 1 - residual / total };
}

/** The split's TLS bytes: results written before TLS was counted have no `tls` part (all their connections were plaintext). */
export function tlsBytes(split: ByteSplit): number {
  return split.tls ?? 0;
}

function scale(split: ByteSplit, divisor: number): ByteSplit {
  return {
    total: split.total / divisor,
    payload: split.payload / divisor,
    headers: split.headers / divisor,
    framing: split.framing / divisor,
    setup: split.setup / divisor,
    tls: tlsBytes(split) / divisor,
  };
}

/** How long the bytes were counted for: the whole run, warm-up included. */
export function wholeRunSeconds(config: RunConfig): number {
  return config.warmupSeconds + config.durationSeconds;
}

/** Bytes per message received, split by kind; undefined for a run that received none. */
export function bytesPerMessage(run: CompletedRun, direction: Direction): ByteSplit | undefined {
  const messages = run.messages.received;
  return messages === 0 ? undefined : scale(run.bytes[direction], messages);
}

/** Bytes per client per second of the whole run: the cost of a connection that carries nothing (idle). */
export function bytesPerClientSecond(run: CompletedRun, direction: Direction): ByteSplit {
  return scale(run.bytes[direction], run.config.clients * wholeRunSeconds(run.config));
}

/** Bytes on the wire for each byte of payload; undefined when there was no payload. */
export function overheadMultiple(run: CompletedRun): number | undefined {
  const payload = run.bytes.up.payload + run.bytes.down.payload;
  return payload === 0 ? undefined : (run.bytes.up.total + run.bytes.down.total) / payload;
}

export function emptyPollShare(run: CompletedRun): number | undefined {
  return run.polls.total === 0 ? undefined : run.polls.empty / run.polls.total;
}

/** The suite started no server for a --target run, so it has no server figures. */
function hasServerFigures(run: CompletedRun): boolean {
  return run.config.target === undefined;
}

export function serverCpuMicrosPerMessage(run: CompletedRun): number | undefined {
  if (!hasServerFigures(run) || run.messages.received === 0) return undefined;
  return (run.server.cpuSeconds / run.messages.received) * 1e6;
}

export function serverPeakRssMiB(run: CompletedRun): number | undefined {
  return hasServerFigures(run) ? run.server.peakRssBytes / BYTES_PER_MEBIBYTE : undefined;
}

/** What a transport adds around each message, setup left out (it is paid once per connection). */
export function headersFramingPerMessage(run: CompletedRun, directions: readonly Direction[] = DIRECTIONS): number | undefined {
  if (run.messages.received === 0) return undefined;
  const bytes = directions.reduce((sum, direction) => sum + run.bytes[direction].headers + run.bytes[direction].framing, 0);
  return bytes / run.messages.received;
}

export function totalBytesPerMessage(run: CompletedRun): number | undefined {
  return run.messages.received === 0 ? undefined : (run.bytes.up.total + run.bytes.down.total) / run.messages.received;
}

/**
 * Bytes up + down per message received, setup left out (FORMULAS.bytesAfterSetupPerMessage):
 * what the connections cost once open. A connection's setup (its handshakes, TLS's among them) is
 * paid once; over a run of seconds it would weigh as if connections lived that long.
 */
export function bytesAfterSetupPerMessage(run: CompletedRun): number | undefined {
  const { up, down } = run.bytes;
  return run.messages.received === 0 ? undefined : (up.total - up.setup + down.total - down.setup) / run.messages.received;
}

/** Average bandwidth of the whole run, both ways, in 2^20 bit/s. */
export function bandwidthMbps(run: CompletedRun): number {
  return ((run.bytes.up.total + run.bytes.down.total) * 8) / wholeRunSeconds(run.config) / BITS_PER_MEGABIT;
}

/** Latency figures exist only where messages were timed in the window. */
export function hasLatency(run: CompletedRun): boolean {
  return run.latencyMs.count > 0;
}
