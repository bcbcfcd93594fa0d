/**
 * What the netns link (bench/link/) lets the report say: which method carried the shaped runs
 * and why, with the forwarder's own cost; every transport's packets and IP bytes per message
 * ("on the wire", under the TCP payload bytes); latency against loss; the Kaazing case on a
 * constrained link; and both sides of "from 150 ms to 50 ms".
 */
import type { CompletedRun, Results } from '../../bench/result.ts';
import { LOSS_RTT_MS } from '../../bench/scenarios.ts';
import { TRANSPORTS } from '../../servers/contract.ts';
import { wholeRunSeconds } from './figures.ts';
import { formatInteger, formatNumber, formatPercent, formatSignificant } from './format.ts';
import { bold, code, table } from './markdown.ts';
import { TLS_HANDSHAKE_ROUND_TRIPS, TLS_ROUND_TRIPS_FORMULA } from './protocols.ts';
import { completedRuns } from './runs.ts';

/** The forwarder's goals (issue 14): under this much added per round trip, and at least the busiest run's packet rate. */
export const FORWARDER_ADDED_GOAL_US = 50;

const netnsRuns = (results: Results): CompletedRun[] => completedRuns(results).filter((run) => run.network?.method === 'netns' && run.onTheWire !== undefined);

/** Packets each way a second over the whole run (what the forwarder had to move). */
function packetRate(run: CompletedRun): number {
  const wire = run.onTheWire!;
  return (wire.up.packets + wire.down.packets) / wholeRunSeconds(run.config);
}

/** The Method section's line on the emulated link; undefined where no run was shaped. */
export function linkMethodLine(results: Results): string | undefined {
  const link = results.link;
  if (link === undefined) return undefined;
  if (link.method === 'relay') {
    return (
      `**Emulated link**: the delaying relay (${link.reason}). It delays and rate-limits the bytes of each connection; a new connection's ` +
      'handshake, slow start, delayed ACKs and loss are not emulated, and no packet is counted.'
    );
  }
  const parts = [
    `**Emulated link**: netns (${link.reason}). The driver's clients run in one network namespace (100.64.0.1), the server in another ` +
      "(100.64.0.2), each with a TUN device; a forwarder (`bench/link/forwarder.c`, built at first use with the system's cc) moves whole IP " +
      'packets between the two with the run’s delay (half the RTT each way), rate and drop-tail queue, seeded loss and jitter; it is not ' +
      'pinned to the driver’s or the server’s core. The kernel’s ' +
      'TCP runs over it, with an MTU of 1,500 bytes: handshakes, slow start, delayed ACKs and retransmissions happen as on a real path.',
  ];
  const cost = link.cost;
  if (cost !== undefined) {
    const met = cost.addedRoundTripUs < FORWARDER_ADDED_GOAL_US;
    parts.push(
      `The forwarder's own cost, measured before the runs: a one-byte TCP round trip through it took ${formatNumber(cost.forwarderRoundTripUs, 1)} µs ` +
        `against ${formatNumber(cost.vethRoundTripUs, 1)} µs over a veth pair between the same namespaces (medians of ${formatInteger(cost.roundTrips)} each): ` +
        `it adds ${formatNumber(cost.addedRoundTripUs, 1)} µs per round trip (computed), ${met ? 'under' : bold('over')} the goal of ${FORWARDER_ADDED_GOAL_US} µs.`,
    );
    const busiest = netnsRuns(results).reduce<CompletedRun | undefined>(
      (best, run) => (best === undefined || packetRate(run) > packetRate(best) ? run : best),
      undefined,
    );
    const offered = cost.deliveredShare >= 0.999 ? 'all that one sender offered: a lower bound' : `${formatPercent(cost.deliveredShare)} of those offered`;
    parts.push(
      `It delivered ${formatInteger(cost.packetsPerSecond)} packets a second of 64-byte UDP (${offered})` +
        (busiest === undefined
          ? '.'
          : `; the busiest run over it, ${code(busiest.id)}, averaged ${formatInteger(packetRate(busiest))} packets a second both ways over the whole run ` +
            `(computed: its packets / ${formatNumber(wholeRunSeconds(busiest.config), 1)} s): ${packetRate(busiest) <= cost.packetsPerSecond ? 'within' : bold('beyond')} what the forwarder sustains.`),
    );
  }
  return parts.join(' ');
}

