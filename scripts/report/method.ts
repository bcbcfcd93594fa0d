/** The Method section: what was measured, on what, and how; every figure read from the results. */
import { SATURATED } from '../../bench/bound.ts';
import { SCENARIOS, type BoundSide, type CompletedRun, type Results, type RunConfig, type RunResult, type ScenarioName } from '../../bench/result.ts';
import { formatInteger, formatNumber, formatPercent } from './format.ts';
import { bullets, code, table } from './markdown.ts';
import { boundCell, runLabel } from './run-bound.ts';
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

/** How the engine decides a run's bound (bench/bound.ts), in its order: the first rule that holds names the side. */
export function boundRules(): string {
  const saturated = formatPercent(SATURATED, 0);
  return [
    "Every run names the side that was its limit, decided by the engine from both sides' loads over the measured window " +
      `(\`bench/bound.ts\`; the threshold, \`SATURATED\`, is ${formatNumber(SATURATED, 2)}: an event loop ${saturated} busy or more, or a ` +
      `process using ${formatNumber(SATURATED, 2)} of a core or more, has no room left). The first rule that holds names it:`,
    [
      '1. **machine**: the clients met an error that says the machine ran out of something (EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS);',
      `2. **driver**: the busiest driver thread's event loop was ${saturated} busy or more: the figures measure the load generator, not the server;`,
      `3. **link**: the emulated link carried ${saturated} of its rate or more, in its busier direction;`,
      `4. **server**: the server's event loop was ${saturated} busy or more (where its event loop was not measured: its CPU, ${formatNumber(SATURATED, 2)} core or more);`,
      "5. **none**: no side was saturated: the scenario's own rate set the pace.",
    ].join('\n'),
    'Only a server-bound run measures what a server (or a transport) can take; the driver benchmark below checks that the driver can outrun it.',
  ].join('\n\n');
}

/** A process's load over the window: "0.45 core, 40% busy". */
function loadText(load: { cpuCores: number; eventLoopUtilization: number } | undefined): string {
  return load === undefined ? 'not recorded' : `${formatNumber(load.cpuCores, 2)} core, ${formatPercent(load.eventLoopUtilization, 0)} busy`;
}

function windowLoads(run: CompletedRun): string {
  const shards = run.driver.shards ?? [];
  const threads =
    shards.length > 1
      ? ` (${shards.length} processes: ${shards.map((shard) => loadText(shard.window)).join('; ')})`
      : run.driver.threads !== undefined && run.driver.threads.length > 1
        ? ` (threads ${run.driver.threads.map((share) => formatPercent(share, 0)).join(', ')})`
        : '';
  const workers = run.server.workers ?? [];
  const workerLoads =
    workers.length > 1
      ? ` (${workers.length} workers, the busiest one's event loop counted: ${workers.map((worker) => `${loadText(worker.window)}, ${formatInteger(worker.connectionsAccepted)} connections`).join('; ')})`
      : '';
  return `server ${loadText(run.server.window)}${workerLoads}; driver ${loadText(run.driver.window)}${threads}`;
}

/** The engine, and how the run was spread over processes and threads. */
function engineCell(run: RunResult): string {
  const config = run.config;
  const parts: string[] = [config.engine];
  if (config.workers > 1) parts.push(`× ${config.workers} workers`);
  const driverProcesses = run.state === 'completed' ? (run.driver.shards?.length ?? 1) : (config.driverProcesses ?? 1);
  if (driverProcesses > 1) parts.push(`× ${driverProcesses} driver processes`);
  if (config.shard !== undefined) parts.push(`(shard ${config.shard.index}/${config.shard.count})`);
  if ((config.serverProcesses ?? 1) > 1) parts.push(`; server × ${config.serverProcesses} processes`);
  return parts.join(' ');
}

function boundReason(run: RunResult): string {
  if (run.state === 'failed') return '-';
  return run.bound === undefined ? 'not recorded in these results' : run.bound.reason;
}

/** How many runs each side bound: "3 server, 1 driver, 2 not recorded". */
function boundCounts(results: Results): string {
  const completed = results.runs.filter((run): run is CompletedRun => run.state === 'completed');
  const sides: (BoundSide | 'not recorded')[] = ['server', 'driver', 'link', 'machine', 'none', 'not recorded'];
  const counts = sides
    .map((side) => [side, completed.filter((run) => (run.bound?.side ?? 'not recorded') === side).length] as const)
    .filter(([, count]) => count > 0)
    .map(([side, count]) => `${count} ${side}`);
  return counts.length === 0 ? 'no completed run.' : `in these results: ${counts.join(', ')} (of ${completed.length} completed runs).`;
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
  return [
    '## Method',
    '### Setting',
    setting,
    '### What is measured',
    measured,
    '### Which side was the limit',
    boundRules(),
    `Bounds ${boundCounts(results)}`,
  ].join('\n\n');
}

export const RUNS_TITLE = '## Runs';

/** The list of runs, the report's last section: each run as configured, with its bound and both sides' loads. */
export function runListSection(results: Results): string {
  const runs = SCENARIOS.flatMap((scenario) => runsOf(results, scenario)).map((run) => [
    runLabel(run),
    String(run.config.clients),
    formatNumber(run.config.payloadBytes, 0),
    String(run.config.warmupSeconds),
    String(run.config.durationSeconds),
    describeParameters(run.config),
    engineCell(run),
    boundCell(run),
    boundReason(run),
    run.state === 'completed' ? windowLoads(run) : '-',
  ]);
  return [
    RUNS_TITLE,
    "Each run as it was configured (from its `config`), scenario by scenario, with its bound, why, and both sides' loads over the measured " +
      "window (measured: CPU in cores, and the share of the window each event loop was busy; the driver's is its busiest thread's).",
    table(['run', 'clients', 'payload (B)', 'warm-up (s)', 'window (s)', 'parameters', 'engine', 'bound', 'why', 'loads over the window'], runs, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'left',
      'left',
      'left',
      'left',
      'left',
    ]),
  ].join('\n\n');
}
