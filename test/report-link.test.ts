/** The report's figures from the netns link: method and cost, packets and IP bytes per message, loss, the constrained Kaazing case, "150 ms to 50 ms". */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CompletedRun, FirstMessage, OnTheWire, Results, RunConfig, WireDirection } from '../bench/result.ts';
import { runId } from '../bench/scenarios.ts';
import { renderMarkdown } from '../scripts/report/render.ts';
import { NEW_TLS_CONNECTION_POLLS } from './fixtures/new-tls-connection-polls.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const template = q3.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10') as CompletedRun;

function direction(overrides: Partial<WireDirection>): WireDirection {
  return {
    packets: 0,
    ipBytes: 0,
    tcpPayloadBytes: 0,
    pureAcks: 0,
    syn: 0,
    fin: 0,
    rst: 0,
    retransmittedSegments: 0,
    dropped: { loss: 0, queue: 0 },
    queueWaitMs: { mean: 0, max: 0 },
    ...overrides,
  };
}

/** A netns run made from the fixture's WebSocket push run. */
function netnsRun(config: Partial<RunConfig>, figures: { received: number; p50: number; p99: number; wire: OnTheWire }): CompletedRun {
  const full: RunConfig = { ...template.config, ...config };
  return {
    ...template,
    id: runId(full),
    transport: full.transport,
    config: full,
    messages: { ...template.messages, received: figures.received },
    latencyMs: { ...template.latencyMs, p50: figures.p50, p99: figures.p99, max: figures.p99 * 2 },
    network: {
      method: 'netns',
      reason: 'root, /dev/net/tun and ip are present',
      rttMs: full.rttMs,
      bandwidthBitsPerSecond: full.bandwidthBitsPerSecond,
      seed: 1,
    },
    onTheWire: figures.wire,
  };
}

const wire = (upPackets: number, downPackets: number, retransmitted = 0, queueWait = 0): OnTheWire => ({
  up: direction({ packets: upPackets, ipBytes: upPackets * 60, pureAcks: upPackets - 10, syn: 10, fin: 10, retransmittedSegments: retransmitted }),
  down: direction({
    packets: downPackets,
    ipBytes: downPackets * 1100,
    pureAcks: 10,
    syn: 10,
    fin: 10,
    dropped: { loss: retransmitted, queue: 3 },
    queueWaitMs: { mean: queueWait, max: queueWait * 4 },
  }),
  unintendedDrops: 0,
});

const runs: CompletedRun[] = [
  netnsRun({ transport: 'websocket', rttMs: 20, group: 'rtt', emulateLink: true }, { received: 200, p50: 10.5, p99: 11, wire: wire(220, 230) }),
  netnsRun({ transport: 'sse', rttMs: 20, group: 'rtt', emulateLink: true }, { received: 200, p50: 10.7, p99: 12, wire: wire(230, 240) }),
  ...[0, 1, 5].map((lossPercent) =>
    netnsRun(
      { transport: 'websocket', rttMs: 20, pushRatePerSecond: 20, lossPercent, group: 'loss', emulateLink: true },
      { received: 600, p50: 10.5, p99: 11 + lossPercent * 40, wire: wire(600, 620, lossPercent * 4) },
    ),
  ),
  ...[10e6, 2e6].flatMap((rate) =>
    (['short-poll', 'websocket'] as const).map((transport) =>
      netnsRun(
        {
          transport,
          clients: 1000,
          pushRatePerSecond: 1,
          pollIntervalMs: 1000,
          payloadBytes: 16,
          rttMs: 10,
          bandwidthBitsPerSecond: rate,
          group: 'kaazing-link',
        },
        { received: 4000, p50: transport === 'websocket' ? 3 : rate < 5e6 ? 800 : 480, p99: 1000, wire: wire(20_000, 15_000, 0, rate < 5e6 ? 66 : 4.6) },
      ),
    ),
  ),
];

