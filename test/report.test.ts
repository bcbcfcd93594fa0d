import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CompletedRun, Results } from '../bench/result.ts';
import { claimVerdicts } from '../scripts/report/claims-section.ts';
import { chartSpecs } from '../scripts/report/chart-specs.ts';
import { renderCharts } from '../scripts/report/chart-render.ts';
import { renderMarkdown } from '../scripts/report/render.ts';
import { headings } from '../scripts/report/markdown.ts';
import { writeReport } from '../scripts/report/write.ts';

/** The --quick suite as run on the project's machine (samples: the WebSocket one only). */
function loadFixture(name: string): Results {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Results;
}

const q3 = loadFixture('q3-results.json');
/** The charts q3 gives: one per figure of each scenario it ran (idle has no latency). */
const Q3_CHARTS = [
  'latency-echo.svg',
  'bytes-echo.svg',
  'bandwidth-echo.svg',
  'latency-push.svg',
  'bytes-push.svg',
  'bandwidth-push.svg',
  'bytes-idle.svg',
  'bandwidth-idle.svg',
  'latency-broadcast.svg',
  'bytes-broadcast.svg',
  'bandwidth-broadcast.svg',
];
/** q3 with every WebSocket run made worse (see its suite.note). */
const worse = loadFixture('q3-websocket-worse.json');

function completedRun(results: Results, id: string): CompletedRun {
  const run = results.runs.find((candidate) => candidate.id === id);
  assert.ok(run !== undefined && run.state === 'completed', `no completed run ${id}`);
  return run;
}

/** The cells of a run's row in its scenario table. */
function rowCells(markdown: string, runId: string): string[] {
  const results = markdown.slice(markdown.indexOf('## Results by scenario'));
  const line = results.split('\n').find((text) => text.startsWith(`| \`${runId}\` |`));
  assert.ok(line !== undefined, `no row for ${runId}`);
  return line
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((cell) => cell.trim());
}

