/**
 * Latency against round-trip time: the echo and push runs of the RTT series (bench/scenarios.ts)
 * per transport, and whether each transport's expected relation to the RTT holds in this run.
 */
import type { CompletedRun, Results } from '../../bench/result.ts';
import { TRANSPORTS, type TransportName } from '../../servers/contract.ts';
import { formatInteger, formatNumber } from './format.ts';
import { bullets, table } from './markdown.ts';
import { completedRuns } from './runs.ts';
import { runId } from '../../bench/scenarios.ts';
import { boundCell, markDriverBound, runLabel } from './run-bound.ts';
import { firstMessageMissing, firstMessageText, rttLinkText } from './link-section.ts';
import { tlsFirstMessageText } from './protocols-section.ts';

/**
 * A measured added latency "matches" an expectation when it is within this much of it: the
 * larger of an absolute slack (timers, the relay's own cost) and a share of the expected value.
 */
const MATCH_SLACK_MS = 3;
const MATCH_SLACK_SHARE = 0.15;

interface Expectation {
  /** The relation, in words, for the reader. */
  text: string;
  /** The p50 this transport should show at `rttMs`, from its p50 at RTT 0 and the run's config: [low, high]. */
  expectedMs: (rttMs: number, baseP50Ms: number, run: CompletedRun) => [lowMs: number, highMs: number];
}

/** The RTT-0 latency plus a fixed share of the round trip. */
function plusRtt(share: number): Expectation['expectedMs'] {
  return (rttMs, baseP50Ms) => [baseP50Ms + rttMs * share, baseP50Ms + rttMs * share];
}

/** What each transport's push should add to the RTT-0 latency once the link has a round-trip time. */
const PUSH_EXPECTATIONS: Record<TransportName, Expectation> = {
  'short-poll': {
    text: 'the wait for the next poll to reach the server (half the poll interval on average, up to a whole one), then half a round trip down',
    expectedMs: (rttMs, _base, run) => [rttMs / 2, run.config.pollIntervalMs + rttMs / 2],
  },
  'long-poll': {
    text: 'at least half a round trip (a held poll answers at once); a message that arrives while the next poll is still on its way up waits up to a whole round trip more',
    expectedMs: (rttMs, baseP50Ms) => [baseP50Ms + rttMs / 2, baseP50Ms + rttMs * 1.5],
  },
  sse: { text: 'half a round trip: one event down an open stream', expectedMs: plusRtt(0.5) },
  websocket: { text: 'half a round trip: one frame down an open connection', expectedMs: plusRtt(0.5) },
  tcp: { text: 'half a round trip: one frame down an open connection', expectedMs: plusRtt(0.5) },
};

/** Echo: the message up and the reply down. */
const ECHO_EXPECTATIONS: Record<TransportName, Expectation> = {
  'short-poll': { text: 'a round trip for the POST, and a round trip for the poll that collects the reply', expectedMs: plusRtt(2) },
  'long-poll': { text: 'one round trip: the POST goes up, the held poll answers down', expectedMs: plusRtt(1) },
  sse: { text: 'one round trip: the POST goes up, the event comes down the open stream', expectedMs: plusRtt(1) },
  websocket: { text: 'one round trip', expectedMs: plusRtt(1) },
  tcp: { text: 'one round trip', expectedMs: plusRtt(1) },
};

function rttOf(run: CompletedRun): number {
  return run.config.rttMs ?? 0;
}

/** The RTT series: runs of one scenario whose config is the same but for the round-trip time. */
function series(results: Results, scenario: 'echo' | 'push'): Map<TransportName, Map<number, CompletedRun>> {
  const byTransport = new Map<TransportName, Map<number, CompletedRun>>();
  const rttRuns = completedRuns(results, { scenario }).filter((run) => rttOf(run) > 0);
  for (const run of rttRuns) {
    // the same run on a direct link: the id its config has at RTT 0
    const baseId = runId({ ...run.config, rttMs: 0 });
    const base = completedRuns(results, { scenario }).find((other) => other.id === baseId);
    if (base === undefined) continue;
    const entry = byTransport.get(run.transport) ?? new Map<number, CompletedRun>([[0, base]]);
    entry.set(rttOf(run), run);
    byTransport.set(run.transport, entry);
  }
  return byTransport;
}

function judge(expectation: Expectation, base: CompletedRun, run: CompletedRun): string {
  const p50Ms = run.latencyMs.p50;
  const [lowMs, highMs] = expectation.expectedMs(rttOf(run), base.latencyMs.p50, run);
  const slackMs = Math.max(MATCH_SLACK_MS, MATCH_SLACK_SHARE * (highMs - base.latencyMs.p50));
  const holds = p50Ms >= lowMs - slackMs && p50Ms <= highMs + slackMs;
  const expected = lowMs === highMs ? `${formatNumber(lowMs, 1)} ms` : `${formatNumber(lowMs, 1)}–${formatNumber(highMs, 1)} ms`;
  return `${holds ? 'holds' : 'does not hold'} (p50 ${formatNumber(p50Ms, 1)} ms; expected ${expected})`;
}

