/**
 * What a placeholder of the guide's template can name: a figure of one run, of the results
 * (environment, real browser, micro-benchmarks), or one computed from others, each with its
 * formula. Every figure is computed as the report computes it (scripts/report/figures.ts) and
 * formatted as the report formats it (scripts/report/format.ts). A run, a field or a case the
 * results do not have is an error that names it: a figure is never guessed.
 */
import { frameOverheadBytes, pollOverheadBytes } from '../report/kaazing.ts';
import { isDriverBound } from '../report/run-bound.ts';
import type { CompletedRun, FirstMessage, Results, RunResult } from '../../bench/result.ts';
import type { ByteKind, Direction } from '../../bench/wire.ts';
import type { TransportName } from '../../servers/contract.ts';
import { browserFigures, browserHttp2Figures, browserPollBytes, browserState } from '../report/browser.ts';
import { LATER_INDEX, overheadPerMessage, setupPerConnection } from '../report/protocols-section.ts';
import {
  BITS_PER_MEGABIT,
  FORMULAS,
  bytesPerClientSecond,
  bytesPerMessage,
  emptyPollShare,
  overheadMultiple,
  serverCpuMicrosPerMessage,
} from '../report/figures.ts';
import { formatNumber, formatPercent, formatSignificant } from '../report/format.ts';
import { framingClaim } from '../report/framing-claim.ts';
import { code } from '../report/markdown.ts';
import { decodedSample } from '../report/samples.ts';
import { GuideError, type Argument, type Expression } from './expression.ts';

/** How a number is written: decimals, significant digits (as the report's µs and Mbps), or a percentage. */
export type NumberFormat = { decimals: number } | { significant: number } | { percent: number };

export interface NumberFigure {
  kind: 'number';
  value: number;
  format: NumberFormat;
  /** The runs a latency, throughput or server CPU figure comes from: a driver-bound one is said beside it. */
  boundRuns: CompletedRun[];
}

export interface TextFigure {
  kind: 'text';
  text: string;
}

export type Figure = NumberFigure | TextFigure;

export interface GuideContext {
  results: Results;
  /** The results file as the guide names it (reports/sample/results.json). */
  resultsName: string;
}

/** The options a placeholder may end with. */
export interface FigureOptions {
  decimals?: number;
  significant?: number;
  unit?: string;
}

const OPTION_NAMES = ['decimals', 'significant', 'unit'] as const;

/** How the guide names a transport in its prose. */
export const TRANSPORT_LABELS: Record<TransportName, string> = {
  'short-poll': 'short polling',
  'long-poll': 'long polling',
  sse: 'SSE',
  websocket: 'WebSocket',
  tcp: 'raw TCP',
};

// ---------------------------------------------------------------------------------------------
// Runs and their bound.
// ---------------------------------------------------------------------------------------------

/** How many runs of the same scenario and transport an unknown run's error lists. */
const NEARBY_SHOWN = 8;

/** The runs of the same scenario and transport: what a template that names a run no longer there may have meant. */
function nearbyRunIds(results: Results, id: string): string[] {
  const prefix = `${id.split('/').slice(0, 2).join('/')}/`;
  return results.runs.map((run) => run.id).filter((other) => other.startsWith(prefix));
}

function findRun(context: GuideContext, id: string): CompletedRun {
  const run: RunResult | undefined = context.results.runs.find((candidate) => candidate.id === id);
  if (run === undefined) {
    const nearby = nearbyRunIds(context.results, id);
    const shown = nearby.length > NEARBY_SHOWN ? [...nearby.slice(0, NEARBY_SHOWN), '…'] : nearby;
    const hint = nearby.length === 0 ? '' : ` (its runs of ${id.split('/').slice(0, 2).join('/')}: ${shown.join(', ')})`;
    throw new GuideError(`no run "${id}" in ${context.resultsName}${hint}`);
  }
  if (run.state !== 'completed') throw new GuideError(`run "${id}" failed in ${context.resultsName}: ${run.error}`);
  return run;
}

