/**
 * The same work over HTTP/1.1, HTTP/1.1 over TLS and HTTP/2 over TLS (runs told apart by
 * `config.tls` and `config.http`): bytes per message side by side, what the TLS handshake costs a
 * connection, and HPACK's effect request by request (the header series of a run's first client,
 * and a real browser's HTTP/2 polls). From results.json alone; a run a cell needs and the results
 * do not have is "not measured".
 */
import type { CompletedRun, Results, ScenarioName } from '../../bench/result.ts';
import { TLS_VERSIONS, TRANSPORTS } from '../../servers/contract.ts';
import { browserFigures, browserHttp2Figures } from './browser.ts';
import { FORMULAS, tlsBytes, totalBytesPerMessage } from './figures.ts';
import { formatInteger, formatNumber, formatPercent } from './format.ts';
import { bold, code, table } from './markdown.ts';
import {
  HTTP2_TRANSPORTS,
  PROTOCOLS,
  TLS_HANDSHAKE_ROUND_TRIPS,
  TLS_ROUND_TRIPS_FORMULA,
  handshakeRoundTripsText,
  isHttp2,
  isProtocolRun,
  protocolOf,
  protocolText,
  tlsPollMeasured,
  type Protocol,
} from './protocols.ts';
import { markDriverBound, runLabel } from './run-bound.ts';
import { completedRuns, workloadKey } from './runs.ts';

export const PROTOCOLS_TITLE = '## HTTP/1.1, TLS and HTTP/2';

const NOT_MEASURED = 'not measured';
const NOT_APPLICABLE = 'not applicable';
const MESSAGE_SCENARIOS: readonly ScenarioName[] = ['echo', 'push', 'broadcast'];
/** The poll the first one is set against: the tenth, once HPACK's tables hold what the first sent. */
export const LATER_INDEX = 9;

export const PROTOCOL_FORMULAS = {
  overheadPerMessage: '(headers + framing + tls, up + down) / messages received',
  setupPerConnection: '(setup, up + down) / connections opened',
  hpackSaving: '1 − tenth / first',
} as const;

/** The same work (scenario, clients, size, rates, link) of one transport over each protocol. */
interface Group {
  scenario: ScenarioName;
  transport: CompletedRun['transport'];
  runs: CompletedRun[];
}

