/**
 * The textbook's claims about WebSocket against polling, each decided from this run's figures.
 * The thresholds are named below with the reason for each; the report prints them beside the
 * verdicts. A results file in which WebSocket does worse turns the verdicts to "contradicted".
 */
import type { CompletedRun, Results } from '../../bench/result.ts';
import type { TransportName } from '../../servers/contract.ts';
import { FORMULAS, bytesAfterSetupPerMessage, emptyPollShare, headersFramingPerMessage, totalBytesPerMessage } from './figures.ts';
import { formatNumber, formatPercent, formatSignificant } from './format.ts';
import { code } from './markdown.ts';
import { HTTP2_TRANSPORTS, isHttp2 } from './protocols.ts';
import { POLLING_TRANSPORTS, completedRuns, sameWorkload } from './runs.ts';
import { notMeasured, restingOn, verdictOf, type ClaimVerdict } from './verdict.ts';

/**
 * Claim 1: at most this many connections per WebSocket client on average. Above 1 so that a rare
 * reconnection (one per hundred clients) does not count as "more than one connection".
 */
export const ONE_CONNECTION_MAX_PER_CLIENT = 1.01;

/**
 * Claim 2: short polling's push latency (p50) must be at least this many times the push
 * transports' for "the server can push" to make a difference a user would feel: an order of
 * magnitude. Below it (but above 1) the push transports are faster, with a nuance.
 */
export const PUSH_LATENCY_RATIO_MIN = 10;

/**
 * Claim 3: "much lighter" headers: the polling transports' headers + framing per message must be
 * at least this many times WebSocket's (an order of magnitude), and its total bytes per message
 * must also be smaller ("less data crosses the network").
 */
export const LIGHTER_HEADERS_RATIO_MIN = 10;

/** Claim 4: "most requests return nothing new": more than this share of short polls empty. */
export const MOST_POLLS_EMPTY_SHARE = 0.5;

/**
 * Claim 4: "wastes bandwidth": short polling spends at least this many times the bytes WebSocket
 * spends per delivered message for the same work (twice: half the bandwidth or more is waste).
 */
export const POLLING_WASTE_RATIO_MIN = 2;

const SCENARIOS_WITH_MESSAGES = ['echo', 'push', 'broadcast'] as const;

/**
 * Claims 3 and 4 set polling against WebSocket for one HTTP version at a time: HTTP/1.1 (the
 * textbook's; plaintext, or https beside wss) or HTTP/2 (its polls beside the WebSocket runs over
 * the same TLS). Each verdict names the one it is for.
 */
export type HttpVersionJudged = 'HTTP/1.1' | 'HTTP/2';

/** The polling runs of the version judged. */
function ofVersion(run: CompletedRun, version: HttpVersionJudged): boolean {
  return isHttp2(run) === (version === 'HTTP/2');
}

/** The polling run of `transport` that did `websocket`'s work over the version judged (and the same TLS). */
function pollingBeside(results: Results, websocket: CompletedRun, transport: TransportName, version: HttpVersionJudged): CompletedRun | undefined {
  return sameWorkload(results, websocket, transport, { tls: websocket.config.tls, http: version === 'HTTP/2' ? '2' : undefined });
}

/** The WebSocket run that did a polling run's work over the same TLS. */
function websocketBeside(results: Results, polling: CompletedRun): CompletedRun | undefined {
  return sameWorkload(results, polling, 'websocket', { tls: polling.config.tls, http: undefined });
}

/** How the claim's runs are paired for each version (said in its rule). */
const PAIRING =
  'HTTP/1.1 polling (plaintext, or over TLS) is set against WebSocket runs of the same TLS (ws, wss); HTTP/2 polling against WebSocket ' +
  'runs over the same TLS version (wss: HTTP/2 carries no WebSocket here), each verdict for one version.';

function ratioText(ratio: number): string {
  return `${formatSignificant(ratio, 3)}×`;
}

function percentRange(shares: number[]): string {
  const low = Math.min(...shares);
  const high = Math.max(...shares);
  return low === high ? formatPercent(low) : `${formatPercent(low)}–${formatPercent(high)}`;
}

function ratioRange(ratios: number[]): string {
  const low = Math.min(...ratios);
  const high = Math.max(...ratios);
  return low === high ? ratioText(low) : `${ratioText(low)}–${ratioText(high)}`;
}

function range(values: number[], decimals: number): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? formatNumber(low, decimals) : `${formatNumber(low, decimals)}–${formatNumber(high, decimals)}`;
}

