/**
 * npm run guide: renders docs/guide.md from its template (docs/guide.template.md) and the figures
 * of a results file (by default the committed sample's). Exit codes: 0 done (or, with --check, the
 * guide is up to date), 1 a placeholder the results cannot fill (each is named) or, with --check,
 * a stale guide, 2 wrong usage or unreadable input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { SCHEMA_VERSION, type Results } from '../bench/result.ts';
import { USAGE_EXIT_CODE, UsageError, exitWith, parseCommandLine, runCommand, type Command } from './command-line.ts';
import { functionList } from './guide/figures.ts';
import { GUIDE_FILE, GuideRenderError, SAMPLE_RESULTS_FILE, TEMPLATE_FILE, renderGuide } from './guide/render.ts';

const USAGE = [
  'Usage: npm run guide -- [<results.json>] [--template <file>] [--out <file>] [--check]',
  '',
  `  <results.json>      the figures (default: ${SAMPLE_RESULTS_FILE})`,
  `  --template <file>   the template (default: ${TEMPLATE_FILE})`,
  `  --out <file>        the guide written (default: ${GUIDE_FILE})`,
  '  --check             writes nothing: exits 1 if the guide is not what the template renders',
  '  --help              this text',
  '',
  'A placeholder is {{figure arg arg … option=value}}; an argument may be another figure in',
  'parentheses. Options: decimals=<n>, significant=<n> (digits), unit=<text> (after the number).',
  'A run, field or case the results do not have fails the render, named. The figures:',
  '',
  ...functionList(),
].join('\n');

interface GuideOptions {
  results: string;
  template: string;
  out: string;
  check: boolean;
}

const OPTIONS = { template: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean' } } as const;

function parseCommand(args: string[]): GuideOptions | 'help' {
  const parsed = parseCommandLine({ args, strict: true, allowPositionals: true, options: OPTIONS });
  if (parsed.values.help === true) return 'help';
  if (parsed.positionals.length > 1) throw new UsageError('give one results file at most');
  return {
    results: parsed.positionals[0] ?? SAMPLE_RESULTS_FILE,
    template: parsed.values.template ?? TEMPLATE_FILE,
    out: parsed.values.out ?? GUIDE_FILE,
    check: parsed.values.check === true,
  };
}

/** A file that cannot be read as needed: the command says why on one line and exits 2. */
class InputError extends Error {}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function loadResults(file: string): Results {
  let value: unknown;
  try {
    value = JSON.parse(readText(file));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const record = value as Partial<Results> | null;
  if (record === null || typeof record !== 'object' || record.schemaVersion !== SCHEMA_VERSION || !Array.isArray(record.runs)) {
    throw new InputError(`${file} is not a wirecost results file of schema version ${SCHEMA_VERSION}`);
  }
  return value as Results;
}

/** The guide as it is on disk; undefined when there is none. */
function currentGuide(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export const GUIDE_COMMAND: Command<GuideOptions> = { name: 'guide', usage: () => USAGE, parse: parseCommand };

export function main(args: string[]): Promise<number> {
  return runCommand(GUIDE_COMMAND, args, async (command) => {
    let guide: string;
    try {
      guide = await renderGuide({
        template: readText(command.template),
        templateName: command.template,
        results: loadResults(command.results),
        resultsName: command.results,
      });
    } catch (error) {
      if (error instanceof InputError) {
        process.stderr.write(`guide: ${error.message}\n`);
        return USAGE_EXIT_CODE;
      }
      if (!(error instanceof GuideRenderError)) throw error;
      process.stderr.write(`guide: ${error.message}\n`);
      return 1;
    }
    if (command.check) {
      if (currentGuide(command.out) === guide) {
        process.stdout.write(`guide: ${command.out} is up to date\n`);
        return 0;
      }
      process.stderr.write(`guide: ${command.out} is not what ${command.template} renders from ${command.results}: run npm run guide\n`);
      return 1;
    }
    writeFileSync(command.out, guide);
    process.stdout.write(`guide: ${command.out}\n`);
    return 0;
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await exitWith(await main(process.argv.slice(2)));
}
