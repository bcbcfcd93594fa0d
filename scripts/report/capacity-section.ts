/**
 * Capacity: for each transport, the most clients its server sustained while p99 push latency
 * stayed under the bound, from the ramp of the scale profile (runs of group "capacity"); and the
 * chart of latency against clients with each transport's knee marked.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CompletedRun, Results } from '../../bench/result.ts';
import { sizeLabel } from '../../bench/scenarios.ts';
import { TRANSPORTS, type TransportName } from '../../servers/contract.ts';
import type { ChartSpec } from './chart-specs.ts';
import { FORMULAS, fitLine } from './figures.ts';
import { formatInteger, formatNumber } from './format.ts';
import { bullets, code, image, table } from './markdown.ts';

const MIB = 1024 * 1024;

function capacityRuns(results: Results): CompletedRun[] {
  return results.runs.filter((run): run is CompletedRun => run.state === 'completed' && run.config.group === 'capacity');
}

function boundOf(runs: CompletedRun[]): number | undefined {
  return runs.find((run) => run.config.latencyBoundMs !== undefined)?.config.latencyBoundMs;
}

/** The step with the most clients whose p99 stayed under the bound: the knee. */
function knee(runs: CompletedRun[], boundMs: number): CompletedRun | undefined {
  return runs.filter((run) => run.latencyMs.p99 <= boundMs).sort((a, b) => b.clients - a.clients)[0];
}

function byTransport(results: Results): Map<TransportName, CompletedRun[]> {
  const map = new Map<TransportName, CompletedRun[]>();
  for (const run of capacityRuns(results))
    map.set(
      run.transport,
      [...(map.get(run.transport) ?? []), run].sort((a, b) => a.clients - b.clients),
    );
  return map;
}

export const CAPACITY_CHART_FILE = 'capacity-latency-by-clients.svg';

export function capacityChart(results: Results): ChartSpec | undefined {
  const runs = capacityRuns(results);
  const boundMs = boundOf(runs);
  if (runs.length === 0 || boundMs === undefined) return undefined;
  const knees = new Set([...byTransport(results).values()].map((steps) => knee(steps, boundMs)?.id));
  const title = `Push latency (p99) against clients; the bound is ${boundMs} ms`;
  return {
    fileName: CAPACITY_CHART_FILE,
    scenario: 'push',
    section: 'capacity',
    title,
    alt: `Line chart: p99 push latency in milliseconds against the number of clients, one line per transport, a rule at ${boundMs} ms and each transport's knee marked.`,
    buildSpec: (): TopLevelSpec => ({
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title,
      width: 560,
      height: 300,
      layer: [
        {
          data: {
            values: runs.map((run) => ({
              transport: run.transport,
              clients: run.clients,
              p99Ms: Math.max(run.latencyMs.p99, 0.001),
              knee: knees.has(run.id) ? 'knee' : 'step',
            })),
          },
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'clients', type: 'quantitative', scale: { type: 'log' }, title: 'clients (log scale)' },
                y: { field: 'p99Ms', type: 'quantitative', scale: { type: 'log' }, title: 'p99 push latency (ms, log scale)' },
                color: { field: 'transport', type: 'nominal', sort: [...TRANSPORTS], title: 'transport' },
              },
            },
            {
              transform: [{ filter: "datum.knee === 'knee'" }],
              mark: { type: 'point', shape: 'diamond', size: 160, filled: true },
              encoding: {
                x: { field: 'clients', type: 'quantitative' },
                y: { field: 'p99Ms', type: 'quantitative' },
                color: { field: 'transport', type: 'nominal', sort: [...TRANSPORTS], title: 'transport' },
                shape: { field: 'knee', type: 'nominal', title: 'marked', legend: { values: ['knee'] } },
              },
            },
          ],
        },
        {
          data: { values: [{ boundMs }] },
          mark: { type: 'rule', strokeDash: [6, 4] },
          encoding: { y: { field: 'boundMs', type: 'quantitative' } },
        },
      ],
    }),
  };
}

/** "1 message of 1KiB a second": what each client was pushed, read from the runs' config. */
function pushLoad(runs: CompletedRun[]): string {
  const loads = [...new Set(runs.map((run) => `${run.config.pushRatePerSecond}|${run.config.payloadBytes}`))].map((key) => key.split('|').map(Number));
  return loads
    .map(([rate = 0, bytes = 0]) => `${formatNumber(rate, Number.isInteger(rate) ? 0 : 2)} message${rate === 1 ? '' : 's'} of ${sizeLabel(bytes)} a second`)
    .join(' or ');
}

