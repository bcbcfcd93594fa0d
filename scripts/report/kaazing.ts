/**
 * The Kaazing table (Lubbers and Greco, 2010, "A Quantum Leap in Scalability for the Web"): HTTP
 * polling's header bytes against WebSocket's framing, scaled to many clients, as they published
 * it and as this run's bytes (and a real browser's, when measured) make it.
 */
import type { BrowserFigures, CompletedRun, Results } from '../../bench/result.ts';
import { browserFigures, browserHttp2Figures, browserPollBytes, browserState, type BrowserHttp2Figures } from './browser.ts';
import { isHttp2 } from './protocols.ts';
import { BITS_PER_MEGABIT, FORMULAS, bandwidthMbps, wholeRunSeconds } from './figures.ts';
import { formatInteger, formatNumber, formatSignificant } from './format.ts';
import { bold, table } from './markdown.ts';
import { completedRuns } from './runs.ts';
import { DELIVERED_FORMULA, askedRate, boundCell, boundText, deliveredShare, isDriverBound, markDriverBound, runLabel, shortfallText } from './run-bound.ts';

/** Their figures, quoted: header bytes of one poll (request and response) and framing bytes of one frame. */
const KAAZING_POLL_BYTES = 871;
const KAAZING_FRAME_BYTES = 2;
/** Their table, quoted as printed (their Mbps is 2^20 bit/s). */
const KAAZING_ROWS = [
  { clients: 1_000, pollingMbps: '6.6', websocketMbps: '0.015' },
  { clients: 10_000, pollingMbps: '66', websocketMbps: '0.153' },
  { clients: 100_000, pollingMbps: '665', websocketMbps: '1.526' },
] as const;

/** Their case: every client polls (or receives a message) once a second. */
const KAAZING_PUSH_RATE_PER_SECOND = 1;
const KAAZING_POLL_INTERVAL_MS = 1000;

const NOT_MEASURED = 'not measured in this run';
const MBPS_DIGITS = 3;

/** Cookie sizes (name=value, bytes) the section sets the polls at: none, a small session id, a site's usual load. */
const COOKIE_SIZES = [0, 100, 1000] as const;
/** What a cookie of n bytes adds to a request: the line `Cookie: ` + n + CRLF. */
const COOKIE_LINE_EXTRA_BYTES = 'Cookie: \r\n'.length;
export const COOKIE_LINE_FORMULA = `\`Cookie: \` + n + CRLF = n + ${COOKIE_LINE_EXTRA_BYTES} bytes`;
/** The client count the cookie table gives bandwidth for: Kaazing's largest. */
const COOKIE_TABLE_CLIENTS = KAAZING_ROWS[KAAZING_ROWS.length - 1]!.clients;

interface Chosen {
  run: CompletedRun;
  /** Whether it is the Kaazing case; if not, the report says that it fell back on another run. */
  kaazing: boolean;
}

/** The run with the most clients among the Kaazing-like ones, else among all candidates. */
function choose(candidates: CompletedRun[], isKaazing: (run: CompletedRun) => boolean): Chosen | undefined {
  const most = (runs: CompletedRun[]): CompletedRun | undefined =>
    runs.reduce<CompletedRun | undefined>((best, run) => (best === undefined || run.clients > best.clients ? run : best), undefined);
  const kaazing = most(candidates.filter(isKaazing));
  if (kaazing !== undefined) return { run: kaazing, kaazing: true };
  const any = most(candidates);
  return any === undefined ? undefined : { run: any, kaazing: false };
}

/** The short-poll run of the HTTP version asked: HTTP/1.1 (the article's), or HTTP/2 for its own rows. */
function kaazingPollRun(results: Results, http2 = false): Chosen | undefined {
  const runs = completedRuns(results, { scenario: 'push', transports: ['short-poll'] }).filter((run) => run.polls.total > 0 && isHttp2(run) === http2);
  return choose(
    http2 ? runs : plaintextFirst(runs),
    (run) => run.config.pushRatePerSecond === KAAZING_PUSH_RATE_PER_SECOND && run.config.pollIntervalMs === KAAZING_POLL_INTERVAL_MS,
  );
}

/** Which of the browser's HTTP/2 polls stands for a poll made once the connection is going: the tenth (HPACK's tables filled by then). */
const LATER_POLL_INDEX = 9;