/** The RTT section's description of its link, from the method its runs had. */
export function rttLinkText(results: Results): string | undefined {
  const runs = completedRuns(results).filter((run) => run.config.group === 'rtt' && run.config.target === undefined);
  if (runs.length === 0 || !runs.every((run) => run.network?.method === 'netns')) return undefined;
  return (
    'These runs go over the netns link (see Method): the kernel’s TCP over an emulated path that delays each packet by half the round-trip ' +
    'time (RTT) each way, RTT 0 included, so every point of a series is on the same path; the tables give each transport’s median latency ' +
    '(p50) and check it against what the transport should show given its RTT-0 latency.'
  );
}

const ms = (value: number): string => `${formatNumber(value, 1)} ms`;

/** Why the 150 ms side of "from 150 ms to 50 ms" is not in these results. */
export function firstMessageMissing(results: Results): string {
  const measured = results.firstMessage;
  if (measured !== undefined && 'skipped' in measured) return `it was not measured: ${measured.skipped}`;
  if (measured !== undefined && 'failed' in measured) return bold(`its measurement FAILED: ${measured.failed}`);
  return 'it needs the netns link (a new connection’s handshake over a real path), and these results have no measurement of it';
}

/** "From 150 ms to 50 ms", both sides, when measured; undefined when not (the RTT section says what it can then). */
export function firstMessageText(results: Results): string | undefined {
  const measured = results.firstMessage;
  if (measured === undefined || 'skipped' in measured || 'failed' in measured) return undefined;
  const d = measured.oneWayDelayMs;
  const { newConnectionPoll: fresh, keepAlivePoll: kept, websocketFrame: frame, websocketFrameOverTls: wss } = measured;
  const holds = (value: number, expected: number): string =>
    Math.abs(value - expected) <= Math.max(3, expected * 0.1) ? 'as claimed' : bold('not as claimed');
  // over TLS the handshake's round trips come before the request: 2d each, expected from the version (the RFCs), counted on the trace
  const tlsPolls = measured.newTlsConnectionPoll ?? [];
  const tlsRows = tlsPolls.map((poll) => {
    const trips = TLS_HANDSHAKE_ROUND_TRIPS[poll.version];
    const tripsText = `${poll.handshakeRoundTrips} handshake round trip${poll.handshakeRoundTrips === 1 ? '' : 's'}`;
    const tripsHeld = poll.handshakeRoundTrips === trips ? 'as claimed' : `${bold('not as claimed')}: the RFC's ${trips}`;
    return [
      `poll on a new TLS ${poll.version} connection (${tripsText}, ${tripsHeld})`,
      `${ms(poll.connectedMs)} (2d)`,
      `${ms(poll.serverHasRequestMs)} ((3 + 2·${trips})d = ${(3 + 2 * trips) * d} ms: ${holds(poll.serverHasRequestMs, (3 + 2 * trips) * d)})`,
      `${ms(poll.answerMs)} ((4 + 2·${trips})d = ${(4 + 2 * trips) * d} ms: ${holds(poll.answerMs, (4 + 2 * trips) * d)})`,
      ms(poll.clientAnswerMs),
    ];
  });
  const rows = [
    [
      'poll on a new connection',
      `${ms(fresh.connectedMs)} (2d)`,
      `${ms(fresh.serverHasRequestMs)} (3d = ${3 * d} ms: ${holds(fresh.serverHasRequestMs, 3 * d)})`,
      `${ms(fresh.answerMs)} (4d = ${4 * d} ms: ${holds(fresh.answerMs, 4 * d)})`,
      ms(fresh.clientAnswerMs),
    ],
    ...tlsRows,
    ['poll on a keep-alive connection', 'open already', `${ms(kept.serverHasRequestMs)} (d)`, `${ms(kept.answerMs)} (2d)`, ms(kept.clientAnswerMs)],
    [
      'one frame down an open WebSocket',
      'open already',
      '-',
      `${ms(frame.onTheWireMs)} (d = ${d} ms: ${holds(frame.onTheWireMs, d)})`,
      ms(frame.clientLatencyMs),
    ],
    ...(wss === undefined
      ? []
      : [
          [
            `one frame down an open WebSocket over TLS ${wss.version}`,
            'open already',
            '-',
            `${ms(wss.onTheWireMs)} (d = ${d} ms: ${holds(wss.onTheWireMs, d)})`,
            ms(wss.clientLatencyMs),
          ],
        ]),
  ];
  const overTls =
    tlsPolls.length === 0
      ? []
      : [
          'Over TLS (a short-poll server per version, speaking only it, with a certificate made for the measurement; the client trusts it, ' +
            'offers HTTP/1.1 by ALPN and resumes no session: a full handshake each time) the handshake comes before the request. Its round ' +
            'trips are counted on the trace: the client’s packets fall in flights, one a round trip, and its request is in the last flight the ' +
            `server answered; the flights before it are the handshake's. Expected, for ${TLS_ROUND_TRIPS_FORMULA}: the request at the server ` +
            'after (3 + 2·round trips)d and the answer at the client after (4 + 2·round trips)d (computed). The server has the request when ' +
            'its whole flight is delivered. TLS 1.3’s server sends its session tickets when it reads the client’s Finished, which comes in the ' +
            'request’s flight, so on the path the answer column times the server’s reply to that flight, tickets and answer sent together; ' +
            'the client times the first byte of the answer itself. The bytes below are the TCP payload before the request’s flight, both ways: ' +
            'the handshake, less TLS 1.3’s client Finished (it travels with the request) and session tickets (they come after it).',
        ];
  const tlsConclusion = tlsPolls
    .map(
      (poll) =>
        `after ${ms(poll.answerMs)} over TLS ${poll.version}, the server having had the request after ${ms(poll.serverHasRequestMs)} ` +
        `(${formatInteger(poll.bytesBeforeRequest.up)} B up, ${formatInteger(poll.bytesBeforeRequest.down)} B down before the request, measured)`,
    )
    .join('; ');
  return [
    `Both sides measured on the netns link with d = ${d} ms one way (medians of ${measured.samples} of each; the suite's own short-poll and ` +
      'WebSocket servers answer). On the path: when the forwarder delivered each packet, from the moment the client’s first packet of the ' +
      'exchange (its SYN, or its request on an open connection; for the WebSocket, the server’s frame) entered it. By the client: what the ' +
      'client timed itself (from its connect call or its request; for the WebSocket, receipt less the server’s send stamp).',
    ...overTls,
    table(['exchange', 'connected', 'the server has the request', 'the answer (or frame) is at the client', 'by the client'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
    ]),
    `So a message the server has to give a client that polls on a new connection reaches it ${ms(fresh.answerMs)} after the client asked, of which ` +
      `${ms(fresh.serverHasRequestMs)} pass before the server even has the request; one frame on an open WebSocket takes ${ms(frame.onTheWireMs)}. ` +
      `Polling on a keep-alive connection sits between: ${ms(kept.answerMs)}, a round trip.` +
      (tlsConclusion === '' ? '' : ` A new connection over TLS pays its handshake first: the answer is back ${tlsConclusion}.`),
  ].join('\n\n');
}