function scenarioTable(results: Results, scenario: 'echo' | 'push', expectations: Record<TransportName, Expectation>): string | undefined {
  const byTransport = series(results, scenario);
  if (byTransport.size === 0) return undefined;
  const rtts = [...new Set([...byTransport.values()].flatMap((entry) => [...entry.keys()]))].sort((a, b) => a - b);
  const rows = TRANSPORTS.filter((transport) => byTransport.has(transport)).map((transport) => {
    const entry = byTransport.get(transport)!;
    const base = entry.get(0)!;
    const cells = rtts.map((rttMs) => {
      const run = entry.get(rttMs);
      return run === undefined ? '-' : markDriverBound(run, formatNumber(run.latencyMs.p50, 2));
    });
    const bounds = rtts
      .filter((rttMs) => entry.has(rttMs))
      .map((rttMs) => `${rttMs} ms: ${boundCell(entry.get(rttMs)!)}`)
      .join('; ');
    const checks = rtts
      .filter((rttMs) => rttMs > 0 && entry.has(rttMs))
      .map((rttMs) => `RTT ${rttMs} ms: ${judge(expectations[transport], base, entry.get(rttMs)!)}`);
    return [transport, ...cells, bounds, expectations[transport].text, checks.join('; ')];
  });
  const header = [
    'transport',
    ...rtts.map((rttMs) => `p50 at RTT ${rttMs} ms`),
    'bound at each RTT',
    'expected, from the RTT-0 latency',
    'in this run (computed from the p50s)',
  ];
  return table(header, rows, ['left', ...rtts.map(() => 'right' as const), 'left', 'left', 'left']);
}

/** "From 150 ms to 50 ms": the textbook-era comparison on a link with 50 ms one way. */
function oneWayClaim(results: Results): string {
  const run = completedRuns(results, { scenario: 'push', transports: ['websocket'] }).find((candidate) => rttOf(candidate) === 100);
  const measured =
    run === undefined
      ? 'not measured in this run (no WebSocket push run at RTT 100 ms)'
      : `WebSocket push p50 at RTT 100 ms (50 ms one way): ${formatNumber(run.latencyMs.p50, 1)} ms (measured, ${runLabel(run)}): ` +
        `${Math.abs(run.latencyMs.p50 - 50) <= Math.max(MATCH_SLACK_MS, 50 * MATCH_SLACK_SHARE) ? 'one packet on an open socket takes the 50 ms one way, as claimed' : 'not the 50 ms claimed'}.`;
  return bullets([
    measured,
    'The 150 ms side (a new TCP connection, then the request: one and a half round trips) is not measured: the relay delays the bytes of ' +
      `a connection, not its TCP handshake, so a new connection costs nothing extra on it; ${firstMessageMissing(results)}.`,
  ]);
}

/** What the relay itself added, as measured before each run that used it, and from how many round trips. */
function relayOverheadText(runs: CompletedRun[]): string {
  const measured = runs.filter((run) => run.network?.relayOverheadMs !== undefined).map((run) => run.network);
  if (measured.length === 0) return '';
  const overheads = measured.map((network) => network.relayOverheadMs!);
  const counts = [...new Set(measured.map((network) => network.relayOverheadSamples))];
  const recorded = counts.filter((count): count is number => count !== undefined);
  const low = Math.min(...recorded);
  const high = Math.max(...recorded);
  const trips = recorded.length === 0 ? undefined : low === high ? formatInteger(low) : `${formatInteger(low)}–${formatInteger(high)}`;
  const how =
    trips === undefined
      ? 'the median of round trips through it less the median of as many direct; how many round trips was not recorded in this run'
      : `the median of ${trips} round trips through it less the median of as many direct` +
        (counts.includes(undefined) ? '; for some runs how many was not recorded' : '');
  return ` The relay itself adds ${formatNumber(Math.min(...overheads), 3)}–${formatNumber(Math.max(...overheads), 3)} ms to a round trip at RTT 0 (measured before each run that uses it: ${how}).`;
}

export function rttSection(results: Results): string | undefined {
  const echo = scenarioTable(results, 'echo', ECHO_EXPECTATIONS);
  const push = scenarioTable(results, 'push', PUSH_EXPECTATIONS);
  if (echo === undefined && push === undefined) return undefined;
  const overhead = relayOverheadText(completedRuns(results));
  const link =
    rttLinkText(results) ??
    'These runs put a relay between driver and server that ' +
      "delays each direction by half the round-trip time (RTT) and never reorders bytes; the tables give each transport's median latency (p50) " +
      'and check it against what the transport should show given its RTT-0 latency.';
  return [
    '## Latency against round-trip time',
    `On loopback a round trip takes microseconds, and the transports look alike. ${link} A check holds within the larger of ${MATCH_SLACK_MS} ms and ` +
      `${MATCH_SLACK_SHARE * 100}% of the expected addition.${overhead}`,
    ...(push === undefined ? [] : ['### push', push]),
    ...(echo === undefined ? [] : ['### echo', echo]),
    '### "From 150 ms to 50 ms"',
    firstMessageText(results) ?? oneWayClaim(results),
    ...tlsFirstMessageText(results),
  ].join('\n\n');
}