/** A later HTTP/2 poll of the browser: the tenth poll's request and response header blocks (the last one's, if it made fewer). */
function browserHttp2Poll(figures: BrowserHttp2Figures): { bytes: number; poll: number } {
  const index = Math.min(LATER_POLL_INDEX, figures.requests.length - 1);
  return { bytes: (figures.requests[index] ?? 0) + (figures.responses[index] ?? 0), poll: index + 1 };
}

function ordinal(n: number): string {
  const names = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];
  return names[n - 1] ?? `${n}th`;
}

/** The plaintext runs where there are (the article's case), else those over TLS: their headers and framing are the same. */
function plaintextFirst(runs: CompletedRun[]): CompletedRun[] {
  const plaintext = runs.filter((run) => run.config.tls === undefined);
  return plaintext.length > 0 ? plaintext : runs;
}

function kaazingWebSocketRun(results: Results): Chosen | undefined {
  const runs = plaintextFirst(completedRuns(results, { scenario: 'push', transports: ['websocket'] }).filter((run) => run.messages.received > 0));
  return choose(runs, (run) => run.config.pushRatePerSecond === KAAZING_PUSH_RATE_PER_SECOND);
}

/** Headers and framing, both ways, per poll: what a poll costs besides the messages it brings. */
export function pollOverheadBytes(run: CompletedRun): number {
  const { up, down } = run.bytes;
  return (up.headers + up.framing + down.headers + down.framing) / run.polls.total;
}

/** Headers and framing going down, per message: what a pushed message costs besides itself. */
export function frameOverheadBytes(run: CompletedRun): number {
  return (run.bytes.down.headers + run.bytes.down.framing) / run.messages.received;
}

/** Bandwidth, in 2^20 bit/s, of `clients` each costing `bytes` once a second. */
function kaazingMbps(bytes: number, clients: number): number {
  return (bytes * 8 * clients * KAAZING_PUSH_RATE_PER_SECOND) / BITS_PER_MEGABIT;
}

/** Bytes as the formula shows them: whole counts as they are, averages to a tenth. */
function bytesText(bytes: number): string {
  return formatNumber(bytes, Number.isInteger(bytes) ? 0 : 1);
}

function computedCell(bytes: number, clients: number): string {
  return `${formatSignificant(kaazingMbps(bytes, clients), MBPS_DIGITS)} Mbps (computed: ${bytesText(bytes)} × 8 × ${formatInteger(clients)} / 2^20)`;
}

/** Bytes the Cookie line of a cookie of n bytes (name=value) adds to a request (0: no line). */
export function cookieLineBytes(cookieBytes: number): number {
  return cookieBytes > 0 ? cookieBytes + COOKIE_LINE_EXTRA_BYTES : 0;
}

/** A per-poll figure as measured with a cookie of `carried` bytes, and the cookie that was. */
interface PollFigure {
  bytes: number;
  carried: number;
}

/** The header bytes per poll with a cookie of n bytes: measured when the poll carried that cookie, else computed from the measured figure. */
function pollWithCookie(figure: PollFigure, cookieBytes: number): { bytes: number; text: string } {
  const bytes = figure.bytes - cookieLineBytes(figure.carried) + cookieLineBytes(cookieBytes);
  if (cookieBytes === figure.carried) return { bytes, text: `${bytesText(figure.bytes)} (measured)` };
  const less = figure.carried > 0 ? ` − ${formatInteger(cookieLineBytes(figure.carried))}` : '';
  const more = cookieBytes > 0 ? ` + ${formatInteger(cookieLineBytes(cookieBytes))}` : '';
  return { bytes, text: `${bytesText(bytes)} (computed: ${bytesText(figure.bytes)}${less}${more})` };
}

function mbpsText(bytes: number, clients: number): string {
  return `${formatSignificant(kaazingMbps(bytes, clients), MBPS_DIGITS)} Mbps`;
}

/** Per poll and at Kaazing's largest count, with no cookie, a small and a large one (and the ones the polls carried). */
function cookieTable(thisRun: PollFigure | undefined, browser: PollFigure | undefined): string {
  const sizes = [...new Set([...COOKIE_SIZES, thisRun?.carried ?? 0, browser?.carried ?? 0])].sort((a, b) => a - b);
  const cells = (figure: PollFigure | undefined, cookieBytes: number): string[] => {
    if (figure === undefined) return [NOT_MEASURED, NOT_MEASURED];
    const poll = pollWithCookie(figure, cookieBytes);
    return [poll.text, `${mbpsText(poll.bytes, COOKIE_TABLE_CLIENTS)} (computed)`];
  };
  return table(
    [
      'cookie (B, name=value)',
      'this run: per poll (B)',
      `this run: ${formatInteger(COOKIE_TABLE_CLIENTS)} clients`,
      'real browser: per poll (B)',
      `real browser: ${formatInteger(COOKIE_TABLE_CLIENTS)} clients`,
    ],
    sizes.map((cookieBytes) => [formatInteger(cookieBytes), ...cells(thisRun, cookieBytes), ...cells(browser, cookieBytes)]),
    ['right', 'right', 'right', 'right', 'right'],
  );
}