function connectionsText(runs: CompletedRun[], transport: TransportName): string | undefined {
  const values = runs.filter((run) => run.transport === transport).map((run) => run.connections.perClient);
  return values.length === 0 ? undefined : `${transport} ${range(values, 2)} (${values.length} run${values.length === 1 ? '' : 's'})`;
}

export function oneConnectionClaim(results: Results): ClaimVerdict {
  const claim = 'A web client keeps one TCP connection (with WebSocket)';
  const rule =
    `Supported when every WebSocket run opened at most ${ONE_CONNECTION_MAX_PER_CLIENT} connections per client ` +
    '(`connections.perClient`) and every polling run (short-poll, long-poll) opened more; a nuance when some polling run ' +
    'also kept to as few (HTTP keep-alive reuses its connection); contradicted when WebSocket opened more.';
  const websocket = completedRuns(results, { transports: ['websocket'] });
  const polling = completedRuns(results, { transports: POLLING_TRANSPORTS }).filter((run) => !isHttp2(run));
  // an HTTP/2 client's polls, sends and event stream are streams of one connection: beside the verdict, not in it
  const http2 = completedRuns(results, { transports: HTTP2_TRANSPORTS }).filter(isHttp2);
  const http2Rule =
    http2.length === 0
      ? ''
      : ' HTTP/2 runs are listed beside and do not decide it (the claim sets WebSocket against HTTP/1.1 polling): an HTTP/2 client keeps one ' +
        'connection for everything, its polls, its sends and its event stream being streams of it.';
  const ruleText = `${rule}${http2Rule}`;
  if (websocket.length === 0 || polling.length === 0) return notMeasured(claim, ruleText, 'needs a completed WebSocket run and a completed polling run');
  const websocketMax = Math.max(...websocket.map((run) => run.connections.perClient));
  const fewestPolling = polling.reduce((best, run) => (run.connections.perClient < best.connections.perClient ? run : best));
  const figure =
    `TCP connections per client: WebSocket at most ${formatNumber(websocketMax, 2)}; polling as few as ` +
    `${formatNumber(fewestPolling.connections.perClient, 2)} (${code(fewestPolling.id)}).`;
  const evidence = [
    `TCP connections per client (measured: \`connections.perClient\`): ${[...POLLING_TRANSPORTS, 'websocket' as const]
      .map((transport) => connectionsText([...polling, ...websocket], transport))
      .filter((text) => text !== undefined)
      .join('; ')}.`,
  ];
  if (http2.length > 0) {
    evidence.push(
      `Over HTTP/2, TCP connections per client (measured: \`connections.perClient\`): ${HTTP2_TRANSPORTS.map((transport) => connectionsText(http2, transport))
        .filter((text) => text !== undefined)
        .join('; ')}: one connection for everything, as with WebSocket.`,
    );
  }
  const used = [...polling, ...websocket];
  if (websocketMax > ONE_CONNECTION_MAX_PER_CLIENT) return restingOn({ claim, verdict: 'contradicted', figure, evidence, rule: ruleText }, used);
  return restingOn(
    {
      claim,
      verdict: fewestPolling.connections.perClient > websocketMax ? 'supported' : 'supported with a nuance',
      figure,
      evidence,
      rule: ruleText,
    },
    used,
  );
}

