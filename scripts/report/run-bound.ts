/**
 * Which side limited a run, as the report shows it: the bound the engine recorded
 * (bench/bound.ts decides it, the report only reads it), the marker that flags a driver-bound
 * figure wherever it appears, and what a run asked for beside what it delivered.
 */
import { DELIVERED_SHORT } from '../../bench/bound.ts';
import { SATURATED } from '../../bench/bound.ts';
import type { BoundSide, CompletedRun, RunResult } from '../../bench/result.ts';
import { formatInteger, formatNumber, formatPercent } from './format.ts';
import { bold, code } from './markdown.ts';

/** Follows every driver-bound run and figure in the report. */
export const DRIVER_BOUND_MARK = '⚠';

/** A run that delivered less than this share of the messages a second it asked for says so in its row (the engine's own rule). */
export const DELIVERED_SHORT_SHARE = DELIVERED_SHORT;

export interface RunBoundView {
  /** The recorded side; undefined in results older than the field. */
  side: BoundSide | undefined;
  /** The driver was the limit: by the recorded bound, or (older results) by `driver.saturated`. */
  driverBound: boolean;
}

export function runBound(run: CompletedRun): RunBoundView {
  if (run.bound !== undefined) return { side: run.bound.side, driverBound: run.bound.side === 'driver' };
  return { side: undefined, driverBound: run.driver.saturated };
}

export function isDriverBound(run: RunResult): boolean {
  return run.state === 'completed' && runBound(run).driverBound;
}

/** The one explanation of the marker, for the top of the report. */
export const DRIVER_BOUND_NOTE =
  `${DRIVER_BOUND_MARK} marks a **driver-bound** run and its figures: the load generator's event loop was ${formatPercent(SATURATED, 0)} busy or ` +
  "more over the window, so the run's latency, msg/s and server CPU per message measure the driver, not the server or the transport " +
  '(its bytes per message still hold: bytes are bytes). Every table that shows a run says its **bound**, the side that was its limit: ' +
  '*server*, *driver*, *link* (the emulated link was full), *machine* (open files or local ports ran out) or *none* (no side was ' +
  "saturated: the scenario's own rate set the pace); the Method says how it is decided. Only a server-bound figure is a server's capacity.";

/** The bound cell of a run's row: the side, bold and marked when it is the driver. */
export function boundCell(run: RunResult): string {
  if (run.state === 'failed') return '-';
  const view = runBound(run);
  if (view.side === undefined) return view.driverBound ? `not recorded; ${bold('driver saturated')} ${DRIVER_BOUND_MARK}` : 'not recorded';
  if (view.side === 'driver') return `${bold('driver')} ${DRIVER_BOUND_MARK}`;
  if (view.side === 'machine') return bold('machine');
  return view.side;
}

/** `text` followed by the marker when the run is driver-bound. */
export function markDriverBound(run: RunResult, text: string): string {
  return isDriverBound(run) ? `${text} ${DRIVER_BOUND_MARK}` : text;
}

/** The run's id as a table shows it: in code, marked when driver-bound. */
export function runLabel(run: RunResult): string {
  return markDriverBound(run, code(run.id));
}

/** The bound in words for a sentence: "driver-bound ⚠ (the driver's event loop was 97% busy …)". */
export function boundText(run: CompletedRun): string {
  if (run.bound === undefined) {
    return run.driver.saturated ? `driver saturated ${DRIVER_BOUND_MARK} (its bound was not recorded)` : 'bound not recorded';
  }
  const side = run.bound.side === 'none' ? 'no side saturated' : `${run.bound.side}-bound`;
  return `${side}${run.bound.side === 'driver' ? ` ${DRIVER_BOUND_MARK}` : ''} (${run.bound.reason})`;
}

/** What a run asked for, a second: as recorded, or (older results) computed from its config with the formula. */
export interface AskedRate {
  perSecond: number;
  /** The formula, when the results did not record the rate and the report computed it. */
  computed?: string;
}

/** The formulas for results older than `throughput.offeredPerSecond`: the engine's own rule, from the run's config. */
export const ASKED_FORMULAS = {
  push: 'clients × push rate',
  broadcast: 'clients × broadcast events / window seconds',
  echo: 'the open-loop target rate',
} as const;

/** What the run asked for; undefined where the clients set their own pace (closed-loop echo, idle). */
export function askedRate(run: CompletedRun): AskedRate | undefined {
  const offered = run.throughput.offeredPerSecond;
  if (offered !== undefined) return { perSecond: offered };
  const { config } = run;
  if (run.scenario === 'push') return { perSecond: config.clients * config.pushRatePerSecond, computed: ASKED_FORMULAS.push };
  if (run.scenario === 'broadcast' && config.durationSeconds > 0) {
    return { perSecond: (config.clients * config.broadcastEvents) / config.durationSeconds, computed: ASKED_FORMULAS.broadcast };
  }
  if (run.scenario === 'echo' && config.targetRatePerSecond > 0) return { perSecond: config.targetRatePerSecond, computed: ASKED_FORMULAS.echo };
  return undefined;
}

/** Delivered over asked (computed); undefined where the run asked for no rate. */
export function deliveredShare(run: CompletedRun): number | undefined {
  const asked = askedRate(run);
  return asked === undefined || asked.perSecond === 0 ? undefined : run.throughput.messagesPerSecond / asked.perSecond;
}

export const DELIVERED_FORMULA = 'msg/s delivered / msg/s asked';

function rateText(perSecond: number): string {
  return formatNumber(perSecond, Number.isInteger(perSecond) ? 0 : 1);
}

/** The asked cell: the rate, "(computed)" where older results did not record it, "-" where the clients set their own pace. */
export function askedCell(run: CompletedRun): string {
  const asked = askedRate(run);
  if (asked === undefined) return '-';
  return asked.computed === undefined ? rateText(asked.perSecond) : `${rateText(asked.perSecond)} (computed)`;
}

/** What a run delivered short of what it asked, in words, or undefined when it delivered at least DELIVERED_SHORT_SHARE. */
export function shortfallText(run: CompletedRun): string | undefined {
  const share = deliveredShare(run);
  if (share === undefined || share >= DELIVERED_SHORT_SHARE) return undefined;
  const asked = askedRate(run);
  return (
    `delivered ${formatInteger(run.throughput.messagesPerSecond)} of the ${formatInteger(asked?.perSecond ?? 0)} messages a second ` +
    `it asked for (${formatPercent(share)}, computed: ${DELIVERED_FORMULA}${asked?.computed === undefined ? '' : `; asked computed: ${asked.computed}`})`
  );
}

/** The delivered msg/s cell: the figure, a bold note when it fell short of what was asked, the marker when driver-bound. */
export function deliveredCell(run: CompletedRun): string {
  const share = deliveredShare(run);
  const figure = formatNumber(run.throughput.messagesPerSecond, 1);
  const text = share !== undefined && share < DELIVERED_SHORT_SHARE ? `${figure} ${bold(`SHORT: ${formatPercent(share)} of what it asked`)}` : figure;
  return markDriverBound(run, text);
}
