/**
 * Times cases with tinybench. Each case is set up, checked once, then timed: one tinybench
 * sample runs the operation `opsPerSample` times in a row, enough for about SAMPLE_NS, so
 * that reading the clock (tens of nanoseconds) is a small part of a sample even for an
 * operation that takes less.
 */
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import type { MicroCase, PreparedOp } from './micro-case.ts';
import type { CompletedMicroCase, FailedMicroCase, MicroCaseKey } from './result.ts';

/** A case's figures before they are compared with the others. */
export type MeasuredCase = Omit<CompletedMicroCase, 'relativeToCheapest'> | FailedMicroCase;

const SAMPLE_NS = 50_000;
/** How long to run an operation to guess its cost, before tinybench's own warm-up. */
const CALIBRATION_MS = 5;

function keyOf(microCase: MicroCase): MicroCaseKey {
  const { id, transport, operation, sizeBytes, variant } = microCase;
  return { id, transport, operation, sizeBytes, variant };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function guessOpsPerSample(op: PreparedOp): Promise<number> {
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < CALIBRATION_MS) {
    if (op.async) await op.run();
    else op.run();
    ops += 1;
  }
  const nsPerOp = ((performance.now() - start) * 1e6) / ops;
  return Math.max(1, Math.round(SAMPLE_NS / nsPerOp));
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

async function measureCase(microCase: MicroCase, timeMs: number): Promise<MeasuredCase> {
  const key = keyOf(microCase);
  let op: PreparedOp | undefined;
  try {
    op = await microCase.prepare();
    await op.check();
    await guessOpsPerSample(op); // the first guess runs cold code: it warms it up
    const opsPerSample = await guessOpsPerSample(op);
    const bench = new Bench({ time: timeMs, warmupTime: Math.max(1, timeMs / 4) });
    bench.add(microCase.id, sampleFn(op, opsPerSample), { async: op.async });
    await bench.run();
    const result = bench.tasks[0]?.result;
    if (result === undefined) return { ...key, state: 'failed', error: 'tinybench ran no task' };
    if (result.state === 'errored') return { ...key, state: 'failed', error: errorText(result.error) };
    if (result.state !== 'completed') return { ...key, state: 'failed', error: `tinybench ended the task in state ${result.state}` };
    const nsPerOp = (result.latency.mean * 1e6) / opsPerSample;
    return {
      ...key,
      state: 'completed',
      opsPerSecond: 1e9 / nsPerOp,
      nsPerOp,
      samples: result.latency.samplesCount,
      opsPerSample,
      rmePercent: result.latency.rme,
    };
  } catch (error) {
    return { ...key, state: 'failed', error: errorText(error) };
  } finally {
    op?.close();
  }
}

/** Times the cases one after the other; `onCase` hears of each as it ends. */
export async function measureCases(cases: MicroCase[], timeMs: number, onCase: (measured: MeasuredCase) => void = () => {}): Promise<MeasuredCase[]> {
  const measured: MeasuredCase[] = [];
  for (const microCase of cases) {
    const result = await measureCase(microCase, timeMs);
    onCase(result);
    measured.push(result);
  }
  return measured;
}
