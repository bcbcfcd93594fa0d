/**
 * Runs every micro-benchmark case and puts the results together. Most cases run in this
 * process; the WebSocket cases that mask or unmask run once per masking implementation ws can
 * use here (bufferutil, its JavaScript loop), each in a child process whose environment makes
 * ws pick it, since ws picks once, when it is loaded. A child that fails leaves its cases
 * recorded as failed, with the reason. Each process runs its cases in the order one seed
 * gives (measure.ts), recorded with the results.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SIZES, microCases } from './cases.ts';
import { measureCases, type MeasuredCase } from './measure.ts';
import { MARGIN_TARGET_PERCENT, MICRO_SCHEMA_VERSION, MICRO_TRANSPORTS, relativeToCheapest, type MicroCaseResult, type MicroResults } from './result.ts';
import { wsMasker, type Masker } from './ws-internals.ts';
import { measureWsMasking } from './ws-masking.ts';

/** The most each case is timed for, in milliseconds, over all its rounds (measure.ts). */
export const DEFAULT_TIME_MS = 1000;

const MASKER_PROCESS = fileURLToPath(new URL('./masker-process.ts', import.meta.url));
/** tsx's loader by its path, so that the child finds it whatever its working directory. */
const TSX_LOADER = import.meta.resolve('tsx');
/** Time a child may take beyond its cases' budgets: start-up, set-up and checks. */
const CHILD_SLACK_MS = 60_000;

export interface MicroOptions {
  /** The most each case is timed for, in milliseconds, over all its rounds (measure.ts). */
  timeMs?: number;
  sizes?: number[];
  /** Seed of the order the cases run in (default: a random one, recorded in the results). */
  seed?: number;
  /** Hears of each case as it ends. */
  onCase?: (measured: MeasuredCase) => void;
}

/** The masking implementations ws can use here, each with an environment that selects it. */
function maskerEnvironments(): { masker: Masker; env: NodeJS.ProcessEnv }[] {
  const { WS_NO_BUFFER_UTIL: _ignored, ...withNative } = process.env;
  const environments = [withNative, { ...process.env, WS_NO_BUFFER_UTIL: '1' }].map((env) => ({ masker: wsMasker(env), env }));
  return environments.filter((entry, index) => environments.findIndex((other) => other.masker === entry.masker) === index);
}

async function measureInChild(
  masker: Masker,
  env: NodeJS.ProcessEnv,
  timeMs: number,
  sizes: number[],
  seed: number,
  onCase: (measured: MeasuredCase) => void,
): Promise<MeasuredCase[]> {
  const expected = microCases(sizes, masker).filter((microCase) => microCase.masking);
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MASKER_PROCESS, masker, String(timeMs), sizes.join(','), String(seed)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const measured = new Map<string, MeasuredCase>();
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let result: MeasuredCase;
    try {
      result = JSON.parse(line) as MeasuredCase;
    } catch {
      stderr = `${stderr}${line}\n`.slice(-2000); // not a case: something else wrote to stdout
      return;
    }
    measured.set(result.id, result);
    onCase(result);
  });
  const budgetMs = expected.length * timeMs * 2 + CHILD_SLACK_MS;
  const timer = setTimeout(() => child.kill('SIGKILL'), budgetMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('close', (...exit) => resolve(exit));
    child.once('error', (error) => {
      stderr = error.message;
      resolve([null, null]);
    });
  });
  clearTimeout(timer);
  const why =
    signal === 'SIGKILL' ? `its process took over ${budgetMs} ms and was killed` : `its process ended (${signal ?? `exit code ${code}`}) before measuring it`;
  return expected.map((microCase) => {
    const found = measured.get(microCase.id);
    if (found !== undefined) return found;
    const { id, transport, operation, sizeBytes, variant } = microCase;
    const failed: MeasuredCase = { id, transport, operation, sizeBytes, variant, state: 'failed', error: `${why}${stderr === '' ? '' : `: ${stderr.trim()}`}` };
    onCase(failed);
    return failed;
  });
}

/** Table order: by transport, operation and variant, the sizes of one case next to each other. */
function tableOrder(a: MicroCaseResult, b: MicroCaseResult): number {
  return (
    MICRO_TRANSPORTS.indexOf(a.transport) - MICRO_TRANSPORTS.indexOf(b.transport) ||
    a.operation.localeCompare(b.operation) ||
    a.variant.localeCompare(b.variant) ||
    a.sizeBytes - b.sizeBytes
  );
}

export async function runMicroBenchmarks(options: MicroOptions = {}): Promise<MicroResults> {
  const timeMs = options.timeMs ?? DEFAULT_TIME_MS;
  const sizes = options.sizes ?? DEFAULT_SIZES;
  const seed = options.seed ?? randomInt(2 ** 31);
  const onCase = options.onCase ?? (() => {});
  const here = microCases(sizes, wsMasker()).filter((microCase) => !microCase.masking);
  const measured: MicroCaseResult[] = await measureCases(here, { timeMs, seed }, onCase);
  for (const { masker, env } of maskerEnvironments()) measured.push(...(await measureInChild(masker, env, timeMs, sizes, seed, onCase)));
  return {
    schemaVersion: MICRO_SCHEMA_VERSION,
    timeMsPerCase: timeMs,
    marginTargetPercent: MARGIN_TARGET_PERCENT,
    orderSeed: seed,
    sizes,
    cases: relativeToCheapest(measured).sort(tableOrder),
    wsMasking: measureWsMasking(),
  };
}