export function serverPushClaim(results: Results): ClaimVerdict {
  const claim = 'The server can push data (without waiting for the client to ask)';
  const rule =
    'Push runs of WebSocket and SSE against the short-poll push run with the same workload (clients, size, rate); short polling ' +
    `only learns of news at its next poll. Supported when short-poll's p50 latency is at least ${PUSH_LATENCY_RATIO_MIN}× each push ` +
    `transport's; a nuance when it is higher but by less; contradicted when it is not higher.`;
  const pairs = completedRuns(results, { scenario: 'push', transports: ['websocket', 'sse'] })
    .map((pushed) => ({ pushed, polled: sameWorkload(results, pushed, 'short-poll') }))
    .filter((pair): pair is { pushed: CompletedRun; polled: CompletedRun } => pair.polled !== undefined)
    .filter(({ pushed, polled }) => pushed.latencyMs.count > 0 && polled.latencyMs.count > 0);
  if (pairs.length === 0) return notMeasured(claim, rule, 'needs push runs of short-poll and of WebSocket or SSE with the same workload');
  const ratios = pairs.map(({ pushed, polled }) => polled.latencyMs.p50 / pushed.latencyMs.p50);
  const describe = ({ pushed, polled }: (typeof pairs)[number], index: number): string =>
    `${code(pushed.id)} p50 ${formatNumber(pushed.latencyMs.p50, 3)} ms against ${code(polled.id)} p50 ${formatNumber(polled.latencyMs.p50, 3)} ms ` +
    `(polling every ${polled.config.pollIntervalMs} ms): ${ratioText(ratios[index] ?? 0)}`;
  const lowest = Math.min(...ratios);
  const lowestIndex = ratios.indexOf(lowest);
  const figure =
    `The closest of ${pairs.length} pair${pairs.length === 1 ? '' : 's'}: ${describe(pairs[lowestIndex]!, lowestIndex)} ` +
    '(computed: short-poll p50 / push p50).';
  return restingOn(
    {
      claim,
      verdict: verdictOf([lowest > 1, lowest >= PUSH_LATENCY_RATIO_MIN]),
      figure,
      evidence: pairs.map((pair, index) => `${describe(pair, index)}.`),
      evidenceLead: 'Every pair (computed: short-poll p50 / push p50):',
      rule,
    },
    pairs.flatMap(({ pushed, polled }) => [pushed, polled]),
  );
}

export function lighterHeadersClaim(results: Results, version: HttpVersionJudged = 'HTTP/1.1'): ClaimVerdict {
  const claim = `Frames carry much lighter headers, so less data crosses the network (against ${version} polling)`;
  const rule =
    `Per message, headers + framing (${FORMULAS.headersFramingPerMessage}; setup is paid once per connection and left out, and so is TLS's ` +
    `record layer, the same around either), for WebSocket against short-poll and long-poll runs with the same workload. ${PAIRING} ` +
    `Supported when polling's is at least ${LIGHTER_HEADERS_RATIO_MIN}× ` +
    "WebSocket's in every pair and WebSocket's total bytes per message are smaller; a nuance when it is lighter but not by that much, " +
    'or the total is not smaller; contradicted when WebSocket is not lighter.';
  const pairs = completedRuns(results, { transports: ['websocket'] })
    .filter((run) => (SCENARIOS_WITH_MESSAGES as readonly string[]).includes(run.scenario) && run.messages.received > 0)
    .flatMap((websocket) => POLLING_TRANSPORTS.map((transport) => ({ websocket, polling: pollingBeside(results, websocket, transport, version) })))
    .filter((pair): pair is { websocket: CompletedRun; polling: CompletedRun } => pair.polling !== undefined && pair.polling.messages.received > 0);
  if (pairs.length === 0) {
    const missing =
      version === 'HTTP/2'
        ? 'needs HTTP/2 polling runs beside WebSocket runs of the same workload over the same TLS version'
        : 'needs WebSocket and polling runs of the same workload';
    return { ...notMeasured(claim, rule, missing), judgedFor: version };
  }
  const measured = pairs.map(({ websocket, polling }) => {
    const websocketBytes = headersFramingPerMessage(websocket) ?? 0;
    const pollingBytes = headersFramingPerMessage(polling) ?? 0;
    return {
      websocket,
      polling,
      websocketBytes,
      pollingBytes,
      ratio: websocketBytes === 0 ? (pollingBytes === 0 ? 1 : Infinity) : pollingBytes / websocketBytes,
      lessData: (totalBytesPerMessage(websocket) ?? 0) < (totalBytesPerMessage(polling) ?? 0),
    };
  });
  const lowest = measured.reduce((low, pair) => (pair.ratio < low.ratio ? pair : low));
  const describe = (pair: (typeof measured)[number]): string =>
    `${code(pair.websocket.id)} ${formatNumber(pair.websocketBytes, 1)} B against ${code(pair.polling.id)} ${formatNumber(pair.pollingBytes, 1)} B ` +
    `(${ratioText(pair.ratio)})`;
  const notLess = measured.filter((pair) => !pair.lessData);
  const figure = `Headers + framing per message, the closest of ${measured.length} pairs: ${describe(lowest)} (computed: polling / WebSocket).`;
  const evidence = [
    notLess.length === 0
      ? `WebSocket sent fewer bytes per message in total (${FORMULAS.bytesPerMessage}) in every pair.`
      : `WebSocket did not send fewer bytes per message in total in ${notLess.length} pairs (e.g. ${code(notLess[0]?.websocket.id ?? '')}).`,
  ];
  return restingOn(
    {
      claim,
      judgedFor: version,
      verdict: verdictOf([lowest.ratio > 1, lowest.ratio >= LIGHTER_HEADERS_RATIO_MIN && notLess.length === 0]),
      figure,
      evidence,
      rule,
    },
    measured.flatMap(({ websocket, polling }) => [websocket, polling]),
  );
}

