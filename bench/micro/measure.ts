/**
 * Times cases with tinybench, in rounds. In each round every case still being timed runs once,
 * in an order shuffled by a seed (recorded, so that a run can be repeated) and the round's
 * number, so that no case is always the first or the coldest. In a round, a case is set up and
 * checked (its output is what it claims), warmed up (run, untimed, so that its code is compiled
 * and its caches are hot), then timed: one tinybench sample runs the operation `opsPerSample`
 * times in a row, enough for about SAMPLE_NS, so that reading the clock (tens of nanoseconds) is
 * a small part of a sample even for an operation that takes less.
 *
 * The first round only warms up, each case for as long as a round times it: before anything is
 * timed every case has run, V8 has compiled the code they share (ws's Sender and Receiver,
 * Node's HTTP parser) having seen them all, and no case is timed while others are still being
 * compiled. Every case then gets MIN_ROUNDS timed rounds; a case is stable once its margin is
 * under the target, and those that are not get more rounds, up to MAX_ROUNDS, after which they
 * are unstable. A case's ns/op and margin come from the majority of its rounds that agree best
 * (caseFigures): the rounds run at different moments, between other cases, so their spread
 * shows what one long round would hide.
 *
 * Medians, not means: on a machine doing other work, a sample the scheduler interrupts takes
 * many times as long, and a few such samples move a mean, and widen its margin, far more than
 * anything the code does. The median is the time of an operation that ran through; it also
 * leaves out most garbage-collector pauses, which the mean, kept beside it, has.
 */
import { seededRandom } from '../seeded-random.ts';
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import type { MicroCase, PreparedOp } from './micro-case.ts';
import { MARGIN_TARGET_PERCENT, type CompletedMicroCase, type FailedMicroCase, type MicroCaseKey } from './result.ts';

/** A case's figures before they are compared with the others. */
export type MeasuredCase = Omit<CompletedMicroCase, 'relativeToCheapest'> | FailedMicroCase;

export interface MeasureOptions {
  /** The most a case is timed for, in milliseconds, over all its timed rounds (warm-ups not counted). */
  timeMs: number;
  /** Seed of the order the cases run in. */
  seed: number;
  /** The margin under which a case is stable, in percent (default MARGIN_TARGET_PERCENT). */
  marginTargetPercent?: number;
}

const SAMPLE_NS = 50_000;
/** How long to run an operation to guess its cost. */
const CALIBRATION_MS = 5;
/** Every case is timed in this many rounds at least, and at most in MAX_ROUNDS. */
export const MIN_ROUNDS = 3;
export const MAX_ROUNDS = 5;
/** A round times a case for this part of its time... */
const ROUND_FRACTION = 1 / MAX_ROUNDS;
/** ...after a warm-up of this part of a round (the warm-up round warms each case up for a whole round). */
const REWARM_FRACTION_OF_ROUND = 1 / 4;
/** Fewer samples than this give no margin (an infinite one). */
export const MIN_SAMPLES = 10;
/** The two-sided 95% quantile of the normal distribution. */
const Z_95 = 1.959964;

function keyOf(microCase: MicroCase): MicroCaseKey {
  const { id, transport, operation, sizeBytes, variant } = microCase;
  return { id, transport, operation, sizeBytes, variant };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `items` in an order that depends on `seed` only (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as T, order[i] as T];
  }
  return order;
}

/**
 * The median of `sorted` (ascending) and the half-width of its 95% confidence interval, the
 * wider side, in percent of the median: the interval runs between the samples of ranks
 * n/2 ∓ 1.96·√n/2, whatever the samples' distribution. Infinite under MIN_SAMPLES samples.
 */
export function medianWithMargin(sorted: readonly number[]): { median: number; marginPercent: number } {
  const n = sorted.length;
  const at = (index: number): number => sorted[Math.min(n - 1, Math.max(0, index))] ?? NaN;
  const median = n % 2 === 1 ? at((n - 1) / 2) : (at(n / 2 - 1) + at(n / 2)) / 2;
  if (n < MIN_SAMPLES) return { median, marginPercent: Infinity };
  const half = (Z_95 * Math.sqrt(n)) / 2;
  // ranks counted from 1: floor(n/2 - half) and ceil(1 + n/2 + half)
  const lower = at(Math.floor(n / 2 - half) - 1);
  const upper = at(Math.ceil(n / 2 + half));
  return { median, marginPercent: (100 * Math.max(median - lower, upper - median)) / median };
}