/** " (driver-bound)" after a figure from a driver-bound run; with several runs, which ones. */
function boundNote(runs: readonly CompletedRun[]): string {
  const distinct = [...new Set(runs)];
  const bound = distinct.filter(isDriverBound);
  if (bound.length === 0) return '';
  return distinct.length === 1 ? ' (driver-bound)' : ` (driver-bound: ${bound.map((run) => code(run.id)).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// Formatting.
// ---------------------------------------------------------------------------------------------

function formatValue(figure: NumberFigure, options: FigureOptions): string {
  const { format } = figure;
  if ('percent' in format) return formatPercent(figure.value, options.decimals ?? format.percent);
  if (options.significant !== undefined) return formatSignificant(figure.value, options.significant);
  if (options.decimals !== undefined) return formatNumber(figure.value, options.decimals);
  return 'significant' in format ? formatSignificant(figure.value, format.significant) : formatNumber(figure.value, format.decimals);
}

function unitText(options: FigureOptions): string {
  return options.unit === undefined ? '' : ` ${options.unit}`;
}

/**
 * A figure as the guide prints it: the number, its unit if asked for, then its run's bound if that
 * was the driver. Text is printed as it is (a function that gives text places the unit itself).
 */
export function renderFigure(figure: Figure, options: FigureOptions = {}): string {
  if (figure.kind === 'text') return figure.text;
  return `${formatValue(figure, options)}${unitText(options)}${boundNote(figure.boundRuns)}`;
}

function readOptions(expression: Expression): FigureOptions {
  const options: FigureOptions = {};
  for (const [key, value] of Object.entries(expression.options)) {
    if (key === 'unit') {
      options.unit = value;
      continue;
    }
    if (key !== 'decimals' && key !== 'significant') throw new GuideError(`unknown option "${key}" (options: ${OPTION_NAMES.join(', ')})`);
    const count = Number(value);
    if (!Number.isInteger(count) || count < 0 || count > 12) throw new GuideError(`${key}=${value}: a whole number from 0 to 12`);
    options[key] = count;
  }
  return options;
}

/** "a", "a and b", "a, b and c". */
function list(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

const ORDINALS = ['', '', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];

// ---------------------------------------------------------------------------------------------
// Arguments.
// ---------------------------------------------------------------------------------------------

/** Arguments that do not fit the function: the error then shows its usage. */
class ArgumentError extends GuideError {}

/** The arguments of one call, read in order. */
class Arguments {
  private at = 0;

  constructor(
    private readonly args: readonly Argument[],
    private readonly context: GuideContext,
  ) {}

  more(): boolean {
    return this.at < this.args.length;
  }

  private next(label: string): Argument {
    const arg = this.args[this.at];
    if (arg === undefined) throw new ArgumentError(`missing ${label}`);
    this.at += 1;
    return arg;
  }

  word(label: string): string {
    const arg = this.next(label);
    if (arg.kind !== 'word') throw new ArgumentError(`${label} is a word, not an expression in parentheses`);
    return arg.text;
  }

  choice<T extends string>(label: string, choices: readonly T[]): T {
    const word = this.word(label);
    if (!(choices as readonly string[]).includes(word)) throw new ArgumentError(`"${word}" is not one of ${choices.join(', ')}`);
    return word as T;
  }

  /** The next word when it is one of `choices`; otherwise nothing is taken and the fallback is given. */
  optionalChoice<T extends string>(choices: readonly T[], fallback: T): T {
    const arg = this.args[this.at];
    if (arg?.kind !== 'word' || !(choices as readonly string[]).includes(arg.text)) return fallback;
    this.at += 1;
    return arg.text as T;
  }

  run(): CompletedRun {
    return findRun(this.context, this.word('a run id'));
  }

  /** A number: an expression in parentheses (its figure) or a plain number. */
  number(label: string): NumberFigure {
    const arg = this.next(label);
    if (arg.kind === 'expression') {
      const figure = evaluate(arg.expression, this.context);
      if (figure.kind !== 'number') throw new GuideError(`(${arg.expression.name} …) is text, not a number`);
      return figure;
    }
    const value = Number(arg.text.replace(/_/g, ''));
    if (!Number.isFinite(value)) throw new ArgumentError(`"${arg.text}" is not a number`);
    return { kind: 'number', value, format: { decimals: 0 }, boundRuns: [] };
  }

  end(): void {
    if (this.more()) throw new ArgumentError(`${this.args.length - this.at} argument(s) too many`);
  }
}

const number = (value: number, format: NumberFormat, boundRuns: CompletedRun[] = []): NumberFigure => ({ kind: 'number', value, format, boundRuns });
const text = (value: string): TextFigure => ({ kind: 'text', text: value });

// ---------------------------------------------------------------------------------------------
// Figures of one run.
// ---------------------------------------------------------------------------------------------

interface Parameter {
  label: string;
  choices: readonly string[];
  /** Taken when the word is not one of the choices (the parameter may be left out). */
  fallback?: string;
}

interface RunFigure {
  params: Parameter[];
  description: string;
  /**
   * A latency, throughput or server CPU per message: what a driver-bound run measures of the
   * driver, not of the server (as the report marks them); its bound is said beside it then.
   */
  bound?: boolean;
  compute(run: CompletedRun, params: string[], context: GuideContext): { value: number; format: NumberFormat };
}

const DIRECTION: Parameter = { label: 'up|down', choices: ['up', 'down'] };
const BYTE_KINDS = ['total', 'payload', 'headers', 'framing', 'setup', 'tls'] as const;
const KIND: Parameter = { label: '[total|payload|headers|framing|setup|tls]', choices: BYTE_KINDS, fallback: 'total' };
const HEADER_SIDES = ['request', 'response'] as const;
const HEADER_SIDE: Parameter = { label: 'request|response', choices: HEADER_SIDES };
/** Which of a series of header blocks: the first (HPACK's tables empty) or the tenth (as the report's HPACK table). */
const SERIES_POSITIONS = { first: 0, tenth: LATER_INDEX } as const;
const SERIES_POSITION: Parameter = { label: 'first|tenth', choices: Object.keys(SERIES_POSITIONS) };

/** The header bytes at `position` of a series of requests or responses; an error that names it where the series is shorter. */
function seriesValue(series: { requests: readonly number[]; responses: readonly number[] }, side: string, position: string, what: string): number {
  const values = side === 'request' ? series.requests : series.responses;
  const value = values[SERIES_POSITIONS[position as keyof typeof SERIES_POSITIONS]];
  if (value === undefined) throw new GuideError(`${what} kept ${values.length} ${side}s: it has no ${position}`);
  return value;
}
const PERCENTILES = ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const;

/** Bytes of the whole run one way ('up', 'down') or both, of one kind or all ('total'); a kind the results lack (tls, in older ones) is 0. */
function runBytes(run: CompletedRun, direction: string, kind: string): number {
  const directions: Direction[] = direction === 'both' ? ['up', 'down'] : [direction as Direction];
  return directions.reduce((sum, each) => sum + (run.bytes[each][kind as ByteKind | 'total'] ?? 0), 0);
}

function receivedAny(run: CompletedRun): void {
  if (run.messages.received === 0) throw new GuideError(`run "${run.id}" received no messages`);
}

/** The first frame of the results' WebSocket wire sample each way, which must be of `run`. */
function sampledFrameHeaderBytes(context: GuideContext, run: CompletedRun, direction: Direction): number {
  const sample = decodedSample(context.results, 'websocket');
  if (sample === undefined) throw new GuideError(`${context.resultsName} has no WebSocket wire sample`);
  if (sample.sample.runId !== run.id)
    throw new GuideError(`the WebSocket wire sample of ${context.resultsName} is of run "${sample.sample.runId}", not "${run.id}"`);
  const frame = framingClaim(context.results).frames.find((candidate) => candidate.direction === direction);
  if (frame === undefined) throw new GuideError(`the WebSocket wire sample of run "${run.id}" holds no whole frame ${direction}`);
  return frame.header.headerBytes;
}

export const RUN_FIGURES: Record<string, RunFigure> = {
  bytesPerMessage: {
    params: [DIRECTION, KIND],
    description: `bytes of one direction per message, of one kind (total if none is named): ${FORMULAS.bytesPerMessage}`,
    compute(run, [direction, kind]) {
      receivedAny(run);
      const split = bytesPerMessage(run, direction as Direction)!;
      return { value: split[kind as keyof typeof split] ?? 0, format: { decimals: 1 } };
    },
  },
  bytesPerClientSecond: {
    params: [DIRECTION, KIND],
    description: `bytes of one direction per client per second, of one kind (total if none is named): ${FORMULAS.bytesPerClientSecond}`,
    compute: (run, [direction, kind]) => ({
      value: bytesPerClientSecond(run, direction as Direction)[kind as ByteKind | 'total'] ?? 0,
      format: { decimals: 1 },
    }),
  },
  bytes: {
    params: [{ label: 'up|down|both', choices: ['up', 'down', 'both'] }, KIND],
    description: 'bytes of the whole run (all clients, warm-up included), one direction or both, of one kind (total if none is named)',
    compute(run, [direction, kind]) {
      return { value: runBytes(run, direction!, kind!), format: { decimals: 0 } };
    },
  },
  overhead: {
    params: [],
    description: `bytes on the wire per byte of payload: ${FORMULAS.overhead}`,
    compute(run) {
      const multiple = overheadMultiple(run);
      if (multiple === undefined) throw new GuideError(`run "${run.id}" carried no payload`);
      return { value: multiple, format: { decimals: 2 } };
    },
  },
  latency: {
    params: [{ label: PERCENTILES.join('|'), choices: PERCENTILES }],
    description: 'latency over the measured window, in ms (measured)',
    bound: true,
    compute(run, [percentile]) {
      if (run.latencyMs.count === 0) throw new GuideError(`run "${run.id}" timed no messages: it has no latency`);
      return { value: run.latencyMs[percentile as (typeof PERCENTILES)[number]], format: { decimals: 3 } };
    },
  },
  throughput: {
    params: [],
    description: 'messages sent in the measured window that arrived, per second of window (measured)',
    bound: true,
    compute: (run) => ({ value: run.throughput.messagesPerSecond, format: { decimals: 1 } }),
  },
  serverCpuPerMessage: {
    params: [],
    description: `the server's CPU per message, in µs: ${FORMULAS.serverCpuPerMessage}`,
    bound: true,
    compute(run) {
      const micros = serverCpuMicrosPerMessage(run);
      if (micros === undefined) throw new GuideError(`run "${run.id}" has no server CPU per message (no message, or a server the suite did not start)`);
      return { value: micros, format: { decimals: 1 } };
    },
  },
  connectionsPerClient: {
    params: [],
    description: 'TCP connections opened per client (measured)',
    compute: (run) => ({ value: run.connections.perClient, format: { decimals: 2 } }),
  },
  emptyPolls: {
    params: [],
    description: `the share of polls that came back empty: ${FORMULAS.emptyPolls}`,
    compute(run) {
      const share = emptyPollShare(run);
      if (share === undefined) throw new GuideError(`run "${run.id}" made no polls`);
      return { value: share, format: { percent: 1 } };
    },
  },
  bytesPerPoll: {
    params: [{ label: 'up|down|both', choices: ['up', 'down', 'both'] }, KIND],
    description: 'bytes of the whole run per poll, one direction or both, of one kind (total if none is named): bytes / polls',
    compute(run, [direction, kind]) {
      if (run.polls.total === 0) throw new GuideError(`run "${run.id}" made no polls`);
      return { value: runBytes(run, direction!, kind!) / run.polls.total, format: { decimals: 1 } };
    },
  },
  pollOverheadBytes: {
    params: [],
    description: "what a poll costs besides the messages it brings, as the report's Kaazing table: (headers + framing, up + down) / polls",
    compute(run) {
      if (run.polls.total === 0) throw new GuideError(`run "${run.id}" made no polls`);
      return { value: pollOverheadBytes(run), format: { decimals: 1 } };
    },
  },
  frameOverheadBytes: {
    params: [],
    description: "what a pushed message costs besides itself, as the report's Kaazing table: (headers + framing, down) / messages received",
    compute(run) {
      receivedAny(run);
      return { value: frameOverheadBytes(run), format: { decimals: 1 } };
    },
  },
  protocolOverhead: {
    params: [],
    description: "what the protocol adds around each message, as the report's protocols section: (headers + framing + tls, up + down) / messages received",
    compute(run) {
      const bytes = overheadPerMessage(run);
      if (bytes === undefined) throw new GuideError(`run "${run.id}" received no messages`);
      return { value: bytes, format: { decimals: 1 } };
    },
  },
  setupPerConnection: {
    params: [],
    description:
      "setup bytes (TCP connection's handshakes: the upgrade, the TLS handshake), up + down, per connection opened, as the report's protocols section",
    compute(run) {
      const bytes = setupPerConnection(run);
      if (bytes === undefined) throw new GuideError(`run "${run.id}" opened no connection`);
      return { value: bytes, format: { decimals: 0 } };
    },
  },
  headerSeries: {
    params: [HEADER_SIDE, SERIES_POSITION],
    description:
      "header bytes of the first client's first or tenth request or response (measured: the run's `headerSeries`; HTTP/1.1 heads, or HTTP/2 header blocks after HPACK)",
    compute(run, [side, position]) {
      if (run.headerSeries === undefined) throw new GuideError(`run "${run.id}" kept no header series`);
      return { value: seriesValue(run.headerSeries, side!, position!, `run "${run.id}"`), format: { decimals: 0 } };
    },
  },
  frameHeader: {
    params: [DIRECTION],
    description:
      'header bytes of the first WebSocket frame of the results\' wire sample that way (the report\'s "A frame on the wire"); the sample must be of the run named',
    compute: (run, [direction], context) => ({ value: sampledFrameHeaderBytes(context, run, direction as Direction), format: { decimals: 0 } }),
  },
};

