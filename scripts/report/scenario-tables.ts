/** One table per scenario, one row per run, and the warnings of its runs right below it. */
import type { CompletedRun, Results, RunResult, ScenarioName } from '../../bench/result.ts';
import type { ByteSplit, Direction } from '../../bench/wire.ts';
import {
  FORMULAS,
  bytesPerClientSecond,
  bytesPerMessage,
  emptyPollShare,
  hasLatency,
  overheadMultiple,
  serverCpuMicrosPerMessage,
  serverPeakRssMiB,
  tlsBytes,
} from './figures.ts';
import { formatInteger, formatNumber, formatOptional, formatPercent } from './format.ts';
import { bold, bullets, code, table, type Alignment } from './markdown.ts';
import { runsOf } from './runs.ts';
import { ASKED_FORMULAS, DELIVERED_FORMULA, DELIVERED_SHORT_SHARE, askedCell, boundCell, deliveredCell, markDriverBound, runLabel } from './run-bound.ts';

const BYTES_DECIMALS = 1;
const LATENCY_DECIMALS = 3; // the histograms resolve microseconds

/**
 * "total (payload / headers / framing / setup)", the parts in the order of the byte kinds; a run
 * over TLS adds its record layer's part: "total (payload / headers / framing / setup; tls N)".
 */
function splitCell(split: ByteSplit | undefined): string {
  if (split === undefined) return '-';
  const parts = [split.payload, split.headers, split.framing, split.setup].map((bytes) => formatNumber(bytes, BYTES_DECIMALS));
  const tls = tlsBytes(split) > 0 ? `; tls ${formatNumber(tlsBytes(split), BYTES_DECIMALS)}` : '';
  return `${formatNumber(split.total, BYTES_DECIMALS)} (${parts.join(' / ')}${tls})`;
}

function latencyCell(run: CompletedRun): string {
  if (!hasLatency(run)) return '-';
  return markDriverBound(run, [run.latencyMs.p50, run.latencyMs.p99, run.latencyMs.max].map((ms) => formatNumber(ms, LATENCY_DECIMALS)).join(' / '));
}

function lastClientCell(run: CompletedRun): string {
  const last = run.broadcastLastClientMs;
  if (last === undefined || last.count === 0) return '-';
  return `${formatNumber(last.p50, LATENCY_DECIMALS)} / ${formatNumber(last.max, LATENCY_DECIMALS)}`;
}

function emptyPollsCell(run: CompletedRun): string {
  const share = emptyPollShare(run);
  return share === undefined ? '-' : `${formatPercent(share)} (${formatInteger(run.polls.empty)} of ${formatInteger(run.polls.total)})`;
}

function serverCpuCell(run: CompletedRun): string {
  const micros = serverCpuMicrosPerMessage(run);
  return micros === undefined ? '-' : markDriverBound(run, formatNumber(micros, 1));
}

/** Lost / duplicated / reordered; a loss in bold so that it cannot be missed. */
function deliveryCell(run: CompletedRun): string {
  const { lost, duplicated, reordered } = run.messages;
  return `${lost > 0 ? bold(String(lost)) : '0'} / ${duplicated} / ${reordered}`;
}

interface Column {
  title: string;
  align: Alignment;
  cell: (run: CompletedRun) => string;
}

const bytesColumn = (direction: Direction): Column => ({
  title: `${direction}, B/msg: total (payload / headers / framing / setup)`,
  align: 'right',
  cell: (run) => splitCell(bytesPerMessage(run, direction)),
});

const idleBytesColumn = (direction: Direction): Column => ({
  title: `${direction}, B per client per second: total (payload / headers / framing / setup)`,
  align: 'right',
  cell: (run) => splitCell(bytesPerClientSecond(run, direction)),
});

const CONNECTIONS: Column = { title: 'TCP connections per client', align: 'right', cell: (run) => formatNumber(run.connections.perClient, 2) };
const EMPTY_POLLS: Column = { title: 'empty polls', align: 'right', cell: emptyPollsCell };
const SERVER_RSS: Column = { title: 'server peak RSS (MiB)', align: 'right', cell: (run) => formatOptional(serverPeakRssMiB(run), 1) };
const BOUND: Column = { title: 'bound', align: 'left', cell: boundCell };

