/**
 * Capacity: for each transport, the most clients its server sustained while p99 push latency
 * stayed under the bound, from the ramp of the scale profile (runs of group "capacity"); and the
 * chart of latency against clients with each transport's knee marked.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CompletedRun, Results } from '../../bench/result.ts';
import { TRANSPORTS, type TransportName } from '../../servers/contract.ts';
import type { ChartSpec } from './chart-specs.ts';
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

export function capacitySection(results: Results, chartsDir: string): string | undefined {
  const steps = byTransport(results);
  const boundMs = boundOf(capacityRuns(results));
  if (steps.size === 0 || boundMs === undefined) return undefined;
  const clientCounts = [...new Set([...steps.values()].flat().map((run) => run.clients))].sort((a, b) => a - b);
  const rows = TRANSPORTS.filter((transport) => steps.has(transport)).map((transport) => {
    const runs = steps.get(transport)!;
    const best = knee(runs, boundMs);
    const cells = clientCounts.map((clients) => {
      const run = runs.find((candidate) => candidate.clients === clients);
      return run === undefined ? '-' : formatNumber(run.latencyMs.p99, 1);
    });
    const memory =
      best === undefined
        ? '-'
        : `${formatNumber(best.server.peakRssBytes / MIB, 0)} MiB; ${formatInteger(Math.round(best.server.peakRssBytes / best.clients))} B per client`;
    return [transport, ...cells, best === undefined ? `none (over ${boundMs} ms from the first step)` : formatInteger(best.clients), memory];
  });
  const failed = results.runs.filter((run) => run.state === 'failed' && run.config.group === 'capacity');
  return [
    '## Capacity',
    `Each transport's server under a growing number of clients, each pushed one 1 KiB message a second (short polling every ${formatInteger(
      capacityRuns(results).find((run) => run.transport === 'short-poll')?.config.pollIntervalMs ?? 0,
    )} ms). A transport's ramp stops at its first step whose p99 push latency goes over ${boundMs} ms; its capacity (the knee) is the ` +
      'most clients it kept under the bound (measured). Steps not run are "-". Memory is the server\'s peak resident memory at the knee; per client, computed as peak RSS / clients.',
    table(['transport', ...clientCounts.map((clients) => `p99 (ms) at ${formatInteger(clients)}`), 'capacity (clients)', 'server memory at the knee'], rows, [
      'left',
      ...clientCounts.map(() => 'right' as const),
      'right',
      'left',
    ]),
    ...(failed.length === 0
      ? []
      : ['Steps that failed (a failed step ends the ramp):', bullets(failed.map((run) => `${code(run.id)}: ${run.state === 'failed' ? run.error : ''}`))]),
    image(`p99 push latency against clients, bound ${boundMs} ms`, `${chartsDir}/${CAPACITY_CHART_FILE}`),
  ].join('\n\n');
}