async function runOnce(op: PreparedOp): Promise<void> {
  if (op.async) await op.run();
  else op.run();
}

async function guessOpsPerSample(op: PreparedOp): Promise<number> {
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < CALIBRATION_MS) {
    await runOnce(op);
    ops += 1;
  }
  const nsPerOp = ((performance.now() - start) * 1e6) / ops;
  return Math.max(1, Math.round(SAMPLE_NS / nsPerOp));
}

/** Runs the operation, untimed, for `ms` milliseconds. */
async function warmUp(op: PreparedOp, ms: number): Promise<void> {
  const end = performance.now() + ms;
  do await runOnce(op);
  while (performance.now() < end);
}

function sampleFn(op: PreparedOp, opsPerSample: number): () => void | Promise<void> {
  if (op.async) {
    const run = op.run as () => Promise<void>;
    return async () => {
      for (let i = 0; i < opsPerSample; i++) await run();
    };
  }
  const run = op.run;
  return () => {
    for (let i = 0; i < opsPerSample; i++) run();
  };
}

/**
 * One round of samples, in milliseconds per sample, at least MIN_SAMPLES of them however long
 * they take; a string when tinybench could not take them.
 */
async function round(id: string, op: PreparedOp, sample: () => void | Promise<void>, ms: number): Promise<number[] | string> {
  const bench = new Bench({ time: ms, iterations: MIN_SAMPLES, warmup: false, retainSamples: true });
  bench.add(id, sample, { async: op.async });
  await bench.run();
  const result = bench.tasks[0]?.result;
  if (result === undefined) return 'tinybench ran no task';
  if (result.state === 'errored') return errorText(result.error);
  if (result.state !== 'completed') return `tinybench ended the task in state ${result.state}`;
  return [...(result.latency.samples ?? [])];
}

/** What one case has gathered so far, over its rounds. */
interface CaseRecord {
  microCase: MicroCase;
  /** Fixed by the first round's calibration. */
  opsPerSample?: number;
  /** Every timed sample, as nanoseconds per operation. */
  samples: number[];
  /** Each round's median, as nanoseconds per operation. */
  roundNsPerOp: number[];
  timedMs: number;
  error?: string;
}

/** The median of `values`, however they are ordered. */
function median(values: readonly number[]): number {
  return medianWithMargin([...values].sort((a, b) => a - b)).median;
}

/**
 * A case's figures from its rounds: of the majorities of its rounds, MIN_ROUNDS at least (3 of
 * 3, 3 of 4, 3 of 5), the one whose medians lie closest together, relative to their median; ns/op is that median,
 * and the margin the wider of half their spread and the 95% margin of the median of all
 * samples together. A round slowed down by the machine's other work is outvoted; a case whose
 * rounds keep disagreeing keeps a wide margin.
 */
export function caseFigures(roundNsPerOp: readonly number[], sortedSamples: readonly number[]): { nsPerOp: number; marginPercent: number } {
  const sorted = [...roundNsPerOp].sort((a, b) => a - b);
  const size = Math.max(Math.floor(sorted.length / 2) + 1, Math.min(sorted.length, MIN_ROUNDS));
  let best = { nsPerOp: median(sorted), spreadPercent: Infinity };
  for (let first = 0; first + size <= sorted.length; first++) {
    const agreeing = sorted.slice(first, first + size);
    const nsPerOp = median(agreeing);
    const spreadPercent = (100 * ((agreeing.at(-1) ?? NaN) - (agreeing[0] ?? NaN))) / 2 / nsPerOp;
    if (spreadPercent < best.spreadPercent) best = { nsPerOp, spreadPercent };
  }
  return { nsPerOp: best.nsPerOp, marginPercent: Math.max(best.spreadPercent, medianWithMargin(sortedSamples).marginPercent) };
}