function cookieNote(results: Results, pollChoice: Chosen | undefined): string {
  const browser = browserFigures(results);
  const carried = [
    pollChoice === undefined ? undefined : `this run's polls ${carriedText(pollChoice.run.config.cookieBytes ?? 0)}`,
    browser === undefined ? undefined : `the browser's ${carriedText(browser.cookieBytes ?? 0)}`,
  ].filter((text) => text !== undefined);
  return (
    `**With a cookie**: the ${KAAZING_POLL_BYTES} bytes of the article include a cookie; a real site's polls carry its cookies on every request. ` +
    `A cookie of n bytes (name=value) adds the line ${COOKIE_LINE_FORMULA} to each poll request (computed), so the header bytes per poll with ` +
    `n bytes of cookie are computed from the measured ones: measured − the cookie line the poll carried + the line of n. Bandwidth for ` +
    `${formatInteger(COOKIE_TABLE_CLIENTS)} clients polling once a second (computed: bytes × 8 × ${formatInteger(COOKIE_TABLE_CLIENTS)} / 2^20).` +
    (carried.length === 0 ? '' : ` Measured: ${carried.join(', ')} (--cookie-bytes).`)
  );
}

function carriedText(cookieBytes: number): string {
  return cookieBytes > 0 ? `carried a ${formatInteger(cookieBytes)}-byte cookie` : 'carried no cookie';
}

function choiceNote(chosen: Chosen | undefined, what: string, kaazingCase: string): string {
  if (chosen === undefined) return `${what}: ${NOT_MEASURED} (no such run).`;
  const fallback = chosen.kaazing ? '' : ` No run matched the Kaazing case (${kaazingCase}), so this is the one with the most clients.`;
  const bound = isDriverBound(chosen.run) ? ` ${bold(`It was ${boundText(chosen.run)}.`)}` : '';
  const short = shortfallText(chosen.run);
  const cookie = (chosen.run.config.cookieBytes ?? 0) > 0 ? ` Its requests carried a ${formatInteger(chosen.run.config.cookieBytes ?? 0)}-byte cookie.` : '';
  return `${what}: from ${runLabel(chosen.run)}.${fallback}${cookie}${bound}${short === undefined ? '' : ` ${bold(`It ${short}.`)}`}`;
}

/** A "this run" cell: the figure, marked when its run was driver-bound, and a note when the run delivered short of what it asked. */
function thisRunCell(run: CompletedRun, text: string): string {
  const short = shortfallText(run);
  return markDriverBound(run, short === undefined ? text : `${text}; ${bold(`the run ${short}`)}`);
}

/** What a run delivered of what it asked, a second: "6,742 of 10,000 (67.4%)". */
function deliveredOfAsked(run: CompletedRun): string {
  const share = deliveredShare(run);
  const asked = askedRate(run);
  const delivered = formatInteger(run.throughput.messagesPerSecond);
  if (share === undefined || asked === undefined) return `${delivered} (asked: none)`;
  const text = `${delivered} of ${formatInteger(asked.perSecond)} (${formatNumber(share * 100, 1)}%)`;
  const formula = asked.computed === undefined ? '' : ` (asked computed: ${asked.computed})`;
  return shortfallText(run) === undefined ? `${text}${formula}` : `${bold(`${text}: SHORT`)}${formula}`;
}

function bandwidthTable(quoted: (row: (typeof KAAZING_ROWS)[number]) => string, measuredBytes: number | undefined, browserBytes: number | undefined): string {
  return table(
    ['clients', 'quoted, 2010', 'this run', 'real browser'],
    KAAZING_ROWS.map((row) => [
      formatInteger(row.clients),
      `${quoted(row)} Mbps (quoted)`,
      measuredBytes === undefined ? NOT_MEASURED : computedCell(measuredBytes, row.clients),
      browserBytes === undefined ? NOT_MEASURED : computedCell(browserBytes, row.clients),
    ]),
    ['right', 'right', 'right', 'right'],
  );
}