describe('report: scenario tables', () => {
  const markdown = renderMarkdown(q3);

  it('splits bytes per message by kind (bytes / messages received)', () => {
    // push/websocket: 150 messages; up 2300 = 0 + 0 + 140 + 2160; down 155530 = 153600 + 0 + 640 + 1290.
    const cells = rowCells(markdown, 'push/websocket/1KiB/c10/r10');
    assert.equal(cells[1], 'not recorded'); // the fixture predates the bound
    assert.equal(cells[2], '15.3 (0.0 / 0.0 / 0.9 / 14.4)');
    assert.equal(cells[3], '1,036.9 (1,024.0 / 0.0 / 4.3 / 8.6)');
    assert.equal(cells[4], '1.03'); // (2300 + 155530) / 153600
    assert.equal(cells[5], '1.00');
    assert.equal(cells[6], '0.115 / 0.414 / 1.398');
    assert.equal(cells[7], '100 (computed)'); // 10 clients × 10 msg/s: the fixture predates offeredPerSecond
    assert.equal(cells[8], '100.0');
    assert.equal(cells[9], '-'); // no polls
    assert.equal(cells[10], '253.1'); // 0.037961 s / 150 × 10^6
    assert.equal(cells[11], '83.8'); // 87867392 / 2^20
    assert.equal(cells[12], '0 / 0 / 0');
  });

  it('adds TLS’s part to a run over TLS, in its cells and its bar; a fixture written before TLS was counted has none', () => {
    // The same push run as above, as if over TLS: 1,500 bytes up and 3,000 down of records and tags, in the totals too.
    const overTls: Results = structuredClone(q3);
    const run = completedRun(overTls, 'push/websocket/1KiB/c10/r10');
    run.bytes.up = { ...run.bytes.up, total: run.bytes.up.total + 1500, tls: 1500 };
    run.bytes.down = { ...run.bytes.down, total: run.bytes.down.total + 3000, tls: 3000 };
    const cells = rowCells(renderMarkdown(overTls), 'push/websocket/1KiB/c10/r10');
    assert.equal(cells[2], '25.3 (0.0 / 0.0 / 0.9 / 14.4; tls 10.0)'); // (2300 + 1500) / 150
    assert.equal(cells[3], '1,056.9 (1,024.0 / 0.0 / 4.3 / 8.6; tls 20.0)');
    const kindsOf = (results: Results): unknown => {
      const chart = chartSpecs(results).find((spec) => spec.fileName === 'bytes-push.svg');
      return (chart?.buildSpec() as unknown as { encoding: { color: { scale: { domain: string[] } } } }).encoding.color.scale.domain;
    };
    assert.deepEqual(kindsOf(overTls), ['payload', 'headers', 'framing', 'setup', 'tls']);
    assert.deepEqual(kindsOf(q3), ['payload', 'headers', 'framing', 'setup']);
  });

  it('shows the share of empty polls and the connections per client', () => {
    const cells = rowCells(markdown, 'echo/short-poll/1KiB/c10');
    assert.equal(cells[5], '1.40'); // 14 connections for 10 clients
    assert.equal(cells[7], '-'); // a closed loop asks for no rate
    assert.equal(cells[9], '7.6% (13 of 170)');
  });

  it('gives idle runs bytes per client per second over warm-up + window', () => {
    // 20920 B up / 10 clients / (0.5 + 1) s; headers 20000 / 15, setup 920 / 15.
    const cells = rowCells(markdown, 'idle/short-poll/c10/i100ms');
    assert.equal(cells[1], 'not recorded');
    assert.equal(cells[2], '1,394.7 (0.0 / 1,333.3 / 0.0 / 61.3)');
    assert.equal(cells[5], '100.0% (160 of 160)');
  });

  it('shows until the last client has a broadcast', () => {
    const cells = rowCells(markdown, 'broadcast/short-poll/1KiB/c10/i100ms');
    assert.equal(cells[7], '63.231 / 97.011');
  });

  it('lists warnings under the table', () => {
    assert.match(markdown, /- `echo\/long-poll\/1KiB\/c10`: the driver was saturated \(event loop 95% busy\)/);
  });

  it('orders runs from short polling to raw TCP', () => {
    const order = ['short-poll', 'long-poll', 'sse', 'websocket', 'tcp'].map((transport) => markdown.indexOf(`| \`push/${transport}/`));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
  });

  it('makes a failed run a FAILED row and a loss impossible to miss', () => {
    const broken = structuredClone(q3);
    const index = broken.runs.findIndex((run) => run.id === 'echo/sse/1KiB/c10');
    const failed = broken.runs[index]!;
    broken.runs[index] = {
      state: 'failed',
      id: failed.id,
      scenario: failed.scenario,
      transport: failed.transport,
      config: failed.config,
      error: 'server did not start',
    };
    const lossy = completedRun(broken, 'push/tcp/1KiB/c10/r10');
    lossy.messages = { ...lossy.messages, lost: 3, clientsWithLoss: 2 };
    const text = renderMarkdown(broken);
    assert.deepEqual(rowCells(text, 'echo/sse/1KiB/c10').slice(0, 2), ['`echo/sse/1KiB/c10`', '**FAILED**: server did not start']);
    assert.match(text, /\*\*1 of 20 runs FAILED: `echo\/sse\/1KiB\/c10`\.\*\*/);
    assert.match(text, /\*\*`push\/tcp\/1KiB\/c10\/r10` LOST 3 of 150 expected messages \(2 clients lost at least one\)\*\*/);
    assert.equal(rowCells(text, 'push/tcp/1KiB/c10/r10')[12], '**3** / 0 / 0');
  });

  it('escapes pipes in cells and keeps every table row as wide as its header', () => {
    const piped = structuredClone(q3);
    const run = piped.runs[0]!;
    piped.runs[0] = { state: 'failed', id: run.id, scenario: run.scenario, transport: run.transport, config: run.config, error: 'a | b' };
    const text = renderMarkdown(piped);
    assert.match(text, /\*\*FAILED\*\*: a \\\| b \|/);
    for (const block of text.split('\n\n').filter((part) => part.startsWith('| '))) {
      const widths = block
        .trim()
        .split('\n')
        .map((line) => line.split(/(?<!\\)\|/).length);
      assert.ok(
        widths.every((width) => width === widths[0]),
        `ragged table:\n${block.slice(0, 200)}`,
      );
    }
  });

  it('writes the method from the results', () => {
    assert.match(markdown, /AMD EPYC, 2 cores, 23\.5 GiB of memory \(computed: 25,276,502,016 bytes \/ 2\^30\)/);
    assert.match(markdown, /applied: server on core\(s\) 1, driver on core\(s\) 0/);
    assert.match(markdown, /`npm run bench -- --quick --out \/tmp\/q3`/);
    const unpinned = structuredClone(q3);
    unpinned.pinning = { requested: true, applied: false, serverCores: 'any', driverCores: 'any', reason: 'taskset is not available' };
    assert.match(renderMarkdown(unpinned), /requested but not applied: taskset is not available/);
  });
});