const results: Results = {
  ...q3,
  runs: [...q3.runs, ...runs],
  link: {
    method: 'netns',
    reason: 'root, /dev/net/tun and ip are present',
    cost: { addedRoundTripUs: 13.3, forwarderRoundTripUs: 23, vethRoundTripUs: 9.7, roundTrips: 3000, packetsPerSecond: 100_000, deliveredShare: 1 },
  },
  firstMessage: {
    oneWayDelayMs: 50,
    samples: 5,
    newConnectionPoll: { connectedMs: 100.8, serverHasRequestMs: 152.4, answerMs: 203.3, clientAnswerMs: 204.2 },
    keepAlivePoll: { serverHasRequestMs: 50.3, answerMs: 102, clientAnswerMs: 102.5 },
    websocketFrame: { onTheWireMs: 50.3, clientLatencyMs: 50.9 },
    websocketFrameOverTls: { version: '1.3', onTheWireMs: 50.4, clientLatencyMs: 51.2 },
    newTlsConnectionPoll: structuredClone(NEW_TLS_CONNECTION_POLLS),
  },
};

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `no section ${heading}`);
  const level = heading.split(' ')[0]!;
  const next = markdown.indexOf(`\n${level} `, start + heading.length);
  return markdown.slice(start, next < 0 ? undefined : next);
}