function readParams(args: Arguments, params: readonly Parameter[]): string[] {
  return params.map((param) => (param.fallback === undefined ? args.choice(param.label, param.choices) : args.optionalChoice(param.choices, param.fallback)));
}

function runFigure(figure: RunFigure, run: CompletedRun, params: string[], context: GuideContext): NumberFigure {
  const { value, format } = figure.compute(run, params, context);
  return number(value, format, figure.bound === true ? [run] : []);
}

/** A run figure's name and parameters, then at least `least` runs: what ascending, descending, range and rank read. */
function runSeries(args: Arguments, context: GuideContext, least: number): { run: CompletedRun; figure: NumberFigure }[] {
  const name = args.word('the name of a run figure');
  const figure = RUN_FIGURES[name];
  if (figure === undefined) throw new GuideError(`"${name}" is not a run figure (${Object.keys(RUN_FIGURES).join(', ')})`);
  const params = readParams(args, figure.params);
  const series: { run: CompletedRun; figure: NumberFigure }[] = [];
  while (args.more()) {
    const run = args.run();
    series.push({ run, figure: runFigure(figure, run, params, context) });
  }
  if (series.length < least) throw new ArgumentError(`give at least ${least} runs`);
  return series;
}

function transportLabel(run: CompletedRun): string {
  const label = TRANSPORT_LABELS[run.transport];
  return run.config.target === undefined ? label : `${label} (${run.config.target})`;
}

