/**
 * The report's charts as vega-lite specs, built from the results alone (pure). Rendering them
 * to SVG is chart-render.ts's job. Which charts there are is known at once (the markdown links
 * them); a spec's data is built on demand, as reading latency percentiles from the histograms
 * takes a while.
 */
import type { TopLevelSpec } from 'vega-lite';
import { decodeHistogram, percentileCurve } from '../../bench/latency.ts';
import { SCENARIOS, type CompletedRun, type Results, type ScenarioName } from '../../bench/result.ts';
import { TRANSPORTS } from '../../servers/contract.ts';
import { sizeLabel } from '../../bench/scenarios.ts';
import type { ByteKind } from '../../bench/wire.ts';
import { BYTE_KINDS, DIRECTIONS, bandwidthMbps, bytesPerClientSecond, bytesPerMessage, hasLatency, tlsBytes } from './figures.ts';
import { completedRuns } from './runs.ts';
import { capacityChart } from './capacity-section.ts';

export interface ChartSpec {
  fileName: string;
  scenario: ScenarioName;
  /** A chart that belongs to a section of its own rather than to its scenario's. */
  section?: 'capacity';
  title: string;
  /** What the chart shows, for readers who cannot see it. */
  alt: string;
  buildSpec: () => TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const WIDTH = 560;
const HEIGHT = 300;
/** Run ids are long ("push/short-poll/1KiB/c10/r10/i100ms"): let legends and axes show them whole. */
const LABEL_LIMIT = 360;

/**
 * Percentiles placed at 1 / (1 - p): 1 is p0, 10 is p90, 100 is p99, 1000 is p99.9. Eight
 * points per decade up to p99.99, and the percentiles the tables show, each kept only where
 * the run has enough samples to resolve it.
 */
const TAIL_STEPS_PER_DECADE = 8;
const TAIL_DECADES = 4;
const TABLE_PERCENTILES = [50, 90, 99, 99.9, 99.99];
const TAIL_AXIS_VALUES = [1, 2, 10, 100, 1000, 10000];

/** 1 / (1 - p), rounded so that p99 lands on 100 and not on 99.99999999999991. */
function inverseTail(percentile: number): number {
  return Number((1 / (1 - percentile / 100)).toPrecision(10));
}

function curvePercentiles(count: number): number[] {
  const steps = Array.from({ length: TAIL_STEPS_PER_DECADE * TAIL_DECADES + 1 }, (_, step) =>
    Number((100 * (1 - 10 ** (-step / TAIL_STEPS_PER_DECADE))).toPrecision(10)),
  );
  return [...new Set([...steps, ...TABLE_PERCENTILES])].filter((percentile) => inverseTail(percentile) <= count).sort((a, b) => a - b);
}

function runOrder(runs: CompletedRun[]): string[] {
  return runs.map((run) => run.id);
}

function latencyChart(results: Results, scenario: ScenarioName): ChartSpec | undefined {
  const runs = completedRuns(results, { scenario }).filter(hasLatency);
  if (runs.length === 0) return undefined;
  const values = (): object[] =>
    runs.flatMap(
      (run) =>
        percentileCurve(decodeHistogram(run.histogram), curvePercentiles(run.latencyMs.count))
          .map(([percentile, latencyMs]) => ({ run: run.id, percentile, inverseTail: inverseTail(percentile), latencyMs }))
          .filter((point) => point.latencyMs > 0), // a log scale has no zero
    );
  const title = `Latency distribution, ${scenario}`;
  return {
    fileName: `latency-${scenario}.svg`,
    scenario,
    title,
    alt: `${title}: latency in milliseconds against percentile, one line per run`,
    buildSpec: () => ({
      $schema: SCHEMA,
      title,
      width: WIDTH,
      height: HEIGHT,
      data: { values: values() },
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'inverseTail',
          type: 'quantitative',
          scale: { type: 'log' },
          axis: { values: TAIL_AXIS_VALUES, labelExpr: "format(100 - 100 / datum.value, '.4~f') + '%'" },
          title: 'percentile (spaced by 1 / (1 − percentile): the tail gets room)',
        },
        y: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
        color: { field: 'run', type: 'nominal', sort: runOrder(runs), title: 'run', legend: { labelLimit: LABEL_LIMIT } },
      },
    }),
  };
}