describe('report: claims', () => {
  it('decides every claim from the quick run', () => {
    assert.deepEqual(
      claimVerdicts(q3).map((claim) => claim.verdict),
      [
        'supported with a nuance', // websocket 1.00 per client, but idle short-poll kept 1.00 too (keep-alive)
        'supported', // short-poll p50 88.191 ms against 0.115 (websocket) and 0.165 (sse): over 10×
        'supported', // closest pair: broadcast websocket 8.0 B against long-poll 357.7 B per message
        'supported with a nuance', // broadcast: 81.3% empty and 2.42×; push: 6.3% empty and 1.33×
        'supported', // rE91AJhfC+6JdVcVXOGJEADEJdQ= and the live upgrade matches
        'contradicted', // the wire carries RFC 6455 frames, not \x00 … \xFF
      ],
    );
    const [, push, headers] = claimVerdicts(q3);
    // the cell: the pair that decides (the lowest ratio); the list under the table: every pair
    assert.match(
      push?.figure ?? '',
      /^The closest of 2 pairs: `push\/sse\/1KiB\/c10\/r10` p50 0\.165 ms against [^\n]* p50 88\.191 ms \(polling every 100 ms\): 534×/,
    );
    assert.match(
      push?.evidence?.join('\n') ?? '',
      /p50 0\.115 ms against `push\/short-poll\/1KiB\/c10\/r10\/i100ms` p50 88\.191 ms \(polling every 100 ms\): 767×/,
    );
    assert.match(headers?.figure ?? '', /`broadcast\/websocket\/1KiB\/c10` 8\.0 B against `broadcast\/long-poll\/1KiB\/c10` 357\.7 B \(44\.7×\)/);
  });

  it('contradicts the WebSocket claims when WebSocket does worse', () => {
    const verdicts = claimVerdicts(worse).map((claim) => claim.verdict);
    assert.deepEqual(verdicts.slice(0, 3), ['contradicted', 'contradicted', 'contradicted']);
  });

  it('says "not measured in this run" without the runs a claim needs', () => {
    const tcpOnly: Results = { ...structuredClone(q3), runs: q3.runs.filter((run) => run.transport === 'tcp'), samples: [] };
    const verdicts = claimVerdicts(tcpOnly);
    assert.deepEqual(
      verdicts.map((claim) => claim.verdict),
      [
        'not measured in this run',
        'not measured in this run',
        'not measured in this run',
        'not measured in this run',
        'supported by the computation; the live check was not made',
        'not measured in this run',
      ],
    );
    assert.match(verdicts[4]?.figure ?? '', /the live check was not made/);
  });
});

