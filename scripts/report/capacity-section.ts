/**
 * Capacity: for each transport, how its ramp of the scale profile (runs of group "capacity")
 * ended, labelled by bench/capacity.ts's rule: a capacity (the most clients its server sustained
 * while p99 push latency stayed under the bound) only where the step that broke the bound was
 * server-bound; a ramp a saturated driver or a machine limit stopped says so, and one that
 * reached its last step gives a lower bound. The chart marks knees only for true capacities.
 */
import type { TopLevelSpec } from 'vega-lite';
import { rampOutcome, type RampOutcome } from '../../bench/capacity.ts';
import type { CompletedRun, Results, RunResult } from '../../bench/result.ts';
import { sizeLabel } from '../../bench/scenarios.ts';
import { TRANSPORTS, type TransportName } from '../../servers/contract.ts';
import type { ChartSpec } from './chart-specs.ts';
import { FORMULAS, fitLine } from './figures.ts';
import { formatInteger, formatNumber } from './format.ts';
import { bold, bullets, code, image, table } from './markdown.ts';
import { DRIVER_BOUND_MARK, isDriverBound, markDriverBound } from './run-bound.ts';

const MIB = 1024 * 1024;

function capacityRuns(results: Results): CompletedRun[] {
  return results.runs.filter((run): run is CompletedRun => run.state === 'completed' && run.config.group === 'capacity');
}

function boundOf(runs: RunResult[]): number | undefined {
  return runs.find((run) => run.config.latencyBoundMs !== undefined)?.config.latencyBoundMs;
}

/** Every step of each transport's ramp, failed ones included, fewest clients first (the order they ran). */
function byTransport(results: Results): Map<TransportName, RunResult[]> {
  const map = new Map<TransportName, RunResult[]>();
  for (const run of results.runs.filter((candidate) => candidate.config.group === 'capacity')) {
    map.set(
      run.transport,
      [...(map.get(run.transport) ?? []), run].sort((a, b) => a.config.clients - b.config.clients),
    );
  }
  return map;
}

function completedStep(steps: RunResult[], clients: number | undefined): CompletedRun | undefined {
  const step = steps.find((run) => run.config.clients === clients);
  return step?.state === 'completed' ? step : undefined;
}

/** The step a true capacity rests on (the most clients held before a server-bound step broke the bound); undefined for any other end. */
function capacityStep(steps: RunResult[], outcome: RampOutcome): CompletedRun | undefined {
  return outcome.end === 'capacity' ? completedStep(steps, outcome.heldClients) : undefined;
}

interface Ramp {
  transport: TransportName;
  steps: RunResult[];
  outcome: RampOutcome;
}

function ramps(results: Results): Ramp[] {
  const steps = byTransport(results);
  const boundMs = boundOf(results.runs.filter((run) => run.config.group === 'capacity'));
  if (boundMs === undefined) return [];
  return TRANSPORTS.filter((transport) => steps.has(transport)).map((transport) => {
    const transportSteps = steps.get(transport)!;
    return { transport, steps: transportSteps, outcome: rampOutcome(transportSteps, boundMs) };
  });
}

export const CAPACITY_CHART_FILE = 'capacity-latency-by-clients.svg';

