/**
 * Every command the README names answers --help with its usage (exit code 0) and refuses an
 * unknown option with one line (exit code 2), through scripts/command-line.ts; each is run as
 * its npm script runs it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UsageError, parseCommandLine, readCommandLine, refusal, type Command } from '../scripts/command-line.ts';
import { runCommand } from './helpers.ts';

/** node with tsx's loader starts in a second or two; the bench's imports (vega) take longer on a busy machine. */
const COMMAND_TIMEOUT_MS = 60_000;

const COMMANDS = ['bench', 'bench:micro', 'profile', 'demo', 'handshake', 'frames', 'server', 'report'] as const;

/** What `npm run <name>` runs: the npm script, `exec node --import tsx <file>`, as arguments to node. */
function scriptArgs(name: string): string[] {
  const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const script = scripts[name] ?? '';
  const match = /^exec node (--import tsx \S+\.ts)$/.exec(script);
  assert.ok(match, `npm run ${name} is "${script}", not exec node --import tsx <file>`);
  return match[1]!.split(' ');
}

describe('every command line', () => {
  for (const name of COMMANDS) {
    it(
      `npm run ${name}: --help prints its usage and exits 0; an unknown option is one line and exit code 2`,
      { timeout: 2 * COMMAND_TIMEOUT_MS + 10_000 },
      async () => {
        const args = scriptArgs(name);
        const help = await runCommand(process.execPath, [...args, '--help'], { timeoutMs: COMMAND_TIMEOUT_MS });
        assert.equal(help.code, 0, help.stderr);
        assert.match(help.stdout, new RegExp(`^Usage: npm run ${name}\\b`));
        assert.match(help.stdout, /--help +this text/);
        const unknown = await runCommand(process.execPath, [...args, '--frobnicate'], { timeoutMs: COMMAND_TIMEOUT_MS });
        assert.equal(unknown.code, 2, unknown.stderr);
        assert.equal(unknown.stderr, `${name}: Unknown option '--frobnicate' (npm run ${name} -- --help shows the usage)\n`);
        assert.equal(unknown.stdout, '');
      },
    );
  }
});

describe('scripts/command-line.ts', () => {
  const command: Command<{ size: number }> = {
    name: 'example',
    usage: () => 'Usage: npm run example -- [--size <n>]',
    parse(args) {
      const { values } = parseCommandLine({ args, options: { size: { type: 'string' }, help: { type: 'boolean' } } });
      if (values.help === true) return 'help';
      const size = Number(values.size ?? '1');
      if (!Number.isInteger(size)) throw new UsageError(`--size must be a whole number, not "${values.size}"`);
      return { size };
    },
  };

  it('turns what parseArgs refuses into one line', () => {
    assert.throws(
      () => command.parse(['--size']),
      (error: Error) => error instanceof UsageError && !error.message.includes('\n'),
    );
    assert.throws(
      () => command.parse(['--bogus']),
      (error: Error) => error instanceof UsageError && error.message === "Unknown option '--bogus'",
    );
    assert.throws(() => command.parse(['stray']), UsageError);
    assert.equal(refusal('example', 'two\nlines'), 'example: two lines (npm run example -- --help shows the usage)');
  });

  it('reads the options, or the exit code after --help or a refusal', (t) => {
    const written = { stdout: '', stderr: '' };
    t.mock.method(process.stdout, 'write', (chunk: string) => ((written.stdout += chunk), true));
    t.mock.method(process.stderr, 'write', (chunk: string) => ((written.stderr += chunk), true));
    const options = readCommandLine(command, ['--size', '3']);
    const help = readCommandLine(command, ['--help']);
    const refused = readCommandLine(command, ['--size', 'x']);
    t.mock.restoreAll();
    assert.deepEqual(options, { options: { size: 3 } });
    assert.deepEqual(help, { exitCode: 0 });
    assert.deepEqual(refused, { exitCode: 2 });
    assert.equal(written.stdout, 'Usage: npm run example -- [--size <n>]\n');
    assert.equal(written.stderr, 'example: --size must be a whole number, not "x" (npm run example -- --help shows the usage)\n');
  });
});
