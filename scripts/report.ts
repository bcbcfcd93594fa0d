/**
 * npm run report: renders the report of a results.json again, from the file alone, or compares
 * two runs. Exit codes: 0 done, 2 wrong usage or unreadable input.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCHEMA_VERSION, type Results } from '../bench/result.ts';
import { USAGE_EXIT_CODE, UsageError, exitWith, parseCommandLine, runCommand, type Command } from './command-line.ts';
import { writeCompareReport, writeReport } from './report/write.ts';
import { MergeError, mergeShardResults } from '../bench/shard-merge.ts';

const USAGE = [
  'Usage: npm run report -- <results.json> [--out <dir>]',
  '       npm run report -- --compare <a/results.json> <b/results.json> [--out <dir>]',
  '       npm run report -- --merge <shard/results.json> ... [--out <dir>]',
  '',
  '  <results.json>      writes report.md and charts/*.svg (default: next to the results file)',
  '  --compare a b       writes compare.md: the runs of b against those of a, matched by id',
  '                      (default: next to b)',
  '  --merge files...    merges the shards of a run (npm run bench -- --shard i/N) into results.json',
  '                      and its report.md: histograms added, counts summed, each shard listed',
  '                      (default: next to the first file; refuses shards of different runs)',
  '  --out <dir>         where the report goes',
  '  --help              this text',
].join('\n');

/** A results file that cannot be read as one: the command says why on one line and exits 2. */
class InputError extends Error {}

interface ReportOptions {
  files: string[];
  compare: boolean;
  merge: boolean;
  out: string | undefined;
}

const OPTIONS = { out: { type: 'string' }, compare: { type: 'boolean' }, merge: { type: 'boolean' }, help: { type: 'boolean' } } as const;

function parseCommand(args: string[]): ReportOptions | 'help' {
  const parsed = parseCommandLine({ args, strict: true, allowPositionals: true, options: OPTIONS });
  if (parsed.values.help === true) return 'help';
  const compare = parsed.values.compare === true;
  const merge = parsed.values.merge === true;
  if (compare && merge) throw new UsageError('--compare and --merge are two different things: give one');
  if (merge) {
    if (parsed.positionals.length < 1) throw new UsageError("--merge takes the shards' results files");
    return { files: parsed.positionals, compare, merge, out: parsed.values.out };
  }
  if (parsed.positionals.length !== (compare ? 2 : 1)) {
    throw new UsageError(compare ? '--compare takes two results files' : 'give one results file (or --compare and two)');
  }
  return { files: parsed.positionals, compare, merge, out: parsed.values.out };
}

/** Reads a results file, checking that it is one (its schema version and its runs). */
function loadResults(file: string): Results {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const record = value as Partial<Results> | null;
  if (record === null || typeof record !== 'object' || record.schemaVersion !== SCHEMA_VERSION || !Array.isArray(record.runs)) {
    throw new InputError(`${file} is not a wirecost results file of schema version ${SCHEMA_VERSION}`);
  }
  return value as Results;
}

/** --merge: the shards' results merged (bench/shard-merge.ts) into one results.json, and its report. */
async function merge(files: string[], out: string | undefined): Promise<number> {
  let merged: Results;
  try {
    merged = mergeShardResults(files.map((file) => ({ name: file, results: loadResults(file) })));
  } catch (error) {
    if (!(error instanceof MergeError)) throw error;
    process.stderr.write(`report: cannot merge: ${error.message}\n`);
    return USAGE_EXIT_CODE;
  }
  const dir = out ?? path.dirname(files[0]!);
  mkdirSync(dir, { recursive: true });
  const resultsPath = path.join(dir, 'results.json');
  if (files.some((file) => path.resolve(file) === path.resolve(resultsPath))) {
    process.stderr.write(`report: the merged results would overwrite ${resultsPath}, one of the shards: give --out\n`);
    return USAGE_EXIT_CODE;
  }
  writeFileSync(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);
  const written = await writeReport(merged, dir);
  process.stdout.write(`merged ${files.length} shards: ${resultsPath}\nreport: ${written}\n`);
  return 0;
}

export const REPORT_COMMAND: Command<ReportOptions> = { name: 'report', usage: () => USAGE, parse: parseCommand };

export function main(args: string[]): Promise<number> {
  return runCommand(REPORT_COMMAND, args, async (command) => {
    try {
      if (command.merge) return await merge(command.files, command.out);
      const [first = '', second = ''] = command.files;
      const written = command.compare
        ? await writeCompareReport(loadResults(first), loadResults(second), { a: first, b: second }, command.out ?? path.dirname(second))
        : await writeReport(loadResults(first), command.out ?? path.dirname(first));
      process.stdout.write(`report: ${written}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      process.stderr.write(`report: ${error.message}\n`);
      return USAGE_EXIT_CODE;
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await exitWith(await main(process.argv.slice(2)));
}