describe('report: Kaazing table', () => {
  it('quotes their table and computes the same from this run', () => {
    const markdown = renderMarkdown(q3);
    assert.match(markdown, /\| 1,000 \| 6\.6 Mbps \(quoted\) \|/);
    assert.match(markdown, /\| 100,000 \| 665 Mbps \(quoted\) \|/);
    assert.match(markdown, /\| 100,000 \| 1\.526 Mbps \(quoted\) \|/);
    // push/short-poll: (20050 + 0 + 25260 + 5160) / 160 polls = 315.4 B; × 8 × 1,000 / 2^20 = 2.41 Mbps.
    assert.match(markdown, /315\.4 \(measured: \(headers \+ framing, up \+ down\) \/ polls\)/);
    assert.match(markdown, /\| 1,000 \| 6\.6 Mbps \(quoted\) \| 2\.41 Mbps \(computed: 315\.4 × 8 × 1,000 \/ 2\^20\) \| not measured in this run \|/);
    // push/websocket: (0 + 640) / 150 = 4.3 B; × 8 × 1,000 / 2^20 = 0.0326 Mbps.
    assert.match(markdown, /\| 1,000 \| 0\.015 Mbps \(quoted\) \| 0\.0326 Mbps \(computed: 4\.3 × 8 × 1,000 \/ 2\^20\) \|/);
    assert.match(markdown, /No run matched the Kaazing case/);
    // (23110 + 187430) B × 8 / 1.5 s / 2^20 = 1.07 Mbps.
    assert.match(
      markdown,
      /\| `push\/short-poll\/1KiB\/c10\/r10\/i100ms` \| 10 \| not recorded \| 100 of 100 \(100\.0%\) \(asked computed: clients × push rate\) \| 210,540 \(measured\) \| 1\.5 \| 1\.07 \(measured\) \|/,
    );
  });

  it('says the real-browser measurement failed, with its error, at the top and in the Kaazing section; a skipped one is not measured', () => {
    const failed = renderMarkdown({ ...q3, browser: { failed: 'page.goto: Timeout 15000ms exceeded' } });
    assert.match(failed, /^\*\*The real-browser measurement FAILED: page\.goto: Timeout 15000ms exceeded\*\*$/m);
    assert.match(failed, /^\*\*Real browser: the measurement FAILED: page\.goto: Timeout 15000ms exceeded\*\*$/m);
    const skipped = renderMarkdown({ ...q3, browser: { skipped: 'chromium is not installed at /usr/bin/chromium' } });
    assert.doesNotMatch(skipped, /FAILED/);
    assert.match(skipped, /Real browser: not measured in this run \(chromium is not installed at \/usr\/bin\/chromium\)\./);
  });

  it('fills the real-browser column when the results carry a browser', () => {
    const withBrowser = {
      ...structuredClone(q3),
      browser: { name: 'Firefox', version: '128.0', pollRequestBytes: 600, pollResponseHeaderBytes: 271, websocketFrameBytes: 2 },
    };
    const markdown = renderMarkdown(withBrowser);
    assert.match(markdown, /real browser \(Firefox 128\.0\)/);
    assert.match(markdown, /871 \(measured: poll request \+ response head\)/);
    assert.match(markdown, /\| 6\.65 Mbps \(computed: 871 × 8 × 1,000 \/ 2\^20\) \|/);
  });

  it('sets the polls at 0, 100 and 1,000 cookie bytes: computed from the measured header, measured where the poll carried the cookie', () => {
    // q3's push/short-poll: 315.4 B per poll, no cookie; the browser: 700 + 271 = 971 B with a 100-byte cookie.
    const withCookie = {
      ...structuredClone(q3),
      browser: { name: 'Chromium', version: '156.0', pollRequestBytes: 700, pollResponseHeaderBytes: 271, websocketFrameBytes: 2, cookieBytes: 100 },
    };
    const markdown = renderMarkdown(withCookie);
    assert.match(markdown, /adds the line `Cookie: ` \+ n \+ CRLF = n \+ 10 bytes/);
    assert.match(markdown, /this run's polls carried no cookie, the browser's carried a 100-byte cookie/);
    // 315.4 × 8 × 100,000 / 2^20 = 241; 971 − 110 = 861, × 8 × 100,000 / 2^20 = 657.
    assert.match(markdown, /\| 0 \| 315\.4 \(measured\) \| 241 Mbps \(computed\) \| 861 \(computed: 971 − 110\) \| 657 Mbps \(computed\) \|/);
    assert.match(markdown, /\| 100 \| 425\.4 \(computed: 315\.4 \+ 110\) \| 325 Mbps \(computed\) \| 971 \(measured\) \| 741 Mbps \(computed\) \|/);
    // 1,000 bytes: + 1,010; 1,325.4 × 8 × 100,000 / 2^20 = 1,011.
    assert.match(markdown, /\| 1,000 \| 1,325\.4 \(computed: 315\.4 \+ 1,010\) \| 1,011 Mbps \(computed\) \| 1,871 \(computed: 971 − 110 \+ 1,010\) \|/);

    // a run that carried a 500-byte cookie: measured there, and its own row
    const poll = completedRun(withCookie, 'push/short-poll/1KiB/c10/r10/i100ms');
    poll.config = { ...poll.config, cookieBytes: 500 };
    const cookieLines = 510 * poll.polls.total;
    poll.bytes.up = { ...poll.bytes.up, headers: poll.bytes.up.headers + cookieLines, total: poll.bytes.up.total + cookieLines };
    const carried = renderMarkdown(withCookie);
    assert.match(carried, /Its requests carried a 500-byte cookie\./);
    assert.match(carried, /\| 500 \| 825\.4 \(measured\) \|/);
    assert.match(carried, /\| 0 \| 315\.4 \(computed: 825\.4 − 510\) \|/);
    assert.match(carried, /\| 100 \| 425\.4 \(computed: 825\.4 − 510 \+ 110\) \|/);
  });

  it('takes the Kaazing runs when there are', () => {
    const kaazing = structuredClone(q3);
    const poll = completedRun(kaazing, 'push/short-poll/1KiB/c10/r10/i100ms');
    poll.config = { ...poll.config, pushRatePerSecond: 1, pollIntervalMs: 1000 };
    const markdown = renderMarkdown(kaazing);
    assert.match(markdown, /This run, polling: from `push\/short-poll\/1KiB\/c10\/r10\/i100ms`\. This run, WebSocket/);
  });
});

