/**
 * Two results files side by side: runs matched by id, each figure with its change, runs added or
 * removed, and both environments (a change of machine or of Node explains many a change).
 */
import { SCENARIOS, type CompletedRun, type Results, type RunResult } from '../../bench/result.ts';
import {
  bandwidthMbps,
  bytesPerClientSecond,
  bytesPerMessage,
  emptyPollShare,
  hasLatency,
  headersFramingPerMessage,
  overheadMultiple,
  serverCpuMicrosPerMessage,
  serverPeakRssMiB,
} from './figures.ts';
import { formatNumber, formatSigned } from './format.ts';
import { bold, bullets, code, table } from './markdown.ts';
import { pinningLine } from './method.ts';
import { sortRuns } from './runs.ts';
import { boundCell } from './run-bound.ts';

export interface CompareLabels {
  /** The earlier run, say its results file's path. */
  a: string;
  b: string;
}

interface Figure {
  name: string;
  decimals: number;
  /** undefined where the figure does not apply to the run. */
  value: (run: CompletedRun) => number | undefined;
}

const latency = (pick: (run: CompletedRun) => number) => (run: CompletedRun) => (hasLatency(run) ? pick(run) : undefined);
const idleOnly = (pick: (run: CompletedRun) => number) => (run: CompletedRun) => (run.scenario === 'idle' ? pick(run) : undefined);

/** The figures compared, in the order of the report's tables. */
const COMPARED_FIGURES: readonly Figure[] = [
  { name: 'B/msg up, total', decimals: 1, value: (run) => bytesPerMessage(run, 'up')?.total },
  { name: 'B/msg down, total', decimals: 1, value: (run) => bytesPerMessage(run, 'down')?.total },
  { name: 'B per client per second up (idle)', decimals: 1, value: idleOnly((run) => bytesPerClientSecond(run, 'up').total) },
  { name: 'B per client per second down (idle)', decimals: 1, value: idleOnly((run) => bytesPerClientSecond(run, 'down').total) },
  { name: 'headers + framing per message (B)', decimals: 1, value: (run) => headersFramingPerMessage(run) },
  { name: 'overhead (× payload)', decimals: 2, value: overheadMultiple },
  { name: 'TCP connections per client', decimals: 2, value: (run) => run.connections.perClient },
  { name: 'latency p50 (ms)', decimals: 3, value: latency((run) => run.latencyMs.p50) },
  { name: 'latency p99 (ms)', decimals: 3, value: latency((run) => run.latencyMs.p99) },
  { name: 'latency max (ms)', decimals: 3, value: latency((run) => run.latencyMs.max) },
  { name: 'msg/s', decimals: 1, value: (run) => (run.scenario === 'idle' ? undefined : run.throughput.messagesPerSecond) },
  { name: 'empty polls (%)', decimals: 1, value: (run) => ((share) => (share === undefined ? undefined : share * 100))(emptyPollShare(run)) },
  { name: 'server CPU (µs/msg)', decimals: 1, value: serverCpuMicrosPerMessage },
  { name: 'server peak RSS (MiB)', decimals: 1, value: serverPeakRssMiB },
  { name: 'bandwidth up + down (Mbps, whole run)', decimals: 3, value: bandwidthMbps },
  { name: 'lost', decimals: 0, value: (run) => run.messages.lost },
  { name: 'duplicated', decimals: 0, value: (run) => run.messages.duplicated },
  { name: 'reordered', decimals: 0, value: (run) => run.messages.reordered },
];

interface FigureChange {
  figure: string;
  a: number | undefined;
  b: number | undefined;
  /** b − a, when both exist. */
  change: number | undefined;
  /** (b − a) / |a| × 100, when both exist and a is not 0. */
  changePercent: number | undefined;
}

/** Every figure of two completed runs that applies to at least one of them. */
function compareRuns(a: CompletedRun, b: CompletedRun): FigureChange[] {
  return COMPARED_FIGURES.map((figure) => {
    const before = figure.value(a);
    const after = figure.value(b);
    const change = before === undefined || after === undefined ? undefined : after - before;
    const changePercent = change === undefined || before === undefined || before === 0 ? undefined : (change / Math.abs(before)) * 100;
    return { figure: figure.name, a: before, b: after, change, changePercent };
  }).filter((row) => row.a !== undefined || row.b !== undefined);
}