/**
 * One round of a case: set up, checked, warmed up (untimed), then timed, unless this is the
 * warm-up round, in which it is only warmed up, for longer; what it gathered is added to `record`.
 */
async function runRound(record: CaseRecord, timeMs: number, warmUpOnly: boolean): Promise<void> {
  const roundMs = timeMs * ROUND_FRACTION;
  let op: PreparedOp | undefined;
  try {
    op = await record.microCase.prepare();
    await op.check();
    await warmUp(op, warmUpOnly ? roundMs : roundMs * REWARM_FRACTION_OF_ROUND);
    record.opsPerSample ??= await guessOpsPerSample(op);
    const { opsPerSample } = record;
    if (warmUpOnly) return;
    const start = performance.now();
    const taken = await round(record.microCase.id, op, sampleFn(op, opsPerSample), roundMs);
    record.timedMs += performance.now() - start;
    if (typeof taken === 'string') {
      record.error = taken;
      return;
    }
    const nsPerOp = taken.map((ms) => (ms * 1e6) / opsPerSample).sort((a, b) => a - b);
    record.roundNsPerOp.push(medianWithMargin(nsPerOp).median);
    for (const value of nsPerOp) record.samples.push(value); // one by one: a spread of 100,000 arguments overflows the stack
  } catch (error) {
    record.error = errorText(error);
  } finally {
    op?.close();
  }
}

function isStable(record: CaseRecord, targetPercent: number): boolean {
  if (record.roundNsPerOp.length < MIN_ROUNDS) return false;
  record.samples.sort((a, b) => a - b);
  return caseFigures(record.roundNsPerOp, record.samples).marginPercent < targetPercent;
}

function result(record: CaseRecord, targetPercent: number): MeasuredCase {
  const key = keyOf(record.microCase);
  if (record.error !== undefined) return { ...key, state: 'failed', error: record.error };
  record.samples.sort((a, b) => a - b);
  const { nsPerOp, marginPercent } = caseFigures(record.roundNsPerOp, record.samples);
  return {
    ...key,
    state: 'completed',
    opsPerSecond: 1e9 / nsPerOp,
    nsPerOp,
    meanNsPerOp: record.samples.reduce((sum, value) => sum + value, 0) / record.samples.length,
    marginPercent,
    unstable: !(marginPercent < targetPercent),
    samples: record.samples.length,
    opsPerSample: record.opsPerSample ?? 1,
    roundNsPerOp: record.roundNsPerOp,
    timedMs: record.timedMs,
  };
}

/**
 * Times the cases in rounds: every case once per round, in an order the seed and the round
 * give; first a warm-up round, then MIN_ROUNDS timed rounds for all, then more, up to
 * MAX_ROUNDS, for those whose margin is not yet under the target. `onCase` hears of each case
 * as it is done with.
 */
export async function measureCases(cases: MicroCase[], options: MeasureOptions, onCase: (measured: MeasuredCase) => void = () => {}): Promise<MeasuredCase[]> {
  const targetPercent = options.marginTargetPercent ?? MARGIN_TARGET_PERCENT;
  const records = cases.map((microCase): CaseRecord => ({ microCase, samples: [], roundNsPerOp: [], timedMs: 0 }));
  const done = new Map<CaseRecord, MeasuredCase>();
  const finish = (record: CaseRecord): void => {
    const measured = result(record, targetPercent);
    done.set(record, measured);
    onCase(measured);
  };
  for (let roundIndex = 0; roundIndex <= MAX_ROUNDS; roundIndex++) {
    for (const record of shuffled(
      records.filter((entry) => !done.has(entry)),
      (options.seed + roundIndex) >>> 0,
    )) {
      await runRound(record, options.timeMs, roundIndex === 0);
      if (record.error !== undefined || (roundIndex >= MIN_ROUNDS && isStable(record, targetPercent))) finish(record);
    }
  }
  for (const record of records) if (!done.has(record)) finish(record);
  return records.map((record) => done.get(record) ?? result(record, targetPercent));
}
