/**
 * npm run bench:micro: times one message through each transport's own code (see cases.ts),
 * prints a table, and writes micro.json and micro.md under reports/micro-<time>/ or --out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatInteger, formatNumber, formatSignificant } from '../../scripts/report/format.ts';
import { renderMicroSection } from '../../scripts/report/micro-section.ts';
import { parseSize, sizeLabel } from '../scenarios.ts';
import { DEFAULT_SIZES } from './cases.ts';
import { MAX_ROUNDS, MIN_ROUNDS, type MeasuredCase } from './measure.ts';
import { MARGIN_TARGET_PERCENT, type MicroCaseResult, type MicroResults } from './result.ts';
import { DEFAULT_TIME_MS, runMicroBenchmarks } from './run.ts';
import { UsageError, exitWith, parseCommandLine, runCommand, type Command } from '../../scripts/command-line.ts';

/** The largest message a case may carry: the servers' own limit is far below it. */
const MAX_SIZE_BYTES = 16 * 1024 * 1024;

export interface MicroCliOptions {
  timeMs: number;
  sizes: number[];
  seed?: number;
  out?: string;
}

export function usage(): string {
  return [
    'Usage: npm run bench:micro -- [options]',
    '',
    "Times one message through each transport's own code with tinybench: an HTTP request and response",
    "(Node's parser), an SSE event encoded and parsed, a WebSocket frame encoded and decoded (ws's Sender",
    'and Receiver; masked and unmasked, with bufferutil and without, permessage-deflate on and off), and',
    'the WebSocket handshake accept value. Writes micro.json and micro.md.',
    '',
    `The cases are timed in rounds (${MIN_ROUNDS} to ${MAX_ROUNDS}), each case once per round, in an order shuffled by a seed;`,
    'each round sets a case up, checks it, warms it up (untimed) and times it. A case is stable once',
    `its margin is under ${MARGIN_TARGET_PERCENT}%; one still over it after ${MAX_ROUNDS} rounds is unstable, and left out of the ratios.`,
    '',
    `  --time <ms>          the most each case is timed for, over all its rounds (default ${DEFAULT_TIME_MS})`,
    `  --sizes <list>       message sizes, e.g. 16,1KiB,64KiB (default ${DEFAULT_SIZES.map(sizeLabel).join(',')})`,
    '  --seed <n>           seed of the order the cases run in (default: a random one, recorded)',
    '  --out <dir>          where micro.json and micro.md go (default reports/micro-<time>/)',
    '  --help               this text',
  ].join('\n');
}

export function parseMicroArgs(args: string[]): MicroCliOptions | 'help' {
  const { values } = parseCommandLine({
    args,
    strict: true,
    allowPositionals: false,
    options: { time: { type: 'string' }, sizes: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help === true) return 'help';
  let timeMs = DEFAULT_TIME_MS;
  if (values.time !== undefined) {
    timeMs = Number(values.time);
    if (!/^\d+$/.test(values.time) || timeMs <= 0) throw new UsageError(`--time must be a whole number of milliseconds above 0, not "${values.time}"`);
  }
  let sizes = DEFAULT_SIZES;
  if (values.sizes !== undefined) {
    sizes = values.sizes.split(',').map((item) => {
      const bytes = parseSize(item);
      if (bytes === undefined || bytes < 1) throw new UsageError(`--sizes: "${item}" is not a size of at least 1 byte (try 16, 1KiB, 64KiB)`);
      if (bytes > MAX_SIZE_BYTES) throw new UsageError(`--sizes: ${item} is over the 16 MiB allowed`);
      return bytes;
    });
  }
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!/^\d+$/.test(values.seed) || seed >= 2 ** 32) throw new UsageError(`--seed must be a whole number from 0 to 4294967295, not "${values.seed}"`);
  }
  return { timeMs, sizes: [...new Set(sizes)], ...(seed === undefined ? {} : { seed }), ...(values.out === undefined ? {} : { out: values.out }) };
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

function progressLine(measured: MeasuredCase): string {
  if (measured.state === 'failed') return `  ${measured.id.padEnd(48)} FAILED: ${measured.error}\n`;
  const margin = `±${formatNumber(measured.marginPercent, 1)}%`;
  return `  ${measured.id.padEnd(48)} ${formatSignificant(measured.nsPerOp, 3).padStart(10)} ns/op ${margin.padStart(8)}${measured.unstable ? '  unstable' : ''}\n`;
}

/** The results as a plain-text table for the terminal. */
export function microTable(micro: MicroResults): string {
  const header = ['case', 'ops/s', 'ns/op', 'x cheapest', '±'];
  const rows = micro.cases.map((result: MicroCaseResult) =>
    result.state === 'failed'
      ? [result.id, 'FAILED', result.error, '', '']
      : [
          result.id,
          formatInteger(result.opsPerSecond),
          formatSignificant(result.nsPerOp, 3),
          result.relativeToCheapest === undefined ? 'unstable' : formatNumber(result.relativeToCheapest, 1),
          `${formatNumber(result.marginPercent, 1)}%`,
        ],
  );
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const MICRO_COMMAND: Command<MicroCliOptions> = { name: 'bench:micro', usage, parse: parseMicroArgs };

export function main(args: string[]): Promise<number> {
  return runCommand(MICRO_COMMAND, args, micro);
}

async function micro(options: MicroCliOptions): Promise<number> {
  const outDir = options.out ?? path.join('reports', `micro-${stamp(new Date())}`);
  process.stderr.write(`bench:micro: up to ${formatInteger(options.timeMs)} ms per case, sizes ${options.sizes.map(sizeLabel).join(', ')}\n`);
  const micro = await runMicroBenchmarks({
    timeMs: options.timeMs,
    sizes: options.sizes,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    onCase: (measured) => process.stderr.write(progressLine(measured)),
  });
  mkdirSync(outDir, { recursive: true });
  const jsonPath = path.join(outDir, 'micro.json');
  const markdownPath = path.join(outDir, 'micro.md');
  writeFileSync(jsonPath, `${JSON.stringify(micro, null, 2)}\n`);
  writeFileSync(markdownPath, `# wirecost: per-message CPU cost\n\n${renderMicroSection(micro, [])}\n`);
  process.stdout.write(`${microTable(micro)}\n\nresults: ${jsonPath}\nreport:  ${markdownPath}\n`);
  const unstable = micro.cases.filter((result) => result.state === 'completed' && result.unstable).length;
  process.stderr.write(`bench:micro: order seed ${micro.orderSeed} (--seed repeats it)\n`);
  if (unstable > 0) {
    process.stderr.write(
      `bench:micro: ${unstable} of ${micro.cases.length} cases unstable (margin ${micro.marginTargetPercent}% or more): left out of the ratios; --time gives them longer\n`,
    );
  }
  const failed = micro.cases.filter((result) => result.state === 'failed').length;
  if (failed > 0) process.stderr.write(`bench:micro: ${failed} of ${micro.cases.length} cases failed (see micro.json)\n`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1]?.endsWith(path.join('bench', 'micro', 'cli.ts'))) {
  await exitWith(await main(process.argv.slice(2)));
}