/** "95.3 for raw TCP, 128.0 for WebSocket and 264.3 for short polling": each figure named by its transport. */
function ranked(series: { run: CompletedRun; figure: NumberFigure }[], direction: 1 | -1, options: FigureOptions): string {
  const sorted = [...series].sort((a, b) => direction * (a.figure.value - b.figure.value));
  return list(sorted.map(({ run, figure }) => `${formatValue(figure, options)} for ${transportLabel(run)}${boundNote(figure.boundRuns)}`));
}

// ---------------------------------------------------------------------------------------------
// Every function a placeholder can call.
// ---------------------------------------------------------------------------------------------

interface GuideFunction {
  usage: string;
  description: string;
  call(args: Arguments, context: GuideContext, options: FigureOptions): Figure;
}

function completedMicroCase(context: GuideContext, id: string): { id: string; nsPerOp: number } {
  const { micro } = context.results;
  if (micro === undefined) throw new GuideError(`${context.resultsName} has no micro-benchmarks`);
  const found = micro.cases.find((candidate) => candidate.id === id);
  if (found === undefined) throw new GuideError(`no micro-benchmark case "${id}" in ${context.resultsName}`);
  if (found.state !== 'completed') throw new GuideError(`micro-benchmark case "${id}" failed in ${context.resultsName}: ${found.error}`);
  return found;
}

