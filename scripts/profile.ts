/**
 * npm run profile -- --transport <name> --scenario <name>: one transport server under clinic
 * doctor (or clinic flame with --flame) while the suite's clients drive it, then the path of
 * the HTML clinic wrote under reports/profiles/ (or --out), on stdout.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROUTES, type TransportName } from '../servers/contract.ts';
import { runScenario } from '../bench/engine.ts';
import type { RunConfig } from '../bench/result.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import { ClinicServer } from './profile/clinic.ts';
import { PROFILE_COMMAND, type ProfileOptions } from './profile/options.ts';
import { exitWith, runCommand } from './command-line.ts';

/** clinic and tsx start slowly; clinic's instrumentation slows the server's start further. */
const READY_TIMEOUT_MS = 60_000;
/** Time the load may take beyond its duration: connecting, draining. */
const LOAD_SLACK_MS = 60_000;
/** clinic doctor analyses its samples after the server exits, which can take tens of seconds. */
const ANALYSIS_TIMEOUT_MS = 180_000;

function targetUrl(transport: TransportName, port: number): string {
  if (transport === 'websocket') return `ws://127.0.0.1:${port}${ROUTES.websocket}`;
  if (transport === 'tcp') return `tcp://127.0.0.1:${port}`;
  return `http://127.0.0.1:${port}`;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${timeoutMs} ms`)), timeoutMs)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function profile(options: ProfileOptions): Promise<string> {
  const tool = options.flame ? 'flame' : 'doctor';
  mkdirSync(options.outDir, { recursive: true });
  process.stderr.write(`profile: clinic ${tool} on the ${options.transport} server\n`);
  const { clinic, ready } = await ClinicServer.start(tool, options.transport, path.resolve(options.outDir), READY_TIMEOUT_MS);
  const stopOnSignal = (): void => {
    clinic.kill();
    process.exit(130);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    const config: RunConfig = {
      ...RUN_DEFAULTS,
      scenario: options.scenario,
      transport: options.transport,
      clients: options.clients,
      warmupSeconds: 0,
      durationSeconds: options.durationSeconds,
      target: targetUrl(options.transport, ready.port),
    };
    process.stderr.write(`profile: ${options.clients} clients, ${options.scenario}, ${options.durationSeconds} s against ${config.target}\n`);
    const run = await withTimeout(
      runScenario(config, { serverCommand: [], localAddresses: [], emit: () => {} }),
      options.durationSeconds * 1000 + LOAD_SLACK_MS,
      'the load',
    );
    if (run.state === 'failed') throw new Error(`the load failed: ${run.error}`);
    process.stderr.write(`profile: ${run.messages.received} messages received; clinic ${tool} is analysing\n`);
    return await clinic.finish(ready.pid, ANALYSIS_TIMEOUT_MS);
  } catch (error) {
    clinic.kill();
    throw error;
  } finally {
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

export function main(args: string[]): Promise<number> {
  return runCommand(PROFILE_COMMAND, args, async (options) => {
    try {
      process.stdout.write(`${await profile(options)}\n`);
      return 0;
    } catch (error) {
      process.stderr.write(`profile: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  });
}

if (process.argv[1]?.endsWith(path.join('scripts', 'profile.ts'))) {
  await exitWith(await main(process.argv.slice(2)));
}
