/** The Method section: what was measured, on what, and how; every figure read from the results. */
import { SCENARIOS, type Results, type RunConfig, type ScenarioName } from '../../bench/result.ts';
import { formatNumber } from './format.ts';
import { bullets, code, table } from './markdown.ts';
import { runsOf } from './runs.ts';
import { linkMethodLine } from './link-section.ts';

const BYTES_PER_GIBIBYTE = 2 ** 30;

/** What "latency" is in each scenario: the clock it is read on and its two ends. */
const LATENCY_MEANING: Record<ScenarioName, string> = {
  echo:
    'from the moment a client sends a message to the moment the reply reaches that same client, both read on the client ' +
    '(open loop, when a run has a target rate: from the moment the message was due, so that waiting to send counts too)',
  push:
    "the client's receipt time minus the send stamp the server wrote into the event (`sentAtMs`); server and driver read " +
    'the same host clock (`performance.timeOrigin + performance.now()`), so this is the whole delivery delay, the wait for the next poll included',
  broadcast:
    'as for push, for every client that received the event; "until the last client has it" is, per event, the last client\'s receipt minus the send stamp',
  idle: 'none: no message is sent; the scenario measures what it costs to stay connected',
};

/** A run's scenario and transport parameters, in words. */
function describeParameters(config: RunConfig): string {
  const parts: string[] = [];
  if (config.scenario === 'echo') {
    parts.push(
      config.targetRatePerSecond > 0 ? `open loop, ${config.targetRatePerSecond} msg/s in all` : `closed loop, ${config.inFlight} in flight per client`,
    );
  }
  if (config.scenario === 'push') parts.push(`${config.pushRatePerSecond} msg/s per client`);
  if (config.scenario === 'broadcast') parts.push(`${config.broadcastEvents} events`);
  if (config.transport === 'short-poll') parts.push(`poll every ${config.pollIntervalMs} ms`);
  if (config.transport === 'long-poll') parts.push(`empty poll held up to ${config.longPollTimeoutMs} ms`);
  if (config.perMessageDeflate) parts.push('permessage-deflate');
  if (config.target !== undefined) parts.push(`server not started by the suite: ${config.target}`);
  return parts.length === 0 ? '-' : parts.join('; ');
}

export function pinningLine(results: Results): string {
  const { pinning } = results;
  if (!pinning.requested) return `not requested${pinning.reason === undefined ? '' : ` (${pinning.reason})`}`;
  if (pinning.applied) return `applied: server on core(s) ${pinning.serverCores}, driver on core(s) ${pinning.driverCores}`;
  return `requested but not applied: ${pinning.reason ?? 'no reason recorded'}`;
}

function suiteLine(results: Results): string {
  return Object.entries(results.suite)
    .map(([key, value]) => `${key} ${code(JSON.stringify(value))}`)
    .join(', ');
}

/** Runs whose byte split adds up to what the sockets themselves counted (a check of the accounting). */
function splitCheckLine(results: Results): string {
  const completed = results.runs.filter((run) => run.state === 'completed');
  const matching = completed.filter((run) => run.bytes.up.total === run.socketBytes.up && run.bytes.down.total === run.socketBytes.down);
  return `in ${matching.length} of ${completed.length} completed runs the split's totals equal the bytes the sockets counted (\`socketBytes\`)`;
}

export function methodSection(results: Results): string {
  const { environment } = results;
  const memoryGiB = environment.totalMemoryBytes / BYTES_PER_GIBIBYTE;
  const packages = Object.entries(environment.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  const setting = bullets([
    `**Machine**: ${environment.cpuModel}, ${environment.cores} cores, ${formatNumber(memoryGiB, 1)} GiB of memory ` +
      `(computed: ${formatNumber(environment.totalMemoryBytes, 0)} bytes / 2^30), ${environment.os}.`,
    `**Software**: Node ${environment.node}; ${packages === '' ? 'no package versions recorded' : packages}.`,
    `**Code**: git commit ${code(environment.gitCommit)}${environment.gitCommit.endsWith('-dirty') ? ' (with uncommitted changes)' : ''}.`,
    `**Command**: ${code(environment.command)}.`,
    `**Started** ${environment.startedAt}, **finished** ${results.finishedAt === '' ? 'not recorded' : results.finishedAt}.`,
    `**CPU pinning** of server and driver to different cores: ${pinningLine(results)}.`,
    ...[linkMethodLine(results)].filter((line) => line !== undefined),
    `**Suite**: ${suiteLine(results)}.`,
  ]);
  const measured = bullets([
    "**Bytes** are exact TCP payload bytes, counted at the driver's client sockets (IP and TCP headers are not included), " +
      'over the whole run: from the first connection to the last close, warm-up included. ' +
      `As a check, ${splitCheckLine(results)}.`,
    '**Latency and throughput** cover the measured window only, which starts after the warm-up.',
    ...(['echo', 'push', 'broadcast', 'idle'] as const).map((scenario) => `**Latency in ${scenario}**: ${LATENCY_MEANING[scenario]}.`),
    "**Server CPU and memory**: the server process's CPU time (user + system) and its peak resident memory over the run, as the server reported them.",
  ]);
  const runs = SCENARIOS.flatMap((scenario) => runsOf(results, scenario)).map((run) => [
    code(run.id),
    String(run.config.clients),
    formatNumber(run.config.payloadBytes, 0),
    String(run.config.warmupSeconds),
    String(run.config.durationSeconds),
    describeParameters(run.config),
    `${run.config.engine}${run.config.workers > 1 ? ` × ${run.config.workers} workers` : ''}`,
  ]);
  return [
    '## Method',
    '### Setting',
    setting,
    '### What is measured',
    measured,
    '### Runs',
    'Each run as it was configured (from its `config`), scenario by scenario.',
    table(['run', 'clients', 'payload (B)', 'warm-up (s)', 'window (s)', 'parameters', 'engine'], runs, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'left',
      'left',
    ]),
  ].join('\n\n');
}