export function pollingWasteClaim(results: Results, version: HttpVersionJudged = 'HTTP/1.1'): ClaimVerdict {
  const claim = `Polling wastes bandwidth: most requests return nothing new (${version} polling)`;
  const rule =
    `Each short-poll run with news to deliver (push, broadcast) makes two tests: more than ${formatPercent(MOST_POLLS_EMPTY_SHARE, 0)} of its polls ` +
    `empty (${FORMULAS.emptyPolls}), and at least ${POLLING_WASTE_RATIO_MIN}× the bytes per delivered message of the WebSocket run with the ` +
    `same workload, setup left out (${FORMULAS.bytesAfterSetupPerMessage}: a connection's handshakes, TLS's among them, are paid once, and ` +
    `over a run of seconds would weigh as if connections lived that long). ${PAIRING} Supported when every test holds, contradicted when ` +
    'none does, a nuance in between (how many polls find nothing depends on the poll interval against the message rate).';
  const runs = completedRuns(results, { transports: ['short-poll'] }).filter(
    (run) => (run.scenario === 'push' || run.scenario === 'broadcast') && ofVersion(run, version),
  );
  const tests: boolean[] = [];
  const lines: string[] = [];
  const used: CompletedRun[] = [];
  const shares: number[] = [];
  const ratios: number[] = [];
  for (const run of runs) {
    const share = emptyPollShare(run);
    const perMessage = bytesAfterSetupPerMessage(run);
    if (share === undefined || perMessage === undefined) continue;
    used.push(run);
    tests.push(share > MOST_POLLS_EMPTY_SHARE);
    shares.push(share);
    let line = `${code(run.id)}: ${run.polls.empty} of ${run.polls.total} polls empty (${formatPercent(share)}), ${formatNumber(perMessage, 1)} B per delivered message after setup`;
    const websocket = websocketBeside(results, run);
    const websocketPerMessage = websocket === undefined ? undefined : bytesAfterSetupPerMessage(websocket);
    if (websocket !== undefined && websocketPerMessage !== undefined) {
      const ratio = perMessage / websocketPerMessage;
      used.push(websocket);
      tests.push(ratio >= POLLING_WASTE_RATIO_MIN);
      ratios.push(ratio);
      line += `, ${ratioText(ratio)} the ${formatNumber(websocketPerMessage, 1)} B of ${code(websocket.id)}`;
    }
    lines.push(line);
  }
  if (tests.length === 0)
    return { ...notMeasured(claim, rule, `needs a short-poll push or broadcast run over ${version} that delivered messages`), judgedFor: version };
  const idle = completedRuns(results, { scenario: 'idle', transports: ['short-poll'] }).filter((run) => run.polls.total > 0 && ofVersion(run, version));
  const idleLines = idle.map((run) => `${code(run.id)}: ${run.polls.empty} of ${run.polls.total} polls empty with nothing to deliver`);
  const mostEmpty = shares.filter((share) => share > MOST_POLLS_EMPTY_SHARE).length;
  const wasteful = ratios.filter((ratio) => ratio >= POLLING_WASTE_RATIO_MIN).length;
  const figure =
    `Polls empty: ${mostEmpty} of ${shares.length} runs over ${formatPercent(MOST_POLLS_EMPTY_SHARE, 0)} (${percentRange(shares)}); ` +
    (ratios.length === 0
      ? 'no WebSocket run of the same work to compare bytes with.'
      : `bytes per delivered message after setup: ${wasteful} of ${ratios.length} at least ${POLLING_WASTE_RATIO_MIN}× WebSocket's (${ratioRange(ratios)}).`);
  return restingOn(
    {
      claim,
      judgedFor: version,
      verdict: verdictOf(tests),
      figure,
      evidence: [...lines, ...idleLines].map((line) => `${line}.`),
      evidenceLead: `Every short-poll run with news to deliver, and the idle ones (computed: ${FORMULAS.emptyPolls}; ${FORMULAS.bytesAfterSetupPerMessage}):`,
      rule,
    },
    [...used, ...idle],
  );
}