function bytesChart(results: Results, scenario: ScenarioName): ChartSpec | undefined {
  const idle = scenario === 'idle';
  const runs = completedRuns(results, { scenario }).filter((run) => idle || run.messages.received > 0);
  if (runs.length === 0) return undefined;
  // TLS's part has a bar segment only where a run has one, so that a plaintext report is as it was.
  const kinds: readonly ByteKind[] = runs.some((run) => DIRECTIONS.some((direction) => tlsBytes(run.bytes[direction]) > 0))
    ? [...BYTE_KINDS, 'tls']
    : BYTE_KINDS;
  const values = runs.flatMap((run) =>
    DIRECTIONS.flatMap((direction) => {
      const split = idle ? bytesPerClientSecond(run, direction) : bytesPerMessage(run, direction);
      return kinds.map((kind, kindOrder) => ({ run: run.id, direction, kind, kindOrder, bytes: split?.[kind] ?? 0 }));
    }),
  );
  const unit = idle ? 'bytes per client per second (B/s, over warm-up + window)' : 'bytes per message (B)';
  const title = idle ? 'Bytes per client per second by kind, idle' : `Bytes per message by kind, ${scenario}`;
  return {
    fileName: `bytes-${scenario}.svg`,
    scenario,
    title,
    alt: `${title}: stacked bars of ${kinds.slice(0, -1).join(', ')} and ${kinds.at(-1) ?? ''}, up and down, one bar per run`,
    buildSpec: () => ({
      $schema: SCHEMA,
      title,
      data: { values },
      width: WIDTH / 2,
      height: { step: 20 },
      mark: 'bar',
      encoding: {
        column: { field: 'direction', type: 'nominal', sort: [...DIRECTIONS], title: 'direction (up: client to server, down: server to client)' },
        y: { field: 'run', type: 'nominal', sort: runOrder(runs), title: 'run', axis: { labelLimit: LABEL_LIMIT } },
        x: { field: 'bytes', type: 'quantitative', stack: 'zero', title: unit },
        color: { field: 'kind', type: 'nominal', scale: { domain: [...kinds] }, title: 'kind of byte' },
        order: { field: 'kindOrder', type: 'quantitative' },
      },
    }),
  };
}

function bandwidthChart(results: Results, scenario: ScenarioName): ChartSpec | undefined {
  const runs = completedRuns(results, { scenario });
  // A log scale cannot place a run that carried nothing (an idle TCP connection sends no byte).
  const plotted = runs.filter((run) => bandwidthMbps(run) > 0);
  if (plotted.length === 0) return undefined;
  const values = plotted.map((run) => ({
    run: run.id,
    transport: run.transport,
    clients: run.clients,
    payload: scenario === 'idle' ? 'none' : sizeLabel(run.config.payloadBytes),
    mbps: bandwidthMbps(run),
  }));
  const transports = TRANSPORTS.filter((transport) => plotted.some((run) => run.transport === transport));
  const left = runs.filter((run) => !plotted.includes(run)).map((run) => run.id);
  const title = `Bandwidth against clients, ${scenario}`;
  return {
    fileName: `bandwidth-${scenario}.svg`,
    scenario,
    title,
    alt: `${title}: average bandwidth of each run, up and down, against its number of clients, one line per transport and payload size`,
    buildSpec: () => ({
      $schema: SCHEMA,
      title: left.length === 0 ? title : { text: title, subtitle: `not plotted, no bytes at all: ${left.join(', ')}` },
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      encoding: {
        x: { field: 'clients', type: 'quantitative', scale: { type: 'log' }, title: 'clients (log scale)' },
        y: { field: 'mbps', type: 'quantitative', scale: { type: 'log' }, title: 'bandwidth, up + down (Mbit/s of 2^20 bit/s, whole run, log scale)' },
        color: { field: 'transport', type: 'nominal', scale: { domain: transports }, title: 'transport' },
      },
      layer: [
        { mark: 'line', encoding: { detail: { field: 'payload', type: 'nominal' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { shape: { field: 'payload', type: 'nominal', title: 'payload' } } },
      ],
    }),
  };
}

/** Every chart the results allow, scenario by scenario. */
export function chartSpecs(results: Results): ChartSpec[] {
  return [
    ...SCENARIOS.flatMap((scenario) => [latencyChart(results, scenario), bytesChart(results, scenario), bandwidthChart(results, scenario)]),
    capacityChart(results),
  ].filter((chart): chart is ChartSpec => chart !== undefined);
}
