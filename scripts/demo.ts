/**
 * The echo demo: `npm run demo -- [--port N]` starts the short-poll, long-poll, SSE and
 * WebSocket servers, a byte-counting relay in front of each, and the page; it prints the URL to
 * open and stops everything on SIGINT or SIGTERM.
 */
import path from 'node:path';
import { UsageError, parseCommandLine, readCommandLine, type Command } from './command-line.ts';
import { startEchoSite } from './demo/site.ts';

export interface DemoOptions {
  /** The page's port; 0 picks a free one. */
  port: number;
}

function usage(): string {
  return [
    'Usage: npm run demo -- [--port <n>]',
    '',
    "The textbook's echo page over short polling, long polling, SSE and WebSocket, each through a relay",
    'that counts its bytes: send over one or over all four, and compare the answers and the bytes side',
    'by side and over time. Prints the URL to open; Ctrl-C (SIGINT) or SIGTERM stops it.',
    '',
    "  --port <n>    the page's port; 0 picks a free one (default 0)",
    '  --help        this text',
  ].join('\n');
}

export function parseDemoArgs(args: string[]): DemoOptions | 'help' {
  const { values } = parseCommandLine({ args, strict: true, allowPositionals: false, options: { port: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help === true) return 'help';
  const raw = values.port ?? '0';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, not "${raw}"`);
  return { port };
}

export const DEMO_COMMAND: Command<DemoOptions> = { name: 'demo', usage, parse: parseDemoArgs };

async function main(args: string[]): Promise<void> {
  const read = readCommandLine(DEMO_COMMAND, args);
  if ('exitCode' in read) {
    process.exitCode = read.exitCode;
    return;
  }
  const site = await startEchoSite({ port: read.options.port });
  process.stdout.write(`wirecost echo demo: open ${site.url}\n(Ctrl-C stops it)\n`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    site.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`demo: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1]?.endsWith(path.join('scripts', 'demo.ts'))) await main(process.argv.slice(2));