/** Groups of the same work and transport among which some run is over TLS or HTTP/2, in the report's order. */
function protocolGroups(results: Results, scenarios: readonly ScenarioName[]): Group[] {
  const groups = new Map<string, Group>();
  for (const run of completedRuns(results)) {
    if (!scenarios.includes(run.scenario)) continue;
    const key = `${run.transport}|${workloadKey(run.config, 'without-protocol')}`;
    const group = groups.get(key) ?? { scenario: run.scenario, transport: run.transport, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  return [...groups.values()]
    .filter((group) => group.runs.some(isProtocolRun))
    .sort(
      (a, b) =>
        scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario) ||
        a.runs[0]!.config.clients - b.runs[0]!.config.clients ||
        a.runs[0]!.config.payloadBytes - b.runs[0]!.config.payloadBytes ||
        TRANSPORTS.indexOf(a.transport) - TRANSPORTS.indexOf(b.transport),
    );
}

/** The protocols the tables have columns for: the three always, h2c where a run used it. */
function columnsOf(results: Results): Protocol[] {
  const h2c = results.runs.some((run) => protocolOf(run.config) === 'h2c');
  return PROTOCOLS.filter((protocol) => protocol.id !== 'h2c' || h2c);
}

function sizeText(bytes: number): string {
  return bytes % 1024 === 0 && bytes > 0 ? `${bytes / 1024} KiB` : `${formatInteger(bytes)} B`;
}

function workloadText(run: CompletedRun): string {
  const { config } = run;
  const rate = config.scenario === 'push' ? `, ${formatInteger(config.pushRatePerSecond)} msg/s each` : '';
  const link = (config.rttMs ?? 0) > 0 ? `, RTT ${config.rttMs} ms` : '';
  return `${config.scenario}, ${formatInteger(config.clients)} clients${rate}${link}`;
}

/** A cell of one protocol: each run's figure (its TLS version named when there are several), or why there is none. */
function protocolCell(group: Group, protocol: Protocol, figure: (run: CompletedRun) => string): string {
  if ((protocol.id === 'http2-tls' || protocol.id === 'h2c') && !HTTP2_TRANSPORTS.includes(group.transport)) return NOT_APPLICABLE;
  const runs = group.runs.filter((run) => protocolOf(run.config) === protocol.id);
  if (runs.length === 0) return NOT_MEASURED;
  if (runs.length === 1) return markDriverBound(runs[0]!, figure(runs[0]!));
  return runs.map((run) => markDriverBound(run, `${run.config.tls === undefined ? code(run.id) : `TLS ${run.config.tls}`}: ${figure(run)}`)).join('; ');
}

/** What a protocol adds around each message: headers, framing and TLS's record layer, both ways. */
export function overheadPerMessage(run: CompletedRun): number | undefined {
  if (run.messages.received === 0) return undefined;
  const { up, down } = run.bytes;
  return (up.headers + up.framing + tlsBytes(up) + down.headers + down.framing + tlsBytes(down)) / run.messages.received;
}

function bytesFigure(run: CompletedRun): string {
  const total = totalBytesPerMessage(run);
  const overhead = overheadPerMessage(run);
  return total === undefined || overhead === undefined ? '- (no message received)' : `${formatNumber(total, 1)} (${formatNumber(overhead, 1)})`;
}

export function setupPerConnection(run: CompletedRun): number | undefined {
  return run.connections.opened === 0 ? undefined : (run.bytes.up.setup + run.bytes.down.setup) / run.connections.opened;
}

/** Setup per connection, what TLS added to it against the group's plaintext run, and the handshake's round trips (measured where the results counted them). */
function setupFigure(results: Results, group: Group): (run: CompletedRun) => string {
  const plaintext = group.runs.find((run) => protocolOf(run.config) === 'http1');
  const plaintextSetup = plaintext === undefined ? undefined : setupPerConnection(plaintext);
  return (run) => {
    const setup = setupPerConnection(run);
    if (setup === undefined) return '- (no connection)';
    const tls = run.config.tls;
    if (tls === undefined) return `${formatNumber(setup, 1)} B, no TLS`;
    const more = plaintextSetup === undefined ? '' : ` (${formatNumber(setup - plaintextSetup, 1)} B more than plaintext)`;
    return `${formatNumber(setup, 1)} B${more}; handshake ${handshakeRoundTripsText(tls, tlsPollMeasured(results, tls))}`;
  };
}

function groupTable(groups: readonly Group[], columns: readonly Protocol[], figure: (group: Group) => (run: CompletedRun) => string): string {
  return table(
    ['transport', 'message', 'work', ...columns.map((protocol) => protocol.label)],
    groups.map((group) => {
      const first = group.runs[0]!;
      return [
        group.transport,
        sizeText(first.config.payloadBytes),
        workloadText(first),
        ...columns.map((protocol) => protocolCell(group, protocol, figure(group))),
      ];
    }),
    ['left', 'right', 'left', ...columns.map(() => 'right' as const)],
  );
}

function bytesPart(results: Results, columns: readonly Protocol[]): string {
  const groups = protocolGroups(results, MESSAGE_SCENARIOS);
  const lead =
    `${bold('Bytes per message')}, up + down (computed: ${FORMULAS.bytesPerMessage}), and in brackets what the protocol adds around each ` +
    `message: headers + framing + tls (computed: ${PROTOCOL_FORMULAS.overheadPerMessage}). Over HTTP/2 the headers are HPACK's blocks and the ` +
    "framing HTTP/2's frames (9-byte frame headers, SETTINGS, WINDOW_UPDATE and the like) besides the poll body's JSON; tls is TLS's record " +
    'layer. The TLS handshake is setup, paid once per connection (next table). For WebSocket the TLS column is wss, for TCP TLS itself; ' +
    `HTTP/2 carries the HTTP transports only ("${NOT_APPLICABLE}" for the others). A cell "${NOT_MEASURED}": no such run in these results.`;
  if (groups.length === 0) return [lead, `${NOT_MEASURED} in this run: no run of echo, push or broadcast over TLS or HTTP/2.`].join('\n\n');
  return [lead, groupTable(groups, columns, () => bytesFigure)].join('\n\n');
}

/** Where the handshake's round trips come from: the "from 150 ms to 50 ms" measurement's count, each version it has, else the version. */
function roundTripsSource(results: Results): string {
  const measured = TLS_VERSIONS.flatMap((version) => {
    const poll = tlsPollMeasured(results, version);
    return poll === undefined ? [] : [`${formatInteger(poll.handshakeRoundTrips)} for TLS ${version}`];
  });
  if (measured.length === 0) {
    return `trips before the first request are computed from the version, for ${TLS_ROUND_TRIPS_FORMULA}: the runs do not time the handshake, and a resumed session would take fewer.`;
  }
  return (
    `trips before the first request are measured on new connections over the emulated link (counted on the forwarder's trace of a poll on ` +
    `each, see "From 150 ms to 50 ms"): ${measured.join(', ')} (expected, for ${TLS_ROUND_TRIPS_FORMULA}); a version not measured there ` +
    'is computed from the version. The runs themselves do not time their handshakes, and a resumed session would take fewer.'
  );
}

function setupPart(results: Results, columns: readonly Protocol[]): string {
  const groups = protocolGroups(results, [...MESSAGE_SCENARIOS, 'idle']);
  const lead =
    `${bold('The TLS handshake')} is in the setup bytes (the setup column of the tables above): every record of the handshake protocol ` +
    '(ClientHello, ServerHello, the certificate, Finished, TLS 1.3’s session tickets), ChangeCipherSpec and alerts, as the connection ' +
    `carried them. Setup per connection (computed: ${PROTOCOL_FORMULAS.setupPerConnection}) holds it with the rest of a connection's setup ` +
    `(registering, the upgrade, HTTP/2’s preface); against the same work in plaintext, the difference is what TLS added (computed). Its round ${roundTripsSource(results)}`;
  if (groups.length === 0) return [lead, `${NOT_MEASURED} in this run: no run over TLS.`].join('\n\n');
  return [lead, groupTable(groups, columns, (group) => setupFigure(results, group))].join('\n\n');
}

function seriesText(values: readonly number[]): string {
  return values.map((value) => formatInteger(value)).join(' ');
}

/** "358 → 61 (−83.0%)": the first against the tenth, with the share saved (computed). */
function firstAgainstTenth(values: readonly number[]): string {
  const first = values[0];
  const tenth = values[LATER_INDEX];
  if (first === undefined) return NOT_MEASURED;
  if (tenth === undefined) return `${formatInteger(first)} → ${NOT_MEASURED} (${values.length} kept)`;
  const saved = tenth === first ? ' (the same)' : first === 0 ? '' : ` (${tenth < first ? '−' : '+'}${formatPercent(Math.abs(1 - tenth / first))})`;
  return `${formatInteger(first)} → ${formatInteger(tenth)}${saved}`;
}

function seriesRow(label: string, protocol: string, series: { requests: readonly number[]; responses: readonly number[] }): string[] {
  return [label, protocol, firstAgainstTenth(series.requests), firstAgainstTenth(series.responses), seriesText(series.requests), seriesText(series.responses)];
}

const SERIES_HEADER = ['run', 'protocol', 'request: first → tenth (B)', 'response: first → tenth (B)', 'requests, in order (B)', 'responses, in order (B)'];

function hpackPart(results: Results): string {
  const groups = protocolGroups(results, [...MESSAGE_SCENARIOS, 'idle']).filter((group) =>
    group.runs.some((run) => isHttp2(run) && run.headerSeries !== undefined),
  );
  const rows = groups.flatMap((group) =>
    PROTOCOLS.flatMap((protocol) =>
      group.runs
        .filter((run) => protocolOf(run.config) === protocol.id && run.headerSeries !== undefined)
        .map((run) => seriesRow(runLabel(run), protocolText(run), run.headerSeries!)),
    ),
  );
  const lead =
    `${bold('HPACK, request by request')}: the header bytes of each of the first requests and responses of a run's first client, in order ` +
    '(measured: `headerSeries`; HTTP/1.1 heads, or HTTP/2 HEADERS blocks after HPACK), an HTTP/2 run beside the runs of the same work over ' +
    'HTTP/1.1. HTTP/1.1 sends every head whole; HPACK sends a field whole the first time, with an index into a table both ends keep, and ' +
    `later refers to it by its index: the first poll against the tenth shows it (the share saved computed: ${PROTOCOL_FORMULAS.hpackSaving}).`;
  const parts = [lead, rows.length === 0 ? `HTTP/2 runs: ${NOT_MEASURED} in this run (no HTTP/2 run kept its header series).` : table(SERIES_HEADER, rows)];
  parts.push(browserSeriesPart(results));
  return parts.join('\n\n');
}

function browserSeriesPart(results: Results): string {
  const browser = browserFigures(results);
  const http2 = browserHttp2Figures(results);
  if (browser === undefined || http2 === undefined) return `Real browser over HTTP/2: ${NOT_MEASURED} in this run.`;
  const name = `${browser.name} ${browser.version}`;
  const rows = [
    seriesRow(`real browser (${name})`, `HTTP/2 over TLS ${http2.tlsVersion}`, http2),
    [
      `real browser (${name})`,
      'HTTP/1.1',
      `${formatInteger(browser.pollRequestBytes)} (one poll measured)`,
      `${formatInteger(browser.pollResponseHeaderBytes)} (one poll measured)`,
      '-',
      '-',
    ],
  ];
  return [
    `The real browser's polls (measured on the wire, bench/browser/): over HTTP/2 the header blocks of each poll's request and response, in ` +
      'order, on a connection of their own (the page’s connection ended before the first poll, so the first poll fills the tables); over ' +
      'HTTP/1.1 one poll’s request and response head, which HTTP/1.1 sends whole every time.',
    table(SERIES_HEADER, rows),
  ].join('\n\n');
}

/** The section; undefined where the results have no run over TLS or HTTP/2 and no browser polls over HTTP/2. */
export function protocolsSection(results: Results): string | undefined {
  const any = completedRuns(results).some(isProtocolRun) || browserHttp2Figures(results) !== undefined;
  if (!any) return undefined;
  const columns = columnsOf(results);
  return [
    PROTOCOLS_TITLE,
    'The same work over plaintext HTTP/1.1, HTTP/1.1 over TLS (https, wss) and HTTP/2 over TLS (h2, as browsers speak it), run by run ' +
      '(`config.tls`, `config.http`; a run with neither is plaintext HTTP/1.1). Figures are the driver’s bytes as counted on its sockets: ' +
      'over TLS the ciphertext, split by opening each record with the keys the client logged.',
    bytesPart(results, columns),
    setupPart(results, columns),
    hpackPart(results),
  ].join('\n\n');
}

/**
 * One frame down an open WebSocket over TLS: measured beside the polls on the emulated link where
 * the results have it, else from push runs over TLS at RTT 2d where the RTT series ran over TLS.
 */
function openTlsFrameText(results: Results, d: number): string {
  const measured = results.firstMessage;
  const wss = measured !== undefined && 'oneWayDelayMs' in measured ? measured.websocketFrameOverTls : undefined;
  if (wss !== undefined) {
    const added = wss.onTheWireMs - d;
    return (
      `One frame down an open WebSocket over TLS ${wss.version}: ${formatNumber(wss.onTheWireMs, 1)} ms on the path, ${formatNumber(wss.clientLatencyMs, 1)} ms ` +
      `by the client (measured, the table above), against d = ${formatInteger(d)} ms: ${
        Math.abs(added) <= Math.max(3, d * 0.1) ? 'once open, TLS adds no round trip' : bold(`${formatNumber(added, 1)} ms more than one way`)
      }.`
    );
  }
  const frames = completedRuns(results, { scenario: 'push', transports: ['websocket'] }).filter(
    (run) => run.config.tls !== undefined && run.config.rttMs === 2 * d && run.latencyMs.count > 0,
  );
  return frames.length === 0
    ? `One frame down an open WebSocket over TLS at RTT ${2 * d} ms: ${NOT_MEASURED} in this run (no such push run).`
    : `One frame down an open WebSocket over TLS at RTT ${2 * d} ms: ${frames
        .map((run) => `p50 ${formatNumber(run.latencyMs.p50, 1)} ms (measured, ${runLabel(run)})`)
        .join('; ')}: once open, TLS adds no round trip.`;
}

/**
 * The TLS side of "from 150 ms to 50 ms", for the RTT section: what a new connection's TLS
 * handshake adds before the poll. Where the measurement polled over TLS (the rows of its table),
 * it sums up what was measured: the round trips counted and the times against plaintext's. Where
 * it did not (results made before it did, or no netns link), it says so and gives the round trips
 * computed from the version, with the arithmetic, for the versions the runs used; nothing then if
 * no run is over TLS. An open connection's frame over TLS is measured where the RTT series ran
 * over TLS.
 */
export function tlsFirstMessageText(results: Results): string[] {
  const measured = results.firstMessage;
  const timed = measured !== undefined && 'oneWayDelayMs' in measured ? measured : undefined;
  const d = timed?.oneWayDelayMs ?? 50;
  const polls = TLS_VERSIONS.flatMap((version) => tlsPollMeasured(results, version) ?? []);
  if (timed !== undefined && polls.length > 0) {
    const trips = polls.map((poll) => `${formatInteger(poll.handshakeRoundTrips)} for TLS ${poll.version}`).join(', ');
    const hasIt = polls.map((poll) => `${formatNumber(poll.serverHasRequestMs, 1)} ms over TLS ${poll.version}`).join(' and ');
    const answer = polls.map((poll) => `${formatNumber(poll.answerMs, 1)} ms over TLS ${poll.version}`).join(' and ');
    const fresh = timed.newConnectionPoll;
    return [
      `${bold('Over TLS')}: measured (the TLS rows above). Before its request a new TLS connection makes its handshake, its round trips ` +
        `counted on the forwarder's trace: ${trips} (expected, for ${TLS_ROUND_TRIPS_FORMULA}). With d = ${formatInteger(d)} ms the server had a new connection's first poll after ${hasIt}, against ` +
        `${formatNumber(fresh.serverHasRequestMs, 1)} ms in plaintext; the answer was back at the client after ${answer}, against ` +
        `${formatNumber(fresh.answerMs, 1)} ms. ${openTlsFrameText(results, d)}`,
    ];
  }
  const overTls = completedRuns(results).filter((run) => run.config.tls !== undefined);
  if (overTls.length === 0) return [];
  const source = timed !== undefined ? 'the one-way delay of the measurement above' : "the claim's 50 ms one way";
  const why = timed !== undefined ? 'the measurement of these results polls in plaintext only' : 'these results have no measurement of it';
  const versions = [...new Set(overTls.map((run) => run.config.tls!))].sort().reverse();
  const arithmetic = versions
    .map((version) => {
      const trips = TLS_HANDSHAKE_ROUND_TRIPS[version];
      return `TLS ${version}: 3d + ${2 * trips}d = ${formatInteger((3 + 2 * trips) * d)} ms`;
    })
    .join('; ');
  return [
    `${bold('Over TLS')}: the server having a new connection's first poll is ${NOT_MEASURED} over TLS in this run (${why}). Before its ` +
      `request a new TLS connection makes its handshake, ${TLS_ROUND_TRIPS_FORMULA}, computed from the version, not ` +
      `measured; with d = ${formatInteger(d)} ms (${source}) the server would have the request after (computed: the TCP handshake and the ` +
      `request, 3d, plus 2d per handshake round trip) ${arithmetic}, against 3d = ${formatInteger(3 * d)} ms in plaintext. ${openTlsFrameText(results, d)}`,
  ];
}