export function capacityChart(results: Results): ChartSpec | undefined {
  const runs = capacityRuns(results);
  const boundMs = boundOf(runs);
  if (runs.length === 0 || boundMs === undefined) return undefined;
  const knees = new Set(ramps(results).map((ramp) => capacityStep(ramp.steps, ramp.outcome)?.id));
  const marked = (run: CompletedRun): string => (knees.has(run.id) ? 'capacity (knee)' : isDriverBound(run) ? 'driver-bound' : 'step');
  const title = `Push latency (p99) against clients; the bound is ${boundMs} ms`;
  return {
    fileName: CAPACITY_CHART_FILE,
    scenario: 'push',
    section: 'capacity',
    title,
    alt:
      `Line chart: p99 push latency in milliseconds against the number of clients, one line per transport, a rule at ${boundMs} ms, ` +
      'a diamond at the knee of each transport that has a capacity and a cross on each driver-bound step.',
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
              marked: marked(run),
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
              transform: [{ filter: "datum.marked !== 'step'" }],
              mark: { type: 'point', size: 160, filled: true },
              encoding: {
                x: { field: 'clients', type: 'quantitative' },
                y: { field: 'p99Ms', type: 'quantitative' },
                color: { field: 'transport', type: 'nominal', sort: [...TRANSPORTS], title: 'transport' },
                shape: {
                  field: 'marked',
                  type: 'nominal',
                  title: 'marked',
                  scale: { domain: ['capacity (knee)', 'driver-bound'], range: ['diamond', 'cross'] },
                },
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

/**
 * A step's y for the memory line: its peak RSS; where the ramp's steps differ in server processes
 * (each holds a Node of its own), the growth over the RSS before the clients connected, so that
 * a step's extra workers are not taken for its clients' memory.
 */
function memoryOf(steps: CompletedRun[], run: CompletedRun): number {
  const layouts = new Set(steps.map((step) => step.server.workers?.length ?? 1));
  const growth = layouts.size > 1 && steps.every((step) => step.server.rssBeforeClientsBytes !== undefined);
  return growth ? run.server.peakRssBytes - run.server.rssBeforeClientsBytes! : run.server.peakRssBytes;
}

/** `best`: the step with the most clients held under the bound, whatever ended the ramp. */
function memoryRow(transport: TransportName, runs: CompletedRun[], best: CompletedRun | undefined): string[] {
  const steps = memorySteps(runs);
  const fit = fitLine(steps.map((run) => [run.clients, memoryOf(steps, run)] as const));
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

/** A step's p99 in the ramp table: marked when driver-bound, FAILED when it failed. */
function stepCell(step: RunResult | undefined): string {
  if (step === undefined) return '-';
  if (step.state === 'failed') return bold('FAILED');
  return markDriverBound(step, formatNumber(step.latencyMs.p99, 1));
}

/** The outcome in words, bold when it is no capacity because a side other than the server stopped it. */
function outcomeCell(outcome: RampOutcome): string {
  const marked = outcome.end === 'driver' ? `${outcome.text} ${DRIVER_BOUND_MARK}` : outcome.text;
  return outcome.end === 'driver' || outcome.end === 'machine' || outcome.end === 'failed' ? bold(marked) : marked;
}

function capacityCell(outcome: RampOutcome): string {
  if (outcome.end !== 'capacity') return '-';
  return outcome.heldClients === undefined ? `fewer than ${formatInteger(outcome.stoppedAtClients ?? 0)}` : formatInteger(outcome.heldClients);
}

export function capacitySection(results: Results, chartsDir: string): string | undefined {
  const transportRamps = ramps(results);
  const boundMs = boundOf(results.runs.filter((run) => run.config.group === 'capacity'));
  if (transportRamps.length === 0 || boundMs === undefined) return undefined;
  const clientCounts = [...new Set(transportRamps.flatMap((ramp) => ramp.steps.map((run) => run.config.clients)))].sort((a, b) => a - b);
  const rows = transportRamps.map(({ transport, steps, outcome }) => {
    const cells = clientCounts.map((clients) => stepCell(steps.find((candidate) => candidate.config.clients === clients)));
    const capacity = capacityStep(steps, outcome);
    const memory = capacity === undefined || capacity.config.target !== undefined ? '-' : formatNumber(capacity.server.peakRssBytes / MIB, 0);
    return [transport, ...cells, outcomeCell(outcome), capacityCell(outcome), memory];
  });
  const memoryRows = transportRamps.map(({ transport, steps, outcome }) => {
    const completed = steps.filter((run): run is CompletedRun => run.state === 'completed');
    return memoryRow(transport, completed, completedStep(steps, outcome.heldClients));
  });
  const failed = transportRamps.flatMap((ramp) => ramp.steps).filter((run) => run.state === 'failed');
  const unrecorded = capacityRuns(results).some((run) => run.bound === undefined);
  return [
    '## Capacity',
    `Each transport's server under a growing number of clients, each pushed ${pushLoad(capacityRuns(results))} (short polling every ${formatInteger(
      capacityRuns(results).find((run) => run.transport === 'short-poll')?.config.pollIntervalMs ?? 0,
    )} ms). A ramp stops at its first step whose p99 push latency goes over ${boundMs} ms, or whose bound is the driver, the machine ` +
      'or the link (`bench/capacity.ts` decides, and the report only reads). A transport has a **capacity** only when the step that broke ' +
      'the latency bound was server-bound: its capacity is then the most clients it kept under the bound (measured), its knee. A ramp ' +
      `that a saturated driver stopped is **driver-bound** (${DRIVER_BOUND_MARK}): the server's capacity is not known, only that it held ` +
      'the steps before; one that a machine limit stopped says so; one that reached its last step says the capacity is at least that. ' +
      'Steps not run are "-". Memory at the capacity is the server\'s peak resident memory (RSS) at the knee (measured).',
    ...(unrecorded
      ? [
          'These results predate the recorded bound: a step counts as driver-bound where its `driver.saturated` says so, and no step can ' +
            'be shown to be server-bound, so no ramp here gives a capacity.',
        ]
      : []),
    table(
      [
        'transport',
        ...clientCounts.map((clients) => `p99 (ms) at ${formatInteger(clients)}`),
        'how the ramp ended',
        'capacity (clients)',
        'server peak RSS at the capacity (MiB)',
      ],
      rows,
      ['left', ...clientCounts.map(() => 'right' as const), 'left', 'right', 'right'],
    ),
    "**Memory per connection** is the slope of the server's peak RSS against its clients over every completed step of the ramp (over the bound " +
      "or not), and the **baseline** is the line's intercept: what the server holds with no client, Node and the module loader included " +
      `(computed: x the clients and y the peak RSS of each step, ${FORMULAS.leastSquares}). R² says how well a line fits the steps. ` +
      'The average (peak RSS / clients at the most clients held under the bound) puts the whole baseline on the clients: it is shown only ' +
      'beside the slope, and is not the cost of a connection. Where the steps of a ramp ran on different numbers of server processes (each ' +
      'worker a Node of its own), y is the growth of the peak RSS over the RSS before the clients connected, and the baseline is then near 0.',
    table(
      [
        'transport',
        'steps fitted',
        'memory per connection (B per client, computed: slope)',
        'baseline (MiB, computed: intercept)',
        'fit (R², computed)',
        'average at the most clients held, baseline included (B per client, computed: peak RSS / clients)',
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
