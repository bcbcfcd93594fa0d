/** The command line of `npm run profile`. */
import { TRANSPORTS, isTransportName, type TransportName } from '../../servers/contract.ts';
import { RUN_DEFAULTS } from '../../bench/scenarios.ts';
import type { ScenarioName } from '../../bench/result.ts';
import { UsageError, parseCommandLine, type Command } from '../command-line.ts';

/** The scenarios a profile can drive: broadcast needs the suite to trigger events over IPC, which clinic's server process has no channel for. */
export const PROFILE_SCENARIOS = ['echo', 'push', 'idle'] as const satisfies readonly ScenarioName[];
export type ProfileScenario = (typeof PROFILE_SCENARIOS)[number];

export const DEFAULT_DURATION_SECONDS = 5;
export const DEFAULT_PROFILES_DIR = 'reports/profiles';

export interface ProfileOptions {
  transport: TransportName;
  scenario: ProfileScenario;
  clients: number;
  durationSeconds: number;
  /** clinic flame (a flame graph of where CPU time goes) instead of clinic doctor. */
  flame: boolean;
  outDir: string;
}

export function usage(): string {
  return [
    'Usage: npm run profile -- --transport <name> --scenario <name> [options]',
    '',
    "Runs one transport server under clinic doctor (or clinic flame), drives it with the suite's clients,",
    'stops it, and prints the path of the HTML clinic wrote.',
    '',
    `  --transport <name>   one of ${TRANSPORTS.join(', ')} (required)`,
    `  --scenario <name>    one of ${PROFILE_SCENARIOS.join(', ')} (required; broadcast needs the suite's IPC channel to the server)`,
    `  --clients <n>        clients (default ${RUN_DEFAULTS.clients})`,
    `  --duration <s>       seconds of load (default ${DEFAULT_DURATION_SECONDS})`,
    '  --flame              clinic flame instead of clinic doctor',
    `  --out <dir>          where clinic writes its data and HTML (default ${DEFAULT_PROFILES_DIR}/)`,
    '  --help               this text',
  ].join('\n');
}

function positive(raw: string, option: string, integer: boolean): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${option} must be a ${integer ? 'whole ' : ''}number above 0, not "${raw}"`);
  }
  return value;
}

export function parseProfileArgs(args: string[]): ProfileOptions | 'help' {
  const { values } = parseCommandLine({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      transport: { type: 'string' },
      scenario: { type: 'string' },
      clients: { type: 'string' },
      duration: { type: 'string' },
      flame: { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return 'help';
  const { transport, scenario } = values;
  if (transport === undefined) throw new UsageError(`--transport is required: one of ${TRANSPORTS.join(', ')}`);
  if (!isTransportName(transport)) throw new UsageError(`unknown transport "${transport}": use one of ${TRANSPORTS.join(', ')}`);
  if (scenario === undefined) throw new UsageError(`--scenario is required: one of ${PROFILE_SCENARIOS.join(', ')}`);
  if (scenario === 'broadcast') {
    throw new UsageError('broadcast cannot be profiled: the suite triggers its events over an IPC channel to a server it started, and clinic starts this one');
  }
  if (!(PROFILE_SCENARIOS as readonly string[]).includes(scenario))
    throw new UsageError(`unknown scenario "${scenario}": use one of ${PROFILE_SCENARIOS.join(', ')}`);
  return {
    transport,
    scenario: scenario as ProfileScenario,
    clients: values.clients === undefined ? RUN_DEFAULTS.clients : positive(values.clients, 'clients', true),
    durationSeconds: values.duration === undefined ? DEFAULT_DURATION_SECONDS : positive(values.duration, 'duration', false),
    flame: values.flame === true,
    outDir: values.out ?? DEFAULT_PROFILES_DIR,
  };
}

export const PROFILE_COMMAND: Command<ProfileOptions> = { name: 'profile', usage, parse: parseProfileArgs };