function decimalsOf(name: string): number {
  return COMPARED_FIGURES.find((figure) => figure.name === name)?.decimals ?? 1;
}

function optional(value: number | undefined, decimals: number, format: (value: number, decimals: number) => string = formatNumber): string {
  return value === undefined ? '-' : format(value, decimals);
}

function runRows(a: RunResult, b: RunResult): string[][] {
  if (a.state === 'failed' || b.state === 'failed') {
    const state = (run: RunResult): string => (run.state === 'failed' ? `${bold('FAILED')}: ${run.error}` : 'completed');
    return [[code(a.id), 'state', state(a), state(b), '', '']];
  }
  const boundA = boundCell(a);
  const boundB = boundCell(b);
  const bound = [code(a.id), 'bound', boundA, boundB, boundA === boundB ? 'same' : bold('changed'), '-'];
  return [
    bound,
    ...compareRuns(a, b).map((row) => {
      const decimals = decimalsOf(row.figure);
      return [
        '',
        row.figure,
        optional(row.a, decimals),
        optional(row.b, decimals),
        optional(row.change, decimals, formatSigned),
        row.changePercent === undefined ? '-' : `${formatSigned(row.changePercent, 1)}%`,
      ];
    }),
  ];
}

function environmentTable(a: Results, b: Results, labels: CompareLabels): string {
  const describe = (results: Results): [string, string][] => [
    ['command', code(results.environment.command)],
    ['started', results.environment.startedAt],
    ['finished', results.finishedAt],
    ['git commit', code(results.environment.gitCommit)],
    ['Node', results.environment.node],
    ['CPU', results.environment.cpuModel],
    ['cores', String(results.environment.cores)],
    ['memory (bytes)', formatNumber(results.environment.totalMemoryBytes, 0)],
    ['OS', results.environment.os],
    [
      'packages',
      Object.entries(results.environment.packages)
        .map(([name, version]) => `${name} ${version}`)
        .join(', '),
    ],
    ['CPU pinning', pinningLine(results)],
    ['suite', code(JSON.stringify(results.suite))],
  ];
  const before = describe(a);
  const after = describe(b);
  return table(
    ['', labels.a, labels.b, 'same?'],
    before.map(([field, value], index) => {
      const other = after[index]?.[1] ?? '';
      return [field, value, other, value === other ? 'yes' : bold('no')];
    }),
  );
}

export function renderCompare(a: Results, b: Results, labels: CompareLabels): string {
  const idsA = new Set(a.runs.map((run) => run.id));
  const idsB = new Set(b.runs.map((run) => run.id));
  const removed = sortRuns(a.runs.filter((run) => !idsB.has(run.id)));
  const added = sortRuns(b.runs.filter((run) => !idsA.has(run.id)));
  const byId = new Map(b.runs.map((run) => [run.id, run]));
  const sections = SCENARIOS.flatMap((scenario) => {
    const rows = sortRuns(a.runs.filter((run) => run.scenario === scenario && byId.has(run.id))).flatMap((run) => runRows(run, byId.get(run.id) ?? run));
    if (rows.length === 0) return [];
    return [
      `### ${scenario}`,
      table(['run', 'figure', labels.a, labels.b, 'change (computed: B − A)', 'change % (computed: (B − A) / |A|)'], rows, [
        'left',
        'left',
        'right',
        'right',
        'right',
        'right',
      ]),
    ];
  });
  const list = (runs: RunResult[]): string => (runs.length === 0 ? 'none.' : `\n\n${bullets(runs.map((run) => code(run.id)))}`);
  return `${[
    '# wirecost: two runs compared',
    `A is ${code(labels.a)}, B is ${code(labels.b)}. Runs are matched by id; every figure is computed for each run as in the report ` +
      '(see its Method and table notes), and the change is B − A.',
    '## Environments',
    environmentTable(a, b, labels),
    '## Runs',
    `Only in A (removed): ${list(removed)}`,
    `Only in B (added): ${list(added)}`,
    ...(sections.length === 0 ? ['No run is in both.'] : sections),
  ].join('\n\n')}\n`;
}