describe('report: the netns link', () => {
  const markdown = renderMarkdown(results);

  it('says which method carried the shaped runs, why, and what the forwarder costs against its goals', () => {
    const method = section(markdown, '## Method');
    assert.match(method, /\*\*Emulated link\*\*: netns \(root, \/dev\/net\/tun and ip are present\)/);
    assert.match(method, /it adds 13\.3 µs per round trip \(computed\), under the goal of 50 µs/);
    assert.match(method, /delivered 100,000 packets a second of 64-byte UDP \(all that one sender offered: a lower bound\)/);
    assert.match(method, /the busiest run over it, `push\/short-poll\/16B\/c1000/);
    const relay = renderMarkdown({ ...results, link: { method: 'relay', reason: 'the netns method cannot run here (not root (uid 1000))' } });
    assert.match(section(relay, '## Method'), /\*\*Emulated link\*\*: the delaying relay \(the netns method cannot run here \(not root \(uid 1000\)\)\)/);
  });

  it('gives packets and IP bytes per message under the TCP payload bytes', () => {
    const onWire = section(markdown, '## On the wire: packets and IP bytes');
    // websocket: 220 × 60 + 230 × 1,100 IP bytes over 200 messages; 220 and 230 packets over 200
    const row = onWire.split('\n').find((line) => line.startsWith('| websocket |'));
    assert.ok(row !== undefined, onWire);
    assert.match(row, /\| 200 \| [\d,.]+ \| 1,331\.0 \| 1\.10 \| 1\.15 \| 49% \| 40 \| 0 \|/);
  });

  it('sets latency against loss beside the retransmissions, with the tail’s growth', () => {
    const loss = section(markdown, '## Latency against loss');
    assert.match(loss, /\| websocket \| 5% \| 10\.5 \| 211\.0 \| 422\.0 \| 20 \| 20 \/ 0 \| 0 \|/);
    assert.match(loss, /p99 at 5% loss against none \(computed: the two p99s' ratio\): websocket ×19/);
    assert.match(loss, /seed 1/);
  });

  it('shows the Kaazing case’s demand on a constrained link and its queueing delay', () => {
    const kaazing = section(markdown, '### The Kaazing case on a constrained link');
    assert.match(kaazing, /\| 10\.0 Mbit\/s \| short-poll \| 2\.40 \/ 33\.00 \| 480\.0 \|/);
    assert.match(kaazing, /\| 2\.0 Mbit\/s \| short-poll \| [^|]+ \| 800\.0 \| 1,000\.0 \| 0\.0 \/ 66\.0 \| 0\.0 \/ 264\.0 \| 3 \| 0 \|/);
  });

  it('measures both sides of "from 150 ms to 50 ms"; without them, says why', () => {
    const claim = section(markdown, '### "From 150 ms to 50 ms"');
    assert.match(
      claim,
      /\| poll on a new connection \| 100\.8 ms \(2d\) \| 152\.4 ms \(3d = 150 ms: as claimed\) \| 203\.3 ms \(4d = 200 ms: as claimed\) \| 204\.2 ms \|/,
    );
    assert.match(claim, /\| one frame down an open WebSocket \| open already \| - \| 50\.3 ms \(d = 50 ms: as claimed\) \| 50\.9 ms \|/);
    assert.match(claim, /\| one frame down an open WebSocket over TLS 1\.3 \| open already \| - \| 50\.4 ms \(d = 50 ms: as claimed\) \| 51\.2 ms \|/);
    const skipped = renderMarkdown({ ...results, firstMessage: { skipped: 'it needs the netns link: not root' } });
    assert.match(section(skipped, '### "From 150 ms to 50 ms"'), /is not measured: .* it was not measured: it needs the netns link: not root\./);
  });

  it('measures polls on new TLS connections: the handshake’s round trips counted, the times against (3 + 2·trips)d and (4 + 2·trips)d', () => {
    const claim = section(markdown, '### "From 150 ms to 50 ms"');
    assert.match(
      claim,
      /\| poll on a new TLS 1\.3 connection \(1 handshake round trip, as claimed\) \| 100\.3 ms \(2d\) \| 252\.9 ms \(\(3 \+ 2·1\)d = 250 ms: as claimed\) \| 304\.0 ms \(\(4 \+ 2·1\)d = 300 ms: as claimed\) \| 305\.4 ms \|/,
    );
    assert.match(
      claim,
      /\| poll on a new TLS 1\.2 connection \(2 handshake round trips, as claimed\) \| 100\.4 ms \(2d\) \| 354\.8 ms \(\(3 \+ 2·2\)d = 350 ms: as claimed\) \| 405\.5 ms \(\(4 \+ 2·2\)d = 400 ms: as claimed\) \| 406\.9 ms \|/,
    );
    // the TLS rows sit between the plaintext poll on a new connection and the keep-alive one
    const rows = claim.split('\n').filter((line) => line.startsWith('| poll on'));
    assert.deepEqual(
      rows.map((line) => line.split(' | ')[0]),
      [
        '| poll on a new connection',
        '| poll on a new TLS 1.3 connection (1 handshake round trip, as claimed)',
        '| poll on a new TLS 1.2 connection (2 handshake round trips, as claimed)',
        '| poll on a keep-alive connection',
      ],
    );
    assert.match(claim, /Its round trips are counted on the trace/);
    assert.match(
      claim,
      /A new connection over TLS pays its handshake first: the answer is back after 304\.0 ms over TLS 1\.3, the server having had the request after 252\.9 ms \(240 B up, 843 B down before the request, measured\); after 405\.5 ms over TLS 1\.2, .*\(352 B up, 960 B down/,
    );
  });

  it('judges a TLS poll that took another number of round trips “not as claimed”, its times too', () => {
    const measured = structuredClone(results.firstMessage) as FirstMessage;
    // TLS 1.2 with its request a round trip late: three flights before it, 2d later
    measured.newTlsConnectionPoll![1] = { ...measured.newTlsConnectionPoll![1]!, handshakeRoundTrips: 3, serverHasRequestMs: 454.8, answerMs: 505.5 };
    const claim = section(renderMarkdown({ ...results, firstMessage: measured }), '### "From 150 ms to 50 ms"');
    assert.match(
      claim,
      /\| poll on a new TLS 1\.2 connection \(3 handshake round trips, \*\*not as claimed\*\*: the RFC's 2\) \| 100\.4 ms \(2d\) \| 454\.8 ms \(\(3 \+ 2·2\)d = 350 ms: \*\*not as claimed\*\*\) \| 505\.5 ms \(\(4 \+ 2·2\)d = 400 ms: \*\*not as claimed\*\*\) \|/,
    );
    assert.match(claim, /\| poll on a new TLS 1\.3 connection \(1 handshake round trip, as claimed\) \|/);
  });

  it('keeps results from before TLS was measured: no TLS rows, no TLS paragraph', () => {
    const measured = structuredClone(results.firstMessage) as FirstMessage;
    delete measured.newTlsConnectionPoll;
    const claim = section(renderMarkdown({ ...results, firstMessage: measured }), '### "From 150 ms to 50 ms"');
    assert.match(claim, /\| poll on a new connection \| 100\.8 ms \(2d\) \|/);
    assert.doesNotMatch(claim, /new TLS|Its round trips are counted on the trace|pays its handshake first/);
  });
});