/** For the client counts actually run: the average bandwidth of each short-poll and WebSocket push run. */
function measuredBandwidthTable(results: Results): string {
  const runs = completedRuns(results, { scenario: 'push', transports: ['short-poll', 'websocket'] });
  if (runs.length === 0) return `Measured bandwidth: ${NOT_MEASURED} (no short-poll or WebSocket push run).`;
  return table(
    [
      'run',
      'clients',
      'bound',
      `msg/s delivered of asked (measured; % computed: ${DELIVERED_FORMULA})`,
      'bytes up + down (whole run)',
      'seconds (warm-up + window)',
      `Mbps (measured: ${FORMULAS.mbps})`,
    ],
    runs.map((run) => [
      runLabel(run),
      formatInteger(run.clients),
      boundCell(run),
      deliveredOfAsked(run),
      `${formatInteger(run.bytes.up.total + run.bytes.down.total)} (measured)`,
      formatNumber(wholeRunSeconds(run.config), 1),
      `${formatSignificant(bandwidthMbps(run), MBPS_DIGITS)} (measured)`,
    ]),
    ['left', 'right', 'left', 'right', 'right', 'right', 'right'],
  );
}

/** Why the real-browser column is empty, when the results say. */
function browserNote(results: Results): string[] {
  const state = browserState(results);
  if (state.state === 'failed') return [bold(`Real browser: the measurement FAILED: ${state.error}`)];
  if (state.state === 'skipped') return [`Real browser: not measured in this run (${state.reason}).`];
  return [];
}

/** The runs the Kaazing rows are computed from, and what a poll, a frame and the browser's poll cost in them. */
function kaazingFigures(results: Results): {
  pollChoice: Chosen | undefined;
  frameChoice: Chosen | undefined;
  browser: BrowserFigures | undefined;
  pollBytes: number | undefined;
  frameBytes: number | undefined;
  browserPoll: number | undefined;
  /** HTTP/2: shown where the results have an HTTP/2 run or the browser's HTTP/2 polls. */
  http2: {
    pollChoice: Chosen | undefined;
    pollBytes: number | undefined;
    browser: BrowserHttp2Figures | undefined;
    browserPoll: { bytes: number; poll: number } | undefined;
  };
  showHttp2: boolean;
} {
  const pollChoice = kaazingPollRun(results);
  const frameChoice = kaazingWebSocketRun(results);
  const browser = browserFigures(results);
  const http2Choice = kaazingPollRun(results, true);
  const browserHttp2 = browserHttp2Figures(results);
  return {
    pollChoice,
    frameChoice,
    browser,
    pollBytes: pollChoice === undefined ? undefined : pollOverheadBytes(pollChoice.run),
    frameBytes: frameChoice === undefined ? undefined : frameOverheadBytes(frameChoice.run),
    browserPoll: browser === undefined ? undefined : browserPollBytes(browser),
    http2: {
      pollChoice: http2Choice,
      pollBytes: http2Choice === undefined ? undefined : pollOverheadBytes(http2Choice.run),
      browser: browserHttp2,
      browserPoll: browserHttp2 === undefined ? undefined : browserHttp2Poll(browserHttp2),
    },
    showHttp2: results.runs.some(isHttp2) || browserHttp2 !== undefined,
  };
}

/** The HTTP/2 run's first client's header series: its first poll against its tenth, where the run kept it. */
function seriesNote(run: CompletedRun): string {
  const series = run.headerSeries;
  if (series === undefined || series.requests.length === 0 || series.responses.length === 0) return '';
  const later = Math.min(LATER_POLL_INDEX, series.requests.length - 1, series.responses.length - 1);
  return (
    ` Its first client's header blocks (measured: \`headerSeries\`): the first request and response ${formatInteger(series.requests[0]!)} + ` +
    `${formatInteger(series.responses[0]!)} B, the ${ordinal(later + 1)} ${formatInteger(series.requests[later]!)} + ${formatInteger(series.responses[later]!)} B: ` +
    'HPACK sends a field whole once, then refers to it, so the average per poll is close to a later poll’s.'
  );
}