function measuredBrowser(context: GuideContext): NonNullable<ReturnType<typeof browserFigures>> {
  const state = browserState(context.results);
  if (state.state === 'measured') return state.figures;
  const why = state.state === 'skipped' ? ` (skipped: ${state.reason})` : state.state === 'failed' ? ` (failed: ${state.error})` : '';
  throw new GuideError(`${context.resultsName} has no real-browser figures${why}`);
}

/** The "from 150 ms to 50 ms" measurement of the results; an error where they have none (skipped, failed, or older results). */
function measuredFirstMessage(context: GuideContext): FirstMessage {
  const measured = context.results.firstMessage;
  if (measured === undefined || !('oneWayDelayMs' in measured)) throw new GuideError(`${context.resultsName} has no first-message measurement`);
  return measured;
}

/** A field of a record from the results: text as it is, a number as a whole count. */
function fieldFigure(record: object, field: string, what: string): Figure {
  const value: unknown = (record as Record<string, unknown>)[field];
  if (typeof value === 'string') return text(value);
  if (typeof value === 'number') return number(value, { decimals: 0 });
  if (typeof value === 'boolean') return text(value ? 'yes' : 'no');
  throw new GuideError(`${what} has no field "${field}"`);
}

function fromRunFigure(name: string, figure: RunFigure): GuideFunction {
  return {
    usage: [name, ...figure.params.map((param) => param.label), '<run>'].join(' '),
    description: figure.description + (figure.bound === true ? '; "(driver-bound)" follows it when the driver was the run\'s limit' : ''),
    call(args, context) {
      const params = readParams(args, figure.params);
      return runFigure(figure, args.run(), params, context);
    },
  };
}