const MESSAGE_COLUMNS: Column[] = [
  BOUND,
  bytesColumn('up'),
  bytesColumn('down'),
  { title: 'overhead (× payload)', align: 'right', cell: (run) => formatOptional(overheadMultiple(run), 2) },
  CONNECTIONS,
  { title: 'latency p50 / p99 / max (ms)', align: 'right', cell: latencyCell },
  { title: 'msg/s asked', align: 'right', cell: askedCell },
  { title: 'msg/s delivered', align: 'right', cell: deliveredCell },
  EMPTY_POLLS,
  { title: 'server CPU (µs/msg)', align: 'right', cell: serverCpuCell },
  SERVER_RSS,
  { title: 'lost / duplicated / reordered', align: 'right', cell: deliveryCell },
];

const BROADCAST_LAST_CLIENT: Column = { title: 'until the last client has it, p50 / max (ms)', align: 'right', cell: lastClientCell };

const IDLE_COLUMNS: Column[] = [
  BOUND,
  idleBytesColumn('up'),
  idleBytesColumn('down'),
  CONNECTIONS,
  EMPTY_POLLS,
  { title: 'server CPU (s, whole run)', align: 'right', cell: (run) => (run.config.target === undefined ? formatNumber(run.server.cpuSeconds, 3) : '-') },
  SERVER_RSS,
];

function columnsOf(scenario: ScenarioName): Column[] {
  if (scenario === 'idle') return IDLE_COLUMNS;
  if (scenario === 'broadcast') return [...MESSAGE_COLUMNS.slice(0, 6), BROADCAST_LAST_CLIENT, ...MESSAGE_COLUMNS.slice(6)];
  return MESSAGE_COLUMNS;
}

function row(run: RunResult, columns: Column[]): string[] {
  if (run.state === 'failed') return [code(run.id), `${bold('FAILED')}: ${run.error}`];
  return [runLabel(run), ...columns.map((column) => column.cell(run))];
}

function formulasNote(scenario: ScenarioName): string {
  if (scenario === 'idle') {
    return (
      `Computed: B per client per second = ${FORMULAS.bytesPerClientSecond}; empty polls = ${FORMULAS.emptyPolls}. ` +
      'The bound, connections and server figures as measured.'
    );
  }
  return (
    `Computed: B/msg = ${FORMULAS.bytesPerMessage}; overhead = ${FORMULAS.overhead}; empty polls = ${FORMULAS.emptyPolls}; ` +
    `server CPU per message = ${FORMULAS.serverCpuPerMessage}; SHORT when ${DELIVERED_FORMULA} < ${DELIVERED_SHORT_SHARE}. ` +
    'Measured: the bound, connections per client, latency, msg/s asked (what the run asked for; "-" where the clients set their own pace) ' +
    "and msg/s delivered (messages sent in the measured window that arrived, per second: the window cuts each client's stream at its " +
    'two edges, so a client counts one message more or fewer than its rate × the window, and delivered can be a little above asked), ' +
    'server peak RSS, and lost / duplicated / ' +
    `reordered (whole run). Where the results predate the asked rate it is computed from the run's config and says so: push ` +
    `${ASKED_FORMULAS.push}, broadcast ${ASKED_FORMULAS.broadcast}, open-loop echo ${ASKED_FORMULAS.echo}.`
  );
}

/** Everything a reader must not miss about the runs of a table: losses first, in bold, then warnings and client errors. */
function runNotes(runs: readonly RunResult[]): string[] {
  const notes: string[] = [];
  for (const run of runs) {
    if (run.state === 'failed') continue;
    const { lost, expected, clientsWithLoss } = run.messages;
    if (lost > 0) notes.push(bold(`${code(run.id)} LOST ${lost} of ${expected} expected messages (${clientsWithLoss} clients lost at least one)`));
  }
  for (const run of runs) {
    if (run.state === 'failed') continue;
    for (const warning of run.warnings) notes.push(`${code(run.id)}: ${/lost/i.test(warning) ? bold(warning) : warning}`);
    const errors = Object.entries(run.clientErrors);
    if (errors.length > 0)
      notes.push(`${code(run.id)}: clients recovered from errors: ${errors.map(([message, count]) => `${message} (×${count})`).join('; ')}`);
  }
  return notes;
}

/** The scenario's table with its formulas and notes; undefined when the results have no run of it. */
export function scenarioTable(results: Results, scenario: ScenarioName): string | undefined {
  const runs = runsOf(results, scenario);
  if (runs.length === 0) return undefined;
  const columns = columnsOf(scenario);
  const parts = [
    table(
      ['run', ...columns.map((column) => column.title)],
      runs.map((run) => row(run, columns)),
      ['left', ...columns.map((column) => column.align)],
    ),
    formulasNote(scenario),
  ];
  const notes = runNotes(runs);
  if (notes.length > 0) parts.push(`**Warnings** (${scenario}):\n\n${bullets(notes)}`);
  return parts.join('\n\n');
}