describe('report: charts', () => {
  it('renders every chart to SVG with its title', async () => {
    const specs = chartSpecs(q3);
    assert.deepEqual(
      specs.map((chart) => chart.fileName),
      Q3_CHARTS,
    );
    const charts = await renderCharts(specs);
    for (const [index, chart] of charts.entries()) {
      assert.match(chart.svg, /^<svg/);
      assert.ok(chart.svg.includes(specs[index]!.title), `${chart.fileName} lacks its title`);
    }
    assert.ok(charts[0]!.svg.includes('latency (ms, log scale)'));
    assert.ok(charts[0]!.svg.includes('echo/websocket/1KiB/c10'), 'the legend names the runs');
    assert.ok(charts[1]!.svg.includes('headers'), 'the legend names the kinds');
  });

  it("plots latency percentiles from the histograms, the tables' p50 and p99 among them", () => {
    const chart = chartSpecs(q3).find((candidate) => candidate.fileName === 'latency-push.svg');
    const values = (chart?.buildSpec().data as { values: { run: string; percentile: number; inverseTail: number; latencyMs: number }[] }).values;
    const point = (percentile: number) => values.find((value) => value.run === 'push/websocket/1KiB/c10/r10' && value.percentile === percentile);
    assert.deepEqual(point(50), { run: 'push/websocket/1KiB/c10/r10', percentile: 50, inverseTail: 2, latencyMs: 0.115 });
    assert.equal(point(99)?.latencyMs, 0.414);
    assert.equal(point(99)?.inverseTail, 100);
    assert.equal(point(99.9), undefined, '100 samples cannot resolve p99.9');
  });

  it('embeds the charts in the markdown', () => {
    assert.match(renderMarkdown(q3), /!\[Latency distribution, echo: [^\]]*\]\(charts\/latency-echo\.svg\)/);
  });
});