/** The HTTP/2 rows of the per-unit table, the HTTP/2 bandwidth table and its notes; none where nothing of HTTP/2 was measured. */
function http2Parts(results: Results): { unitRow: string[] | undefined; parts: string[] } {
  const { http2, showHttp2 } = kaazingFigures(results);
  if (!showHttp2) return { unitRow: undefined, parts: [] };
  const { pollChoice, pollBytes, browser, browserPoll } = http2;
  const tls = pollChoice?.run.config.tls;
  const unitRow = [
    `HTTP/2 polling${tls === undefined ? '' : ` over TLS ${tls}`}: headers + framing per poll (B)`,
    'not in the article (HTTP/2 is of 2015)',
    pollBytes === undefined || pollChoice === undefined
      ? NOT_MEASURED
      : thisRunCell(pollChoice.run, `${formatNumber(pollBytes, 1)} (measured: (headers + framing, up + down) / polls)`),
    browserPoll === undefined || browser === undefined
      ? NOT_MEASURED
      : `${formatInteger(browserPoll.bytes)} (measured: the ${ordinal(browserPoll.poll)} poll's request + response header blocks, TLS ${browser.tlsVersion})`,
  ];
  const choice =
    choiceNote(pollChoice, 'This run, HTTP/2 polling', `push 1 msg/s, polling every ${KAAZING_POLL_INTERVAL_MS} ms, over HTTP/2`) +
    (pollChoice === undefined ? '' : seriesNote(pollChoice.run));
  const browserText =
    browser === undefined || browserPoll === undefined
      ? ''
      : ` Real browser: its HTTP/2 polls after HPACK, the ${ordinal(browserPoll.poll)} poll's request and response header blocks ` +
        `(${formatInteger(browser.requests[browserPoll.poll - 1] ?? 0)} + ${formatInteger(browser.responses[browserPoll.poll - 1] ?? 0)} B, measured) ` +
        `against the first poll's ${formatInteger(browser.requests[0] ?? 0)} + ${formatInteger(browser.responses[0] ?? 0)} B; HTTP/2's frame headers ` +
        '(9 bytes a frame) are framing and not in it, as the HTTP/1.1 figure is the heads alone.';
  return {
    unitRow,
    parts: [
      `${choice}${browserText}`,
      '**HTTP/2 polling**, one poll per client per second:',
      table(
        ['clients', 'this run', 'real browser'],
        KAAZING_ROWS.map((row) => [
          formatInteger(row.clients),
          pollBytes === undefined ? NOT_MEASURED : computedCell(pollBytes, row.clients),
          browserPoll === undefined ? NOT_MEASURED : computedCell(browserPoll.bytes, row.clients),
        ]),
        ['right', 'right', 'right'],
      ),
    ],
  };
}

export function kaazingSection(results: Results): string {
  const { pollChoice, frameChoice, browser, pollBytes, frameBytes, browserPoll } = kaazingFigures(results);
  const browserLabel = browser === undefined ? '' : ` (${browser.name} ${browser.version})`;
  const http2 = http2Parts(results);
  const perUnit = table(
    ['', 'quoted, 2010', 'this run', `real browser${browserLabel}`],
    [
      [
        'HTTP polling: headers + framing per poll (B)',
        `${KAAZING_POLL_BYTES} (quoted)`,
        pollBytes === undefined || pollChoice === undefined
          ? NOT_MEASURED
          : thisRunCell(pollChoice.run, `${formatNumber(pollBytes, 1)} (measured: (headers + framing, up + down) / polls)`),
        browserPoll === undefined ? NOT_MEASURED : `${formatInteger(browserPoll)} (measured: poll request + response head)`,
      ],
      [
        'WebSocket: headers + framing per message (B)',
        `${KAAZING_FRAME_BYTES} (quoted)`,
        frameBytes === undefined || frameChoice === undefined
          ? NOT_MEASURED
          : thisRunCell(frameChoice.run, `${formatNumber(frameBytes, 1)} (measured: (headers + framing, down) / messages received)`),
        browser === undefined ? NOT_MEASURED : `${formatInteger(browser.websocketFrameBytes)} (measured: framing of one frame)`,
      ],
      ...(http2.unitRow === undefined ? [] : [http2.unitRow]),
    ],
    ['left', 'right', 'right', 'right'],
  );
  return [
    '## Kaazing: polling against WebSocket at scale',
    `Lubbers and Greco (2010), "A Quantum Leap in Scalability for the Web", set ${KAAZING_POLL_BYTES} bytes of HTTP headers per poll ` +
      `against ${KAAZING_FRAME_BYTES} bytes of framing per WebSocket frame, for ${KAAZING_ROWS.map((row) => formatInteger(row.clients)).join(', ')} ` +
      `clients each polling (or receiving one message) once a second (quoted). Their Mbps is 2^20 bit/s: ${KAAZING_POLL_BYTES} × 8 × ` +
      `${formatInteger(KAAZING_ROWS[0].clients)} / 2^20 = ${KAAZING_ROWS[0].pollingMbps}. Below, their figures as quoted, and the same tables ` +
      "computed from the bytes this run measured and, when measured, a real browser's.",
    perUnit,
    ...browserNote(results),
    [
      choiceNote(pollChoice, 'This run, polling', `push 1 msg/s, polling every ${KAAZING_POLL_INTERVAL_MS} ms`),
      choiceNote(frameChoice, 'This run, WebSocket', 'push 1 msg/s'),
    ].join(' '),
    '**HTTP polling**, one poll per client per second:',
    bandwidthTable((row) => row.pollingMbps, pollBytes, browserPoll),
    cookieNote(results, pollChoice),
    cookieTable(
      pollBytes === undefined || pollChoice === undefined ? undefined : { bytes: pollBytes, carried: pollChoice.run.config.cookieBytes ?? 0 },
      browserPoll === undefined || browser === undefined ? undefined : { bytes: browserPoll, carried: browser.cookieBytes ?? 0 },
    ),
    '**WebSocket**, one message per client per second:',
    bandwidthTable((row) => row.websocketMbps, frameBytes, browser?.websocketFrameBytes),
    ...http2.parts,
    '**Measured** for the client counts this run had (short-poll and WebSocket push runs, payload included):',
    measuredBandwidthTable(results),
  ].join('\n\n');
}