/** The steps with the server's own figures (not those of a server the suite did not start). */
function memorySteps(runs: CompletedRun[]): CompletedRun[] {
  return runs.filter((run) => run.config.target === undefined);
}

function memoryRow(transport: TransportName, runs: CompletedRun[], best: CompletedRun | undefined): string[] {
  const steps = memorySteps(runs);
  const fit = fitLine(steps.map((run) => [run.clients, run.server.peakRssBytes] as const));
  const average =
    best === undefined || best.config.target !== undefined
      ? '-'
      : `${formatInteger(Math.round(best.server.peakRssBytes / best.clients))} (${formatNumber(best.server.peakRssBytes / MIB, 0)} MiB / ${formatInteger(best.clients)})`;
  if (fit === undefined) {
    const why = steps.length < 2 ? `${steps.length === 1 ? 'one step' : 'no step'}: no slope` : 'every step had the same clients: no slope';
    return [transport, formatInteger(steps.length), why, '-', '-', average];
  }
  const rSquared =
    fit.rSquared === undefined ? '-' : fit.points === 2 ? `${formatNumber(fit.rSquared, 3)} (two steps: 1 by construction)` : formatNumber(fit.rSquared, 3);
  return [transport, formatInteger(fit.points), formatInteger(Math.round(fit.slope)), formatNumber(fit.intercept / MIB, 1), rSquared, average];
}

export function capacitySection(results: Results, chartsDir: string): string | undefined {
  const steps = byTransport(results);
  const boundMs = boundOf(capacityRuns(results));
  if (steps.size === 0 || boundMs === undefined) return undefined;
  const clientCounts = [...new Set([...steps.values()].flat().map((run) => run.clients))].sort((a, b) => a - b);
  const transports = TRANSPORTS.filter((transport) => steps.has(transport));
  const rows = transports.map((transport) => {
    const runs = steps.get(transport)!;
    const best = knee(runs, boundMs);
    const cells = clientCounts.map((clients) => {
      const run = runs.find((candidate) => candidate.clients === clients);
      return run === undefined ? '-' : formatNumber(run.latencyMs.p99, 1);
    });
    const memory = best === undefined || best.config.target !== undefined ? '-' : formatNumber(best.server.peakRssBytes / MIB, 0);
    return [transport, ...cells, best === undefined ? `none (over ${boundMs} ms from the first step)` : formatInteger(best.clients), memory];
  });
  const memoryRows = transports.map((transport) => {
    const runs = steps.get(transport)!;
    return memoryRow(transport, runs, knee(runs, boundMs));
  });
  const failed = results.runs.filter((run) => run.state === 'failed' && run.config.group === 'capacity');
  return [
    '## Capacity',
    `Each transport's server under a growing number of clients, each pushed ${pushLoad(capacityRuns(results))} (short polling every ${formatInteger(
      capacityRuns(results).find((run) => run.transport === 'short-poll')?.config.pollIntervalMs ?? 0,
    )} ms). A transport's ramp stops at its first step whose p99 push latency goes over ${boundMs} ms; its capacity (the knee) is the ` +
      'most clients it kept under the bound (measured). Steps not run are "-". Memory at the knee is the server\'s peak resident memory (RSS) there (measured).',
    table(
      ['transport', ...clientCounts.map((clients) => `p99 (ms) at ${formatInteger(clients)}`), 'capacity (clients)', 'server peak RSS at the knee (MiB)'],
      rows,
      ['left', ...clientCounts.map(() => 'right' as const), 'right', 'right'],
    ),
    "**Memory per connection** is the slope of the server's peak RSS against its clients over every completed step of the ramp (over the bound " +
      "or not), and the **baseline** is the line's intercept: what the server holds with no client, Node and the module loader included " +
      `(computed: x the clients and y the peak RSS of each step, ${FORMULAS.leastSquares}). R² says how well a line fits the steps. ` +
      'The average (peak RSS / clients at the knee) puts the whole baseline on the clients: it is shown only beside the slope, and is not the cost of a connection.',
    table(
      [
        'transport',
        'steps fitted',
        'memory per connection (B per client, computed: slope)',
        'baseline (MiB, computed: intercept)',
        'fit (R², computed)',
        'average at the knee, baseline included (B per client, computed: peak RSS / clients)',
      ],
      memoryRows,
      ['left', 'right', 'right', 'right', 'right', 'right'],
    ),
    ...(failed.length === 0
      ? []
      : ['Steps that failed (a failed step ends the ramp):', bullets(failed.map((run) => `${code(run.id)}: ${run.state === 'failed' ? run.error : ''}`))]),
    image(`p99 push latency against clients, bound ${boundMs} ms`, `${chartsDir}/${CAPACITY_CHART_FILE}`),
  ].join('\n\n');
}