/** Per message delivered (whole run), or "-". */
function perMessage(value: number, run: CompletedRun, decimals: number): string {
  return run.messages.received > 0 ? formatNumber(value / run.messages.received, decimals) : '-';
}

function onTheWireRow(run: CompletedRun): string[] {
  const { up, down } = run.onTheWire!;
  const payload = run.bytes.up.total + run.bytes.down.total;
  const packets = up.packets + down.packets;
  const control = up.syn + up.fin + up.rst + down.syn + down.fin + down.rst;
  return [
    run.transport,
    formatInteger(run.messages.received),
    perMessage(payload, run, 1),
    perMessage(up.ipBytes + down.ipBytes, run, 1),
    perMessage(up.packets, run, 2),
    perMessage(down.packets, run, 2),
    formatPercent(packets > 0 ? (up.pureAcks + down.pureAcks) / packets : 0, 0),
    formatInteger(control),
    formatInteger(up.retransmittedSegments + down.retransmittedSegments),
  ];
}

/** The RTT the on-the-wire tables show: 20 ms where the series has it, else its lowest above 0, else 0. */
function wireRtt(runs: CompletedRun[]): number | undefined {
  const rtts = [...new Set(runs.map((run) => run.config.rttMs))].sort((a, b) => a - b);
  if (rtts.includes(LOSS_RTT_MS)) return LOSS_RTT_MS;
  return rtts.find((rtt) => rtt > 0) ?? rtts[0];
}

