import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CompletedRun, FirstMessage, Results, RunConfig } from '../bench/result.ts';
import type { ByteSplit } from '../bench/wire.ts';
import { claimVerdicts, claimsSection } from '../scripts/report/claims-section.ts';
import { renderMarkdown } from '../scripts/report/render.ts';
import { protocolsSection, tlsFirstMessageText } from '../scripts/report/protocols-section.ts';
import { NEW_TLS_CONNECTION_POLLS } from './fixtures/new-tls-connection-polls.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;

function split(parts: Omit<ByteSplit, 'total'>): ByteSplit {
  return { ...parts, total: parts.payload + parts.headers + parts.framing + parts.setup + parts.tls };
}

/** A TEST FIXTURE, not a measurement: "from 150 ms to 50 ms" at d = 50 ms, with polls on new TLS connections (made up, near what the physics gives). */
const FIRST_MESSAGE_OVER_TLS: FirstMessage = {
  oneWayDelayMs: 50,
  samples: 5,
  newConnectionPoll: { connectedMs: 100.3, serverHasRequestMs: 150.7, answerMs: 201.4, clientAnswerMs: 201.9 },
  keepAlivePoll: { serverHasRequestMs: 50.1, answerMs: 100.9, clientAnswerMs: 101.2 },
  websocketFrame: { onTheWireMs: 50.2, clientLatencyMs: 50.6 },
  newTlsConnectionPoll: structuredClone(NEW_TLS_CONNECTION_POLLS),
};

function runOf(results: Results, id: string): CompletedRun {
  const run = results.runs.find((candidate) => candidate.id === id);
  assert.ok(run !== undefined && run.state === 'completed', `no completed run ${id}`);
  return run;
}

/** A run of `base`'s work over another protocol, with its own bytes (socket totals the same), for the fixture. */
function derive(
  base: CompletedRun,
  id: string,
  protocol: Pick<RunConfig, 'tls' | 'http'>,
  bytes: { up: ByteSplit; down: ByteSplit },
  more: Partial<CompletedRun> = {},
): CompletedRun {
  return {
    ...structuredClone(base),
    id,
    config: { ...base.config, ...protocol },
    bytes,
    socketBytes: { up: bytes.up.total, down: bytes.down.total },
    ...more,
  };
}

/**
 * A TEST FIXTURE, not a measurement: q3 (plaintext HTTP/1.1, 10 clients, 1 KiB) and, made up but
 * consistent (every split sums to its total), the same push work over TLS 1.3 (short-poll,
 * long-poll, wss) and short-poll over HTTP/2 over TLS 1.3, with header series and a browser's
 * HTTP/2 polls. HTTP/2 long-poll, SSE over TLS or HTTP/2 and TCP over TLS are left out: "not measured".
 */