const SERIES_USAGE = '<run figure> [its parameters] <run> <run> …';

export const FUNCTIONS: Record<string, GuideFunction> = {
  ...Object.fromEntries(Object.entries(RUN_FIGURES).map(([name, figure]) => [name, fromRunFigure(name, figure)])),
  run: {
    usage: 'run <run>',
    description: 'the run id as code, once the results are known to hold it completed',
    call: (args) => text(code(args.run().id)),
  },
  config: {
    usage: 'config <field> <run>',
    description: "a field of the run's config (payloadBytes, clients, targetRatePerSecond, pushRatePerSecond, pollIntervalMs, rttMs, …)",
    call(args) {
      const field = args.word('a config field');
      const run = args.run();
      return fieldFigure(run.config, field, `the config of run "${run.id}"`);
    },
  },
  clients: {
    usage: 'clients <run>',
    description: 'the clients of the run, in words: "1 client", "50 clients"',
    call(args) {
      const { clients } = args.run().config;
      return text(`${formatNumber(clients, 0)} ${clients === 1 ? 'client' : 'clients'}`);
    },
  },
  environment: {
    usage: 'environment <field>',
    description: "a field of the results' environment (command, startedAt, cores, node, cpuModel, …)",
    call: (args, context) => fieldFigure(context.results.environment, args.word('an environment field'), `the environment of ${context.resultsName}`),
  },
  browser: {
    usage: 'browser <field>',
    description: 'a field of the real-browser measurement (name, version, pollRequestBytes, pollResponseHeaderBytes, websocketFrameBytes)',
    call: (args, context) => fieldFigure(measuredBrowser(context), args.word('a browser field'), `the real-browser figures of ${context.resultsName}`),
  },
  browserHttp2: {
    usage: 'browserHttp2 request|response first|tenth',
    description: "header block bytes of the real browser's first or tenth poll over HTTP/2, request or response (measured, after HPACK)",
    call(args, context) {
      const [side, position] = [args.choice('request|response', HEADER_SIDES), args.choice('first|tenth', Object.keys(SERIES_POSITIONS))];
      measuredBrowser(context);
      const http2 = browserHttp2Figures(context.results);
      if (http2 === undefined) throw new GuideError(`${context.resultsName} has no real-browser polls over HTTP/2`);
      return number(seriesValue(http2, side, position, "the real browser's HTTP/2 polls"), { decimals: 0 });
    },
  },
  tlsPoll: {
    usage: 'tlsPoll 1.3|1.2 <field>',
    description:
      'a field of the poll on a new TLS connection measured on the emulated link ("from 150 ms to 50 ms"): handshakeRoundTrips, connectedMs, serverHasRequestMs, answerMs, clientAnswerMs',
    call(args, context) {
      const version = args.choice('1.3|1.2', ['1.3', '1.2'] as const);
      const field = args.word('a field');
      const poll = measuredFirstMessage(context).newTlsConnectionPoll?.find((candidate) => candidate.version === version);
      if (poll === undefined) throw new GuideError(`${context.resultsName} has no poll on a new TLS ${version} connection`);
      const value: unknown = (poll as unknown as Record<string, unknown>)[field];
      if (typeof value !== 'number') throw new GuideError(`the TLS ${version} poll has no figure "${field}"`);
      return number(value, field === 'handshakeRoundTrips' ? { decimals: 0 } : { decimals: 1 });
    },
  },
  firstMessage: {
    usage: 'firstMessage <field>',
    description:
      'a figure of "from 150 ms to 50 ms": oneWayDelayMs, or newConnectionPoll.<field>, keepAlivePoll.<field>, websocketFrame.<field>, websocketFrameOverTls.<field> (ms)',
    call(args, context) {
      const path = args.word('a field');
      const measured = measuredFirstMessage(context);
      const value: unknown = path
        .split('.')
        .reduce<unknown>((record, key) => (typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[key] : undefined), measured);
      if (typeof value !== 'number') throw new GuideError(`the first-message measurement has no figure "${path}"`);
      return number(value, { decimals: 1 });
    },
  },
  browserPollBytes: {
    usage: 'browserPollBytes',
    description: "a real browser's poll, as the report's Kaazing table: poll request + response head",
    call: (_args, context) => number(browserPollBytes(measuredBrowser(context)), { decimals: 0 }),
  },
  case: {
    usage: 'case <micro-benchmark case>',
    description: 'the case id as code, once the results are known to hold it completed',
    call: (args, context) => text(code(completedMicroCase(context, args.word('a micro-benchmark case')).id)),
  },
  micro: {
    usage: 'micro <micro-benchmark case>',
    description: 'ns per operation of a micro-benchmark case (measured)',
    call: (args, context) => number(completedMicroCase(context, args.word('a micro-benchmark case')).nsPerOp, { significant: 3 }),
  },
  microSum: {
    usage: 'microSum <case> <case> …',
    description: "the micro-benchmarks' estimate of a message's CPU, in µs, as the report's: sum of the cases' ns/op / 1000",
    call(args, context) {
      let sum = 0;
      do sum += completedMicroCase(context, args.word('a micro-benchmark case')).nsPerOp;
      while (args.more());
      return number(sum / 1000, { significant: 3 });
    },
  },
  ratio: {
    usage: 'ratio (<a>) (<b>)',
    description: 'computed: a / b',
    call(args) {
      const [a, b] = [args.number('the numerator'), args.number('the denominator')];
      if (b.value === 0) throw new GuideError('the denominator is 0');
      return number(a.value / b.value, { decimals: 2 }, [...a.boundRuns, ...b.boundRuns]);
    },
  },
  percent: {
    usage: 'percent (<a>) (<b>)',
    description: 'computed: a / b, as a percentage',
    call(args) {
      const [a, b] = [args.number('the part'), args.number('the whole')];
      if (b.value === 0) throw new GuideError('the whole is 0');
      return number(a.value / b.value, { percent: 1 }, [...a.boundRuns, ...b.boundRuns]);
    },
  },
  kaazingMbps: {
    usage: 'kaazingMbps (<bytes>) <clients>',
    description: "computed, as the report's Kaazing table: bytes × 8 × clients / 2^20, each client once a second",
    call(args) {
      const [bytes, clients] = [args.number('the bytes'), args.number('the clients')];
      return number((bytes.value * 8 * clients.value) / BITS_PER_MEGABIT, { significant: 3 });
    },
  },
  moreOrLess: {
    usage: 'moreOrLess (<a>) (<b>)',
    description: 'computed: "more" when a > b, "less" when a < b, "as much" when they are equal',
    call(args) {
      const [a, b] = [args.number('a'), args.number('b')];
      return text(a.value > b.value ? 'more' : a.value < b.value ? 'less' : 'as much');
    },
  },
  ascending: {
    usage: `ascending ${SERIES_USAGE}`,
    description: 'computed: the runs\' figures from the least, each named by its transport ("95.3 for raw TCP, 128.0 for WebSocket and …")',
    call: (args, context, options) => text(ranked(runSeries(args, context, 2), 1, options)),
  },
  descending: {
    usage: `descending ${SERIES_USAGE}`,
    description: "computed: the runs' figures from the greatest, each named by its transport",
    call: (args, context, options) => text(ranked(runSeries(args, context, 2), -1, options)),
  },
  range: {
    usage: `range ${SERIES_USAGE}`,
    description: 'computed: "least to greatest" of the runs\' figures (one figure when they print the same), then the unit',
    call(args, context, options) {
      const series = runSeries(args, context, 2);
      const figures = series.map((entry) => entry.figure);
      const least = figures.reduce((a, b) => (b.value < a.value ? b : a));
      const greatest = figures.reduce((a, b) => (b.value > a.value ? b : a));
      const [low, high] = [formatValue(least, options), formatValue(greatest, options)];
      return text(`${low === high ? low : `${low} to ${high}`}${unitText(options)}${boundNote(figures.flatMap((figure) => figure.boundRuns))}`);
    },
  },
  rank: {
    usage: `rank ${SERIES_USAGE}`,
    description: 'computed: where the first run\'s figure stands among all the runs\' ("the lowest", "the second lowest", …, "the highest")',
    call(args, context) {
      const [subject, ...others] = runSeries(args, context, 2);
      const below = others.filter((other) => other.figure.value < subject!.figure.value).length;
      if (below === 0) return text('the lowest');
      if (below === others.length) return text('the highest');
      return text(`the ${ORDINALS[below + 1] ?? `${below + 1}th`} lowest`);
    },
  },
};

/** The figure an expression names. */
export function evaluate(expression: Expression, context: GuideContext): Figure {
  const fn = FUNCTIONS[expression.name];
  if (fn === undefined) throw new GuideError(`unknown figure "${expression.name}" (npm run guide -- --help lists them)`);
  const options = readOptions(expression);
  const args = new Arguments(expression.args, context);
  try {
    const figure = fn.call(args, context, options);
    args.end();
    return figure;
  } catch (error) {
    if (error instanceof ArgumentError) throw new GuideError(`${error.message} (usage: ${fn.usage})`);
    throw error;
  }
}

/** The figure of an expression as the guide prints it, its options applied. */
export function renderExpression(expression: Expression, context: GuideContext): string {
  return renderFigure(evaluate(expression, context), readOptions(expression));
}

/** Every function, its usage and what it gives: what `npm run guide -- --help` lists. */
export function functionList(): string[] {
  return Object.values(FUNCTIONS).map((fn) => `  ${fn.usage}\n      ${fn.description}`);
}