/** "On the wire": the RTT series' runs over the netns link, per transport, in packets and IP bytes per message. */
export function onTheWireSection(results: Results): string | undefined {
  const series = netnsRuns(results).filter((run) => run.config.group === 'rtt');
  const rtt = wireRtt(series);
  if (rtt === undefined) return undefined;
  const header = [
    'transport',
    'messages',
    'TCP payload B/msg',
    'IP bytes/msg',
    'packets up/msg',
    'packets down/msg',
    'pure ACKs',
    'SYN, FIN, RST',
    'retransmitted',
  ];
  const align = ['left', ...header.slice(1).map(() => 'right' as const)] as ('left' | 'right')[];
  const tables = (['echo', 'push'] as const).flatMap((scenario) => {
    const runs = TRANSPORTS.flatMap((transport) =>
      series.filter((run) => run.scenario === scenario && run.transport === transport && run.config.rttMs === rtt),
    );
    if (runs.length === 0) return [];
    const first = runs[0]!;
    const what =
      scenario === 'echo' ? `${first.config.clients} client in a closed loop` : `${first.config.clients} clients, ${first.config.pushRatePerSecond} msg/s each`;
    return [
      `### ${scenario} at RTT ${rtt} ms (${what}, ${formatInteger(first.config.payloadBytes)}-byte messages)`,
      table(header, runs.map(onTheWireRow), align),
    ];
  });
  return [
    '## On the wire: packets and IP bytes',
    'The byte tables above count TCP payload: what the sockets carried. Under it is what the link carried: every IP packet each way, ' +
      'as the netns forwarder counted it over the whole run, IP and TCP headers included, with the pure ACKs, the handshakes and ' +
      'teardowns and any retransmission. Per message is per message delivered (computed: whole run / messages received). **pure ACKs** is ' +
      'their share of all packets; **SYN, FIN, RST** counts the connections’ control segments both ways; **retransmitted** is what the two ' +
      'kernels sent again (their namespaces’ RetransSegs). The other RTTs of the series are in `results.json` (`onTheWire`).',
    ...tables,
  ].join('\n\n');
}

/** Latency against loss at RTT 20 ms, every transport. */
export function lossSection(results: Results): string | undefined {
  const runs = netnsRuns(results).filter((run) => run.config.group === 'loss');
  if (runs.length === 0) {
    if (results.link?.method === 'relay') return ['## Latency against loss', `Not measured: it needs the netns link, and ${results.link.reason}.`].join('\n\n');
    return undefined;
  }
  const losses = [...new Set(runs.map((run) => run.config.lossPercent ?? 0))].sort((a, b) => a - b);
  const rows = TRANSPORTS.flatMap((transport) =>
    losses.flatMap((loss) => {
      const run = runs.find((candidate) => candidate.transport === transport && (candidate.config.lossPercent ?? 0) === loss);
      if (run === undefined) return [];
      const { up, down } = run.onTheWire!;
      return [
        [
          transport,
          `${formatNumber(loss, loss % 1 === 0 ? 0 : 1)}%`,
          formatNumber(run.latencyMs.p50, 1),
          formatNumber(run.latencyMs.p99, 1),
          formatNumber(run.latencyMs.max, 1),
          formatInteger(up.dropped.loss + down.dropped.loss),
          `${formatInteger(up.retransmittedSegments)} / ${formatInteger(down.retransmittedSegments)}`,
          formatInteger(run.messages.lost),
        ],
      ];
    }),
  );
  const first = runs[0]!;
  const seeds = [...new Set(runs.map((run) => run.network.seed).filter((seed) => seed !== undefined))];
  const tails = TRANSPORTS.flatMap((transport) => {
    const base = runs.find((run) => run.transport === transport && (run.config.lossPercent ?? 0) === 0);
    const worst = runs.find((run) => run.transport === transport && (run.config.lossPercent ?? 0) === losses.at(-1));
    if (base === undefined || worst === undefined || worst === base || base.latencyMs.p99 <= 0) return [];
    return [`${transport} ×${formatSignificant(worst.latencyMs.p99 / base.latencyMs.p99, 2)}`];
  });
  return [
    '## Latency against loss',
    `Push to ${first.config.clients} clients, ${first.config.pushRatePerSecond} msg/s each, ${formatInteger(first.config.payloadBytes)}-byte messages, ` +
      `at RTT ${first.config.rttMs} ms on the netns link, with packets lost at random in each direction ` +
      `(seed ${seeds.length === 0 ? 'not recorded' : seeds.join(', ')}). TCP delivers every message anyway: it sends a lost segment again, after ` +
      'a duplicate-ACK signal or a timeout of at least 200 ms, and every message behind it on the connection waits too (head-of-line ' +
      'blocking). The wait shows in the tail, not the median. **dropped** is what the link lost, both ways; **retransmitted** what the ' +
      'driver’s and the server’s kernels sent again.',
    table(['transport', 'loss', 'p50 (ms)', 'p99 (ms)', 'max (ms)', 'dropped by the link', 'retransmitted (driver / server)', 'messages lost'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
    ]),
    ...(tails.length === 0 ? [] : [`p99 at ${losses.at(-1)}% loss against none (computed: the two p99s' ratio): ${tails.join(', ')}.`]),
  ].join('\n\n');
}