/** Kaazing's rows in brief, for the report's opening: polling and WebSocket at their client counts, quoted and computed. */
export function kaazingSummary(results: Results): string {
  const { pollChoice, frameChoice, pollBytes, frameBytes, browserPoll, http2, showHttp2 } = kaazingFigures(results);
  const cell = (bytes: number | undefined, clients: number, run?: CompletedRun): string => {
    if (bytes === undefined) return 'not measured';
    const text = formatSignificant(kaazingMbps(bytes, clients), MBPS_DIGITS);
    if (run === undefined) return text;
    return markDriverBound(run, shortfallText(run) === undefined ? text : `${text} (${bold('delivered short')})`);
  };
  const http2Columns = showHttp2 ? ['HTTP/2 polling: this run', 'HTTP/2 polling: real browser'] : [];
  const tableText = table(
    ['clients', 'polling: quoted', 'polling: this run', 'polling: real browser', 'WebSocket: quoted', 'WebSocket: this run', ...http2Columns],
    KAAZING_ROWS.map((row) => [
      formatInteger(row.clients),
      row.pollingMbps,
      cell(pollBytes, row.clients, pollChoice?.run),
      cell(browserPoll, row.clients),
      row.websocketMbps,
      cell(frameBytes, row.clients, frameChoice?.run),
      ...(showHttp2 ? [cell(http2.pollBytes, row.clients, http2.pollChoice?.run), cell(http2.browserPoll?.bytes, row.clients)] : []),
    ]),
    ['right', 'right', 'right', 'right', 'right', 'right', ...http2Columns.map(() => 'right' as const)],
  );
  const bytes = (value: number | undefined): string => (value === undefined ? 'not measured' : `${bytesText(value)} B`);
  const http2Text = showHttp2
    ? `; over HTTP/2, this run's ${bytes(http2.pollBytes)} per poll and the real browser's ` +
      `${http2.browserPoll === undefined ? 'not measured' : `${bytes(http2.browserPoll.bytes)} (its ${ordinal(http2.browserPoll.poll)} poll's header blocks)`}`
    : '';
  return [
    tableText,
    `Mbps (2^20 bit/s) for clients each polling, or each receiving one WebSocket message, once a second: quoted from Lubbers and Greco (2010) ` +
      `(${KAAZING_POLL_BYTES} B per poll, ${KAAZING_FRAME_BYTES} B per frame), computed from this run's ${bytes(pollBytes)} per poll and ` +
      `${bytes(frameBytes)} per message${browserPoll === undefined ? '' : `, and the real browser's ${bytes(browserPoll)} per poll`}${http2Text}: ` +
      'bytes × 8 × clients / 2^20.',
  ].join('\n\n');
}