function protocolsFixture(): Results {
  const results = structuredClone(q3);
  results.suite = { ...results.suite, note: 'test fixture: q3 with made-up TLS and HTTP/2 runs (test/report-protocols.test.ts)' };
  const poll = runOf(results, 'push/short-poll/1KiB/c10/r10/i100ms');
  const longPoll = runOf(results, 'push/long-poll/1KiB/c10/r10');
  const websocket = runOf(results, 'push/websocket/1KiB/c10/r10');
  // the plaintext poll's first client: every head whole, every time
  poll.headerSeries = { requests: Array<number>(16).fill(125), responses: Array<number>(16).fill(158) };
  // HTTP/1.1 over TLS: + 22 B of records a poll each way, + 550 B (up) and 2,000 B (down) of handshake a connection (12 connections)
  const pollTls = derive(
    poll,
    'push/short-poll/1KiB/c10/r10/i100ms/tls1.3',
    { tls: '1.3' },
    {
      up: split({ payload: 0, headers: 20050, framing: 0, setup: 3060 + 12 * 550, tls: 160 * 22 + 16 }),
      down: split({ payload: 153600, headers: 25260, framing: 5160, setup: 3410 + 12 * 2000, tls: 160 * 22 + 880 }),
    },
  );
  // HTTP/2 over TLS: each client's first poll 300 B of request block and 60 of response, later ones 30 and 10; 16 polls a client,
  // one connection a client; frame headers (9 B) for HEADERS up, HEADERS and DATA down, and SETTINGS / WINDOW_UPDATE per connection
  const pollH2 = derive(
    poll,
    'push/short-poll/1KiB/c10/r10/i100ms/h2-tls1.3',
    { tls: '1.3', http: '2' },
    {
      up: split({ payload: 0, headers: 10 * (300 + 15 * 30), framing: 160 * 9 + 10 * 49, setup: 10 * 200 + 10 * 550, tls: 160 * 22 + 10 * 3 * 22 }),
      down: split({
        payload: 153600,
        headers: 10 * (60 + 15 * 10),
        framing: 5160 + 160 * 18 + 10 * 43,
        setup: 10 * 100 + 10 * 2000,
        tls: 160 * 22 + 10 * 4 * 22,
      }),
    },
    {
      connections: { opened: 10, perClient: 1 },
      headerSeries: { requests: [300, ...Array<number>(15).fill(30)], responses: [60, ...Array<number>(15).fill(10)] },
    },
  );
  const longPollTls = derive(
    longPoll,
    'push/long-poll/1KiB/c10/r10/tls1.3',
    { tls: '1.3' },
    {
      up: split({ payload: 0, headers: 20060, framing: 0, setup: 3060 + 20 * 550, tls: 150 * 22 }),
      down: split({ payload: 153600, headers: 23700, framing: 5010, setup: 3410 + 20 * 2000, tls: 150 * 22 }),
    },
  );
  const websocketTls = derive(
    websocket,
    'push/websocket/1KiB/c10/r10/tls1.3',
    { tls: '1.3' },
    {
      up: split({ payload: 0, headers: 0, framing: 140, setup: 2160 + 10 * 550, tls: 10 * 3 * 22 }),
      down: split({ payload: 153600, headers: 0, framing: 640, setup: 1290 + 10 * 2000, tls: 150 * 22 + 10 * 3 * 22 }),
    },
  );
  results.runs.push(pollTls, pollH2, longPollTls, websocketTls);
  results.browser = {
    name: 'Chromium',
    version: '156.0',
    pollRequestBytes: 520,
    pollResponseHeaderBytes: 160,
    websocketFrameBytes: 2,
    http2: { requests: [358, ...Array<number>(11).fill(61)], responses: [47, ...Array<number>(11).fill(8)], tlsVersion: '1.3' },
  };
  return results;
}

/** The fixture without its HTTP/2 run and without the browser: TLS runs only. */
function tlsOnlyFixture(): Results {
  const results = protocolsFixture();
  results.runs = results.runs.filter((run) => run.config.http !== '2');
  delete results.browser;
  return results;
}

/** The cells of the first table row after `after` whose first cells are `start`. */
function rowAfter(markdown: string, after: string, start: string[]): string[] {
  const from = markdown.indexOf(after);
  assert.ok(from !== -1, `no "${after}"`);
  const prefix = `| ${start.join(' | ')} |`;
  const line = markdown
    .slice(from)
    .split('\n')
    .find((text) => text.startsWith(prefix));
  assert.ok(line !== undefined, `no row ${prefix} after "${after}"`);
  return line
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((cell) => cell.trim());
}