/** The Kaazing case on a constrained link: each transport's demand on it, and the queueing delay as the rate falls. */
export function kaazingLinkSection(results: Results): string | undefined {
  const runs = netnsRuns(results).filter((run) => run.config.group === 'kaazing-link');
  if (runs.length === 0) return undefined;
  const rates = [...new Set(runs.map((run) => run.config.bandwidthBitsPerSecond))].sort((a, b) => b - a);
  const rows = rates.flatMap((rate) =>
    TRANSPORTS.flatMap((transport) => {
      const run = runs.find((candidate) => candidate.transport === transport && candidate.config.bandwidthBitsPerSecond === rate);
      if (run === undefined) return [];
      const { up, down } = run.onTheWire!;
      // what the clients need of the link, each way, at their pace: IP bytes per message × messages a second
      const perSecond = run.config.clients * run.config.pushRatePerSecond;
      const demand = (bytes: number): number => (run.messages.received > 0 ? ((bytes / run.messages.received) * perSecond * 8) / 1e6 : 0);
      return [
        [
          `${formatNumber(rate / 1e6, 1)} Mbit/s`,
          transport,
          `${formatNumber(demand(up.ipBytes), 2)} / ${formatNumber(demand(down.ipBytes), 2)}`,
          formatNumber(run.latencyMs.p50, 1),
          formatNumber(run.latencyMs.p99, 1),
          `${formatNumber(up.queueWaitMs.mean, 1)} / ${formatNumber(down.queueWaitMs.mean, 1)}`,
          `${formatNumber(up.queueWaitMs.max, 1)} / ${formatNumber(down.queueWaitMs.max, 1)}`,
          formatInteger(up.dropped.queue + down.dropped.queue),
          formatInteger(up.retransmittedSegments + down.retransmittedSegments),
        ],
      ];
    }),
  );
  const first = runs[0]!;
  return [
    '### The Kaazing case on a constrained link',
    `The same ${formatInteger(first.config.clients)} clients (polling once a second, or receiving one WebSocket message a second) over the netns link ` +
      `at each rate, each way, with ${first.config.rttMs / 2} ms one way and a drop-tail queue of 100 ms at the rate. **needs** is what the ` +
      'clients ask of the link at their pace (computed: IP bytes per message delivered, whole run, × clients × 1 a second × 8), up / down; ' +
      'where it nears the rate, packets wait in the queue (**queue wait**, up / down, mean and max, from the forwarder) and the queue drops ' +
      'what does not fit. Connecting the clients is part of each run: its burst fills the queue too.',
    table(
      ['link', 'transport', 'needs (Mbit/s)', 'p50 (ms)', 'p99 (ms)', 'queue wait mean (ms)', 'queue wait max (ms)', 'queue drops', 'retransmitted'],
      rows,
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  ].join('\n\n');
}