describe('report: files', () => {
  it('writes report.md and every chart it links to', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-report-'));
    try {
      const reportPath = await writeReport(q3, out);
      assert.equal(reportPath, path.join(out, 'report.md'));
      const links = [...readFileSync(reportPath, 'utf8').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((match) => match[1] ?? '');
      assert.deepEqual(
        links,
        Q3_CHARTS.map((file) => `charts/${file}`),
      );
      for (const link of links) assert.match(readFileSync(path.join(out, link), 'utf8'), /^<svg/, `${link} was not written`);
      assert.deepEqual(readdirSync(path.join(out, 'charts')).sort(), [...Q3_CHARTS].sort(), 'no chart that is not linked');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('is deterministic: two processes write the same bytes from the same results', async () => {
    const outs = [0, 1].map(() => mkdtempSync(path.join(tmpdir(), 'wirecost-report-')));
    try {
      const fixture = new URL('./fixtures/q3-results.json', import.meta.url).pathname;
      // two separate processes, one after the other: nothing shared but the results file
      for (const out of outs) {
        const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/report.ts', fixture, '--out', out], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(run.status, 0, run.stderr);
      }
      const files = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
      const [first, second] = outs as [string, string];
      assert.deepEqual(files(first), files(second));
      assert.deepEqual(files(first), ['charts', 'report.md', ...Q3_CHARTS.map((file) => path.join('charts', file))].sort());
      for (const file of files(first).filter((name) => name !== 'charts')) {
        assert.ok(readFileSync(path.join(first, file)).equals(readFileSync(path.join(second, file))), `${file} differs between the two runs`);
      }
    } finally {
      for (const out of outs) rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('report: the opening', () => {
  const markdown = renderMarkdown(q3);
  /** The lines of the block that follows the paragraph starting with `caption`, up to the next blank line. */
  function tableAfter(text: string, caption: string): string[] {
    const at = text.indexOf(`\n${caption}`);
    assert.ok(at !== -1, `no "${caption}"`);
    const start = text.indexOf('\n\n', at + 1) + 2;
    return text.slice(start, text.indexOf('\n\n', start)).split('\n');
  }

  it('opens with the answers; the method, the driver benchmark and the list of runs come last', () => {
    const level2 = markdown.split('\n').filter((line) => line.startsWith('## '));
    assert.equal(level2[0], '## Answers');
    assert.ok(markdown.indexOf('## Answers') < markdown.indexOf('## How to read this report'));
    assert.ok(markdown.indexOf('## Answers') < markdown.indexOf('## Method'));
    assert.ok(markdown.indexOf('## Results by scenario') < markdown.indexOf('## Method'));
    assert.deepEqual(level2.slice(-3), ['## Method', '## Is the driver stronger than the server?', '## Runs']);
  });

  it('gives each verdict in a short cell and the rest of its evidence as a list under the table', () => {
    assert.match(
      markdown,
      /\| 2 \| The server can push data \(without waiting for the client to ask\) \| \*\*supported\*\* \| The closest of 2 pairs: [^|]*534× [^|]*\| \[rule and details\]\(#the-textbooks-claims\) \|/,
    );
    assert.match(markdown, /\| 5 \| [^\n]*\| \[rule and details\]\(#5-the-handshake-recomputed\) \|/);
    assert.match(
      markdown,
      /^- \*\*2\.\*\* Every pair \(computed: short-poll p50 \/ push p50\):\n {2}- `push\/sse\/1KiB\/c10\/r10` p50 0\.165 ms[^\n]*\n {2}- `push\/websocket\/1KiB\/c10\/r10` p50 0\.115 ms[^\n]*767×\.$/m,
    );
  });

  it('answers each question with a small table from the results', () => {
    // bytes per message: push, 10 clients, 1 KiB; q3 has no 16-byte run
    assert.deepEqual(tableAfter(markdown, '**Bytes per message**').slice(2, 4), [
      '| short-poll | not measured | 1,403.6 |',
      '| long-poll | not measured | 1,392.3 |',
    ]);
    assert.match(
      markdown,
      /16 B: no such run; 1 KiB: push, 10 clients, 10 msg\/s each; short polling every 100 ms\. Details: \[Results by scenario: push\]\(#push\)\./,
    );
    // push latency, p50 / p99: loopback only (q3 has no RTT series)
    assert.ok(tableAfter(markdown, '**Push latency**').includes('| websocket | 0.115 / 0.414 | not measured |'));
    // connections per client: echo/short-poll made 14 connections for 10 clients
    assert.ok(tableAfter(markdown, '**TCP connections per client**').includes('| short-poll | 1.00–1.40 | 4 |'));
    // Kaazing: 315.4 B per poll × 8 × 1,000 / 2^20 = 2.41; 4.3 B per message → 0.0326
    assert.ok(tableAfter(markdown, '**Kaazing: polling against WebSocket at scale**').includes('| 1,000 | 6.6 | 2.41 | not measured | 0.015 | 0.0326 |'));
  });

  it('links only to headings the report has', () => {
    const anchors = new Set(headings(markdown).map((heading) => heading.anchor));
    const links = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]!);
    assert.ok(links.length >= 8);
    for (const anchor of links) assert.ok(anchors.has(anchor), `#${anchor} is no heading`);
    // the scenario's push, not the RTT section's
    assert.equal(headings(markdown).find((heading) => heading.anchor === 'push')?.text, 'push');
    assert.ok(
      markdown.indexOf('### push') < markdown.indexOf('## Latency against round-trip time') || !markdown.includes('## Latency against round-trip time'),
    );
  });

  it('keeps every table cell of the sample report short: a reader need not dig', () => {
    const sample = JSON.parse(readFileSync(new URL('../reports/sample/results.json', import.meta.url), 'utf8')) as Results;
    const text = renderMarkdown(sample);
    const cells = text
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .flatMap((line) => line.slice(2, -2).split(/(?<!\\) \| /));
    const longest = cells.reduce((long, cell) => (cell.length > long.length ? cell : long), '');
    assert.ok(longest.length < 300, `a cell of ${longest.length} characters: ${longest.slice(0, 120)}…`);
    assert.ok(text.indexOf('## Answers') < text.indexOf('## Method') && text.lastIndexOf('\n## ') === text.indexOf('\n## Runs\n'));
  });
});