describe('report: HTTP/1.1, TLS and HTTP/2 side by side', () => {
  const fixture = protocolsFixture();
  const section = protocolsSection(fixture) ?? '';

  it('is absent from results with no run over TLS or HTTP/2 (reports from before are unchanged)', () => {
    assert.equal(protocolsSection(q3), undefined);
    assert.doesNotMatch(renderMarkdown(q3), /## HTTP\/1\.1, TLS and HTTP\/2/);
    assert.match(renderMarkdown(fixture), /^## HTTP\/1\.1, TLS and HTTP\/2$/m);
  });

  it('gives bytes per message and headers + framing + tls per message under each protocol, "not measured" where a run is missing', () => {
    // short-poll, computed: (23,110 + 187,430) / 150 = 1,403.6, (20,050 + 25,260 + 5,160) / 150 = 336.5;
    // over TLS (33,246 + 215,830) / 150 = 1,660.5, (20,050 + 3,536 + 25,260 + 5,160 + 4,400) / 150 = 389.4;
    // over HTTP/2 (21,110 + 189,570) / 150 = 1,404.5, (7,500 + 1,930 + 4,180 + 2,100 + 8,470 + 4,400) / 150 = 190.5
    assert.deepEqual(rowAfter(section, '**Bytes per message**', ['short-poll']), [
      'short-poll',
      '1 KiB',
      'push, 10 clients, 10 msg/s each',
      '1,403.6 (336.5)',
      '1,660.5 (389.4)',
      '1,404.5 (190.5)',
    ]);
    // long-poll: (23,120 + 185,720) / 150 = 1,392.3, (20,060 + 23,700 + 5,010) / 150 = 325.1;
    // over TLS (37,420 + 229,020) / 150 = 1,776.3, (20,060 + 3,300 + 23,700 + 5,010 + 3,300) / 150 = 369.1; no HTTP/2 run
    assert.deepEqual(rowAfter(section, '**Bytes per message**', ['long-poll']).slice(3), ['1,392.3 (325.1)', '1,776.3 (369.1)', 'not measured']);
    // wss: (8,460 + 179,490) / 150 = 1,253.0, (140 + 660 + 640 + 3,960) / 150 = 36.0; HTTP/2 carries no WebSocket
    assert.deepEqual(rowAfter(section, '**Bytes per message**', ['websocket']).slice(3), ['1,052.2 (5.2)', '1,253.0 (36.0)', 'not applicable']);
    // SSE and TCP have no run over TLS or HTTP/2: no row
    assert.doesNotMatch(section.slice(0, section.indexOf('**The TLS handshake**')), /^\| (sse|tcp) \|/m);
  });

  it('puts the TLS handshake in setup per connection, with its round trips computed from the version', () => {
    // plaintext (3,060 + 3,410) / 12 = 539.2; over TLS (9,660 + 27,410) / 12 = 3,089.2, 2,550.0 more; HTTP/2 (7,500 + 21,000) / 10 = 2,850.0
    assert.deepEqual(rowAfter(section, '**The TLS handshake**', ['short-poll']).slice(3), [
      '539.2 B, no TLS',
      '3,089.2 B (2,550.0 B more than plaintext); handshake 1 round trip (TLS 1.3, computed)',
      '2,850.0 B (2,310.8 B more than plaintext); handshake 1 round trip (TLS 1.3, computed)',
    ]);
    assert.match(section, /\*\*The TLS handshake\*\* is in the setup bytes/);
    assert.match(section, /are computed from the version, for a full handshake: TLS 1\.3 one round trip \(RFC 8446 §2\), TLS 1\.2 two \(RFC 5246 §7\.3\)/);
  });

  it("sets HTTP/2's first poll against its tenth (HPACK), beside HTTP/1.1's, and the real browser's series", () => {
    assert.deepEqual(rowAfter(section, '**HPACK, request by request**', ['`push/short-poll/1KiB/c10/r10/i100ms/h2-tls1.3`']).slice(1, 5), [
      'HTTP/2 over TLS 1.3',
      '300 → 30 (−90.0%)',
      '60 → 10 (−83.3%)',
      `300 ${Array(15).fill('30').join(' ')}`,
    ]);
    assert.deepEqual(rowAfter(section, '**HPACK, request by request**', ['`push/short-poll/1KiB/c10/r10/i100ms`']).slice(1, 4), [
      'HTTP/1.1',
      '125 → 125 (the same)',
      '158 → 158 (the same)',
    ]);
    // 1 − 61 / 358 = 83.0%; 1 − 8 / 47 = 83.0%
    assert.deepEqual(rowAfter(section, "The real browser's polls", ['real browser (Chromium 156.0)', 'HTTP/2 over TLS 1.3']).slice(2, 4), [
      '358 → 61 (−83.0%)',
      '47 → 8 (−83.0%)',
    ]);
    assert.deepEqual(rowAfter(section, "The real browser's polls", ['real browser (Chromium 156.0)', 'HTTP/1.1']).slice(2, 4), [
      '520 (one poll measured)',
      '160 (one poll measured)',
    ]);
  });

  it('says what is not measured when the results have TLS runs but no HTTP/2', () => {
    const text = protocolsSection(tlsOnlyFixture()) ?? '';
    assert.equal(rowAfter(text, '**Bytes per message**', ['short-poll'])[5], 'not measured');
    assert.match(text, /HTTP\/2 runs: not measured in this run \(no HTTP\/2 run kept its header series\)\./);
    assert.match(text, /Real browser over HTTP\/2: not measured in this run\./);
  });

  it('gives the TLS side of "from 150 ms to 50 ms": not measured, its round trips computed from the version', () => {
    const [text] = tlsFirstMessageText(fixture);
    assert.match(text ?? '', /a new connection's first poll is not measured over TLS in this run/);
    assert.match(text ?? '', /TLS 1\.3: 3d \+ 2d = 250 ms, against 3d = 150 ms in plaintext/);
    assert.match(text ?? '', /One frame down an open WebSocket over TLS at RTT 100 ms: not measured in this run/);
    assert.deepEqual(tlsFirstMessageText(q3), []);
    // measured, but before the measurement polled over TLS: still computed, and why
    const { newTlsConnectionPoll: _tls, ...plaintextOnly } = FIRST_MESSAGE_OVER_TLS;
    const [older] = tlsFirstMessageText({ ...fixture, firstMessage: plaintextOnly });
    assert.match(older ?? '', /not measured over TLS in this run \(the measurement of these results polls in plaintext only\)/);
    assert.match(older ?? '', /computed from the version, not measured; with d = 50 ms \(the one-way delay of the measurement above\)/);
  });

  it('cites the round trips measured on the emulated link, in the setup part and the TLS side of "from 150 ms to 50 ms"', () => {
    const measured = { ...fixture, firstMessage: FIRST_MESSAGE_OVER_TLS };
    const text = protocolsSection(measured) ?? '';
    assert.deepEqual(rowAfter(text, '**The TLS handshake**', ['short-poll']).slice(3), [
      '539.2 B, no TLS',
      '3,089.2 B (2,550.0 B more than plaintext); handshake 1 round trip (TLS 1.3, measured on new connections over the emulated link)',
      '2,850.0 B (2,310.8 B more than plaintext); handshake 1 round trip (TLS 1.3, measured on new connections over the emulated link)',
    ]);
    assert.match(
      text,
      /trips before the first request are measured on new connections over the emulated link .*: 1 for TLS 1\.3, 2 for TLS 1\.2 \(expected, for a full handshake/,
    );
    assert.doesNotMatch(text, /computed from the version, for/);
    // a count that differs from the RFC's is cited as counted
    const late = structuredClone(FIRST_MESSAGE_OVER_TLS);
    late.newTlsConnectionPoll![0]!.handshakeRoundTrips = 2;
    assert.match(
      rowAfter(protocolsSection({ ...fixture, firstMessage: late }) ?? '', '**The TLS handshake**', ['short-poll'])[4] ?? '',
      /handshake 2 round trips \(TLS 1\.3, measured/,
    );

    const [tls] = tlsFirstMessageText(measured);
    assert.match(tls ?? '', /^\*\*Over TLS\*\*: measured \(the TLS rows above\)/);
    assert.match(tls ?? '', /its round trips counted on the forwarder's trace: 1 for TLS 1\.3, 2 for TLS 1\.2/);
    assert.match(
      tls ?? '',
      /the server had a new connection's first poll after 252\.9 ms over TLS 1\.3 and 354\.8 ms over TLS 1\.2, against 150\.7 ms in plaintext/,
    );
    assert.match(tls ?? '', /the answer was back at the client after 304\.0 ms over TLS 1\.3 and 405\.5 ms over TLS 1\.2, against 201\.4 ms/);
    assert.doesNotMatch(tls ?? '', /not measured over TLS|would have the request/);
    // an open wss frame measured beside the polls: judged against one way
    const [wss] = tlsFirstMessageText({
      ...fixture,
      firstMessage: { ...FIRST_MESSAGE_OVER_TLS, websocketFrameOverTls: { version: '1.3', onTheWireMs: 50.4, clientLatencyMs: 51.1 } },
    });
    assert.match(
      wss ?? '',
      /One frame down an open WebSocket over TLS 1\.3: 50\.4 ms on the path, 51\.1 ms by the client \(measured, the table above\), against d = 50 ms: once open, TLS adds no round trip\./,
    );
    const [slow] = tlsFirstMessageText({
      ...fixture,
      firstMessage: { ...FIRST_MESSAGE_OVER_TLS, websocketFrameOverTls: { version: '1.3', onTheWireMs: 150.4, clientLatencyMs: 151 } },
    });
    assert.match(slow ?? '', /against d = 50 ms: \*\*100\.4 ms more than one way\*\*\./);
    // measured over TLS, said so even where no run of the results is over TLS
    assert.match(tlsFirstMessageText({ ...q3, firstMessage: FIRST_MESSAGE_OVER_TLS })[0] ?? '', /^\*\*Over TLS\*\*: measured/);
  });
});

describe('report: the claims judged for HTTP/1.1 and HTTP/2 separately', () => {
  const fixture = protocolsFixture();

  it('keeps six verdicts, the HTTP/1.1 ones, where the results have no HTTP/2 run', () => {
    const verdicts = claimVerdicts(tlsOnlyFixture());
    assert.deepEqual(
      verdicts.map((verdict) => verdict.number),
      ['1', '2', '3', '4', '5', '6'],
    );
    assert.match(verdicts[2]?.claim ?? '', /\(against HTTP\/1\.1 polling\)$/);
    assert.match(verdicts[3]?.claim ?? '', /\(HTTP\/1\.1 polling\)$/);
  });

  it('judges claims 3 and 4 for each version, each verdict saying which', () => {
    const verdicts = claimVerdicts(fixture);
    assert.deepEqual(
      verdicts.map((verdict) => [verdict.number, verdict.judgedFor, verdict.verdict]),
      [
        ['1', undefined, 'supported with a nuance'],
        ['2', undefined, 'supported'],
        ['3', 'HTTP/1.1', 'supported'],
        // wss 5.2 B against HTTP/2 short-poll 133.3 B of headers + framing per message: 25.6×, and 1,253.0 < 1,404.5 B in all
        ['3', 'HTTP/2', 'supported'],
        ['4', 'HTTP/1.1', 'supported with a nuance'],
        // 10 of 160 polls empty (6.3%), 1,404.5 B per message against wss's 1,253.0 (1.12×): neither test holds
        ['4', 'HTTP/2', 'contradicted'],
        ['5', undefined, 'supported'],
        ['6', undefined, 'contradicted'],
      ],
    );
    const [, , , headers2, , waste2] = verdicts;
    assert.equal(headers2?.claim, 'Frames carry much lighter headers, so less data crosses the network (against HTTP/2 polling)');
    assert.match(
      headers2?.figure ?? '',
      /`push\/websocket\/1KiB\/c10\/r10\/tls1\.3` 5\.2 B against `push\/short-poll\/1KiB\/c10\/r10\/i100ms\/h2-tls1\.3` 133\.3 B \(25\.6×\)/,
    );
    assert.equal(waste2?.claim, 'Polling wastes bandwidth: most requests return nothing new (HTTP/2 polling)');
    assert.match(
      waste2?.evidence?.join('\n') ?? '',
      // setup (TLS handshakes, paid once a connection) left out: with it, 1,404.5 B against 1,253.0 B
      /h2-tls1\.3`: 10 of 160 polls empty \(6\.3%\), 1,214\.5 B per delivered message after setup, 1\.15× the 1,060\.0 B of `push\/websocket\/1KiB\/c10\/r10\/tls1\.3`/,
    );
    // the HTTP/1.1 verdicts pair plaintext with plaintext and TLS with TLS: the HTTP/1.1 over TLS poll beside wss
    assert.match(
      verdicts[4]?.evidence?.join('\n') ?? '',
      /i100ms\/tls1\.3`: 10 of 160 polls empty \(6\.3%\), 1,413\.4 B per delivered message after setup, 1\.33× the 1,060\.0 B of `push\/websocket\/1KiB\/c10\/r10\/tls1\.3`/,
    );
  });

  it('gives the connection-count claim its HTTP/2 row: one connection for everything', () => {
    const [connections] = claimVerdicts(fixture);
    assert.match(
      connections?.evidence?.join('\n') ?? '',
      /Over HTTP\/2, TCP connections per client \(measured: `connections\.perClient`\): short-poll 1\.00 \(1 run\): one connection for everything/,
    );
    assert.match(connections?.rule ?? '', /HTTP\/2 runs are listed beside and do not decide it/);
    const markdown = renderMarkdown(fixture);
    assert.ok(markdown.includes('| short-poll over HTTP/2 | 1.00 | 1 |'));
  });

  it('lists a claim’s HTTP/2 verdict under its HTTP/1.1 one, keeping the claims’ numbers', () => {
    const text = claimsSection(fixture);
    assert.match(
      text,
      /^3\. \*\*Frames carry much lighter headers[^\n]*\(against HTTP\/1\.1 polling\)\*\*: \*\*supported\*\*\. [^\n]*\n {3}- \*\*Frames carry much lighter headers[^\n]*\(against HTTP\/2 polling\)\*\*: \*\*supported\*\*\./m,
    );
    assert.match(text, /^5\. \*\*/m);
    const markdown = renderMarkdown(fixture);
    assert.match(markdown, /^- \*\*4\. \(HTTP\/2\)\*\* /m);
    assert.match(markdown, /\| 5 \| [^\n]*\| \[rule and details\]\(#5-the-handshake-recomputed\) \|/);
  });
});

describe('report: the Kaazing table’s HTTP/2 rows', () => {
  const markdown = renderMarkdown(protocolsFixture());

  it('measures the HTTP/2 poll and computes its bandwidth at 1,000, 10,000 and 100,000 clients, with the browser’s', () => {
    // (7,500 + 1,930 + 2,100 + 8,470) / 160 polls = 125.0 B; the browser's tenth poll 61 + 8 = 69 B
    assert.deepEqual(
      rowAfter(markdown, '## Kaazing: polling against WebSocket at scale', ['HTTP/2 polling over TLS 1.3: headers + framing per poll (B)']).slice(1),
      [
        'not in the article (HTTP/2 is of 2015)',
        '125.0 (measured: (headers + framing, up + down) / polls)',
        "69 (measured: the tenth poll's request + response header blocks, TLS 1.3)",
      ],
    );
    // 125 × 8 × 1,000 / 2^20 = 0.954; 69 × 8 × 100,000 / 2^20 = 52.6
    assert.deepEqual(rowAfter(markdown, '**HTTP/2 polling**, one poll per client per second:', ['1,000']).slice(1), [
      '0.954 Mbps (computed: 125 × 8 × 1,000 / 2^20)',
      '0.526 Mbps (computed: 69 × 8 × 1,000 / 2^20)',
    ]);
    assert.deepEqual(rowAfter(markdown, '**HTTP/2 polling**, one poll per client per second:', ['100,000']).slice(1), [
      '95.4 Mbps (computed: 125 × 8 × 100,000 / 2^20)',
      '52.6 Mbps (computed: 69 × 8 × 100,000 / 2^20)',
    ]);
    assert.match(markdown, /the first request and response 300 \+ 60 B, the tenth 30 \+ 10 B/);
  });

  it('keeps the HTTP/1.1 rows on the HTTP/1.1 run, and adds HTTP/2 columns to the summary', () => {
    assert.match(markdown, /\| 1,000 \| 6\.6 Mbps \(quoted\) \| 2\.41 Mbps \(computed: 315\.4 × 8 × 1,000 \/ 2\^20\) \|/);
    assert.ok(markdown.includes('| 1,000 | 6.6 | 2.41 | 5.19 | 0.015 | 0.0326 | 0.954 | 0.526 |'));
    const before = renderMarkdown(q3);
    assert.doesNotMatch(before, /\*\*HTTP\/2 polling\*\*|HTTP\/2 polling over TLS|HTTP\/2 polling: this run/);
  });
});
