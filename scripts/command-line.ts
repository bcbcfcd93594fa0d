/**
 * What every command (npm run bench, bench:micro, profile, demo, handshake, frames, server,
 * report) shares at its edges: --help prints its usage on stdout (exit code 0); an unknown
 * option or an impossible value is refused with one line on stderr (exit code 2); and a command
 * that has finished ends its process with its exit code, whatever a run left open.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line that cannot be run as given; its message is the one line the command prints. */
export class UsageError extends Error {}

/** The exit code of a refused command line. */
export const USAGE_EXIT_CODE = 2;

export interface Command<T> {
  /** The npm script, e.g. "bench": a refusal starts with it and points to `npm run <name> -- --help`. */
  name: string;
  /** What --help prints. */
  usage(): string;
  /** The options to run with, or 'help' for --help; throws UsageError for what it refuses. */
  parse(args: string[]): T | 'help';
}

/** One line: parseArgs's messages run over several, and advise quoting that an npm script's user does not need. */
function oneLine(message: string): string {
  const unknown = /^Unknown option '[^']*'/.exec(message);
  return unknown?.[0] ?? message.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * node:util's parseArgs (strict unless the config says otherwise: an unknown option is an
 * error); what it refuses is thrown as a UsageError of one line.
 */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(oneLine(error instanceof Error ? error.message : String(error)));
  }
}

/** The one line a refused command line prints. */
export function refusal(name: string, message: string): string {
  return `${name}: ${oneLine(message)} (npm run ${name} -- --help shows the usage)`;
}

/**
 * Reads a command line: the options to run with; or, after --help (its usage on stdout) or a
 * refusal (one line on stderr), the exit code to end with.
 */
export function readCommandLine<T>(command: Command<T>, args: string[]): { options: T } | { exitCode: number } {
  let parsed: T | 'help';
  try {
    parsed = command.parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${refusal(command.name, error.message)}\n`);
    return { exitCode: USAGE_EXIT_CODE };
  }
  if (parsed === 'help') {
    process.stdout.write(`${command.usage()}\n`);
    return { exitCode: 0 };
  }
  return { options: parsed };
}

/** Runs a command that ends: reads its line, then `run` with the options; resolves with the exit code. */
export async function runCommand<T>(command: Command<T>, args: string[], run: (options: T) => Promise<number>): Promise<number> {
  const read = readCommandLine(command, args);
  return 'exitCode' in read ? read.exitCode : run(read.options);
}

/**
 * Ends the process with `code` once stdout and stderr have taken what was written to them. A
 * command that has done its work and written its results does not wait on a socket, a timer or
 * a thread that something it used forgot to close.
 */
export async function exitWith(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(code);
}
