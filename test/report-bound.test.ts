/** Which side was the limit, as the report shows it: the bound of every run, the driver-bound marker, asked beside delivered. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SATURATED } from '../bench/bound.ts';
import type { BoundSide, CompletedRun, Results } from '../bench/result.ts';
import { claimVerdicts, claimsSection } from '../scripts/report/claims-section.ts';
import { faultsSection } from '../scripts/report/faults-section.ts';
import { rttSection } from '../scripts/report/rtt-section.ts';
import { kaazingSection } from '../scripts/report/kaazing.ts';
import { methodSection, runListSection } from '../scripts/report/method.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;

function completedRun(results: Results, id: string): CompletedRun {
  const run = results.runs.find((candidate) => candidate.id === id);
  assert.ok(run !== undefined && run.state === 'completed', `no completed run ${id}`);
  return run;
}

function setBound(results: Results, id: string, side: BoundSide): CompletedRun {
  const run = completedRun(results, id);
  run.bound = { side, reason: `the ${side} was the limit, as the test says` };
  return run;
}

/** The cells of a run's row in its scenario table, found by the start of its first cell. */
function rowCells(markdown: string, firstCell: string): string[] {
  const results = markdown.slice(markdown.indexOf('## Results by scenario'));
  const line = results.split('\n').find((text) => text.startsWith(`| ${firstCell} |`));
  assert.ok(line !== undefined, `no row for ${firstCell}`);
  return line
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((cell) => cell.trim());
}

/** q3 with the new fields: push runs asked 100 msg/s; websocket's driver-bound, sse's server-bound, long-poll's delivered 67.42. */
function withBounds(): Results {
  const results = structuredClone(q3);
  for (const run of results.runs) {
    if (run.state !== 'completed') continue;
    run.bound = { side: 'none', reason: 'no side was saturated' };
    if (run.scenario === 'push') run.throughput = { ...run.throughput, offeredPerSecond: 100 };
  }
  setBound(results, 'push/websocket/1KiB/c10/r10', 'driver');
  setBound(results, 'push/sse/1KiB/c10/r10', 'server');
  const short = completedRun(results, 'push/long-poll/1KiB/c10/r10');
  short.throughput = { ...short.throughput, messagesPerSecond: 67.42 };
  return results;
}

describe('report: the bound of every run', () => {
  const markdown = renderMarkdown(withBounds());

  it("gives each run's bound in its row; a driver-bound run and its timing figures are marked", () => {
    const driver = rowCells(markdown, '`push/websocket/1KiB/c10/r10` ⚠');
    assert.equal(driver[1], '**driver** ⚠');
    assert.equal(driver[6], '0.115 / 0.414 / 1.398 ⚠'); // latency
    assert.equal(driver[8], '100.0 ⚠'); // msg/s delivered
    assert.equal(driver[10], '253.1 ⚠'); // server CPU per message
    assert.equal(driver[2], '15.3 (0.0 / 0.0 / 0.9 / 14.4)', 'bytes are bytes: not marked');
    assert.equal(rowCells(markdown, '`push/sse/1KiB/c10/r10`')[1], 'server');
    assert.equal(rowCells(markdown, '`push/tcp/1KiB/c10/r10`')[1], 'none');
  });

  it('explains the marker once, and lists the driver-bound runs at the top', () => {
    assert.equal(markdown.split('marks a **driver-bound** run').length, 2);
    assert.match(
      markdown,
      /^\*\*1 of 20 runs were DRIVER-BOUND ⚠ \(their latency and msg\/s measure the driver, not the server\): `push\/websocket\/1KiB\/c10\/r10`\.\*\*$/m,
    );
  });

  it('shows what a run asked for beside what it delivered, and says so in the row when it delivered less than 90%', () => {
    const short = rowCells(markdown, '`push/long-poll/1KiB/c10/r10`');
    assert.equal(short[7], '100');
    assert.equal(short[8], '67.4 **SHORT: 67.4% of what it asked**');
    assert.equal(rowCells(markdown, '`push/tcp/1KiB/c10/r10`')[8], '100.0');
    assert.equal(rowCells(markdown, '`echo/sse/1KiB/c10`')[7], '-', 'a closed loop asks for no rate');
    assert.match(markdown, /^\*\*1 run delivered less than 90% of the messages a second it asked for: `push\/long-poll\/1KiB\/c10\/r10`\.\*\*$/m);
  });

  it('says the bound was not recorded in older results, and marks a run whose driver was saturated there', () => {
    const old = renderMarkdown(q3);
    assert.equal(rowCells(old, '`push/websocket/1KiB/c10/r10`')[1], 'not recorded');
    assert.equal(rowCells(old, '`echo/long-poll/1KiB/c10` ⚠')[1], 'not recorded; **driver saturated** ⚠');
    assert.equal(rowCells(old, '`push/websocket/1KiB/c10/r10`')[7], '100 (computed)', 'a push asks for a rate; this one did not record it');
    assert.match(old, /Where the results predate the asked rate it is computed from the run's config and says so: push clients × push rate/);
  });
});

describe('report: Kaazing, asked against delivered', () => {
  /** The WebSocket push asked 10,000 msg/s and delivered 6,742, its driver the limit. */
  function shortKaazing(): Results {
    const results = withBounds();
    const run = setBound(results, 'push/websocket/1KiB/c10/r10', 'driver');
    run.throughput = { ...run.throughput, offeredPerSecond: 10_000, messagesPerSecond: 6_742 };
    return results;
  }

  it('says a measured row delivered fewer messages than it asked, and marks a driver-bound run', () => {
    const text = kaazingSection(shortKaazing());
    assert.match(text, /\| `push\/websocket\/1KiB\/c10\/r10` ⚠ \| 10 \| \*\*driver\*\* ⚠ \| \*\*6,742 of 10,000 \(67\.4%\): SHORT\*\* \|/);
    assert.match(text, /\| `push\/short-poll\/1KiB\/c10\/r10\/i100ms` \| 10 \| none \| 100 of 100 \(100\.0%\) \|/);
    assert.match(
      text,
      /This run, WebSocket: from `push\/websocket\/1KiB\/c10\/r10` ⚠\.[^\n]* \*\*It was driver-bound ⚠ \(the driver was the limit, as the test says\)\.\*\* \*\*It delivered 6,742 of the 10,000 messages a second it asked for \(67\.4%, computed: msg\/s delivered \/ msg\/s asked\)\.\*\*/,
    );
    assert.match(
      text,
      /4\.3 \(measured: \(headers \+ framing, down\) \/ messages received\); \*\*the run delivered 6,742 of the 10,000 messages a second it asked for/,
    );
  });

  it('computes what was asked from the config of older results, and says so', () => {
    // as the scale sample has it: 10,000 clients polled for one message a second each, 6,742 a second delivered
    const old = structuredClone(q3);
    const run = completedRun(old, 'push/websocket/1KiB/c10/r10');
    run.clients = 10_000;
    run.config = { ...run.config, clients: 10_000, pushRatePerSecond: 1 };
    run.throughput = { ...run.throughput, messagesPerSecond: 6_742 };
    const text = kaazingSection(old);
    assert.match(
      text,
      /\| `push\/websocket\/1KiB\/c10\/r10` \| 10,000 \| not recorded \| \*\*6,742 of 10,000 \(67\.4%\): SHORT\*\* \(asked computed: clients × push rate\) \|/,
    );
    assert.match(
      text,
      /It delivered 6,742 of the 10,000 messages a second it asked for \(67\.4%, computed: msg\/s delivered \/ msg\/s asked; asked computed: clients × push rate\)/,
    );
  });
});

describe('report: the Method on the bound', () => {
  it("explains how the bound is decided with bench/bound.ts's threshold", () => {
    const text = methodSection(q3);
    const percent = `${Math.round(SATURATED * 100)}%`;
    assert.match(text, /### Which side was the limit/);
    assert.ok(text.includes(`the threshold, \`SATURATED\`, is ${SATURATED.toFixed(2)}`), 'names the threshold as bench/bound.ts has it');
    assert.ok(text.includes(`2. **driver**: the busiest driver thread's event loop was ${percent} busy or more`));
    assert.ok(text.includes(`4. **server**: the server's event loop was ${percent} busy or more`));
    assert.match(text, /Bounds in these results: 20 not recorded \(of 20 completed runs\)\./);
  });

  it("gives each run's bound, why, and both sides' loads over the window in the runs table", () => {
    const results = withBounds();
    const run = completedRun(results, 'push/websocket/1KiB/c10/r10');
    run.server = { ...run.server, window: { cpuCores: 0.45, eventLoopUtilization: 0.4 } };
    run.driver = { ...run.driver, window: { cpuCores: 0.98, eventLoopUtilization: 0.95 }, threads: [0.95, 0.6] };
    const text = runListSection(results);
    assert.match(
      text,
      /\| `push\/websocket\/1KiB\/c10\/r10` ⚠ \| 10 \| [^\n]* \| \*\*driver\*\* ⚠ \| the driver was the limit, as the test says \| server 0\.45 core, 40% busy; driver 0\.98 core, 95% busy \(threads 95%, 60%\) \|/,
    );
    assert.match(text, /\| `push\/tcp\/1KiB\/c10\/r10` \| [^\n]* \| none \| no side was saturated \| server not recorded; driver not recorded \|/);
    assert.match(methodSection(results), /Bounds in these results: 1 server, 1 driver, 18 none \(of 20 completed runs\)\./);
  });
});

describe('report: claims resting on driver-bound figures', () => {
  it('names the driver-bound run a verdict uses, in the verdict', () => {
    const results = withBounds(); // push/websocket/1KiB/c10/r10 driver-bound
    const verdicts = claimVerdicts(results);
    const push = verdicts[1];
    assert.equal(push?.verdict, 'supported', 'the verdict itself still follows its rule');
    assert.deepEqual(push?.driverBoundRuns, ['push/websocket/1KiB/c10/r10']);
    for (const index of [0, 2, 3]) assert.deepEqual(verdicts[index]?.driverBoundRuns, ['push/websocket/1KiB/c10/r10'], `claim ${index + 1}`);
    const markdown = renderMarkdown(results);
    assert.match(
      markdown,
      /\| 2 \| The server can push data \(without waiting for the client to ask\) \| \*\*supported\*\*, \*\*resting on driver-bound figures ⚠\*\* \(listed below\) \|/,
    );
    assert.match(
      markdown,
      /^- \*\*2\.\*\* Every pair[^\n]*\n {2}- Rests on driver-bound figures ⚠ of `push\/websocket\/1KiB\/c10\/r10`: the driver, not the server, was the limit there\.$/m,
    );
  });

  it('says nothing of the kind when no run it uses was driver-bound', () => {
    const results = withBounds();
    setBound(results, 'push/websocket/1KiB/c10/r10', 'server');
    assert.deepEqual(
      claimVerdicts(results).map((verdict) => verdict.driverBoundRuns),
      [undefined, undefined, undefined, undefined, undefined, undefined],
    );
    assert.doesNotMatch(claimsSection(results), /resting on driver-bound/);
    assert.doesNotMatch(renderMarkdown(results), /resting on driver-bound|Rests on driver-bound/);
  });

  it('flags the handshake and the frame when the run their bytes were captured from was driver-bound', () => {
    const results = withBounds();
    setBound(results, 'echo/websocket/1KiB/c10', 'driver');
    const verdicts = claimVerdicts(results);
    assert.deepEqual(verdicts[4]?.driverBoundRuns, ['echo/websocket/1KiB/c10']);
    assert.deepEqual(verdicts[5]?.driverBoundRuns, ['echo/websocket/1KiB/c10']);
  });

  it('reads a saturated driver of older results as driver-bound', () => {
    // q3's echo runs of long-poll, websocket and tcp had driver.saturated set
    assert.deepEqual(claimVerdicts(q3)[2]?.driverBoundRuns, ['echo/websocket/1KiB/c10', 'echo/long-poll/1KiB/c10']);
  });
});

describe('report: the bound in the RTT and faults tables', () => {
  it('gives the bound of each RTT and marks a driver-bound latency', () => {
    const results = withBounds();
    const push = completedRun(results, 'push/sse/1KiB/c10/r10');
    results.runs.push({
      ...push,
      id: `${push.id}/rtt100ms`,
      config: { ...push.config, rttMs: 100 },
      latencyMs: { ...push.latencyMs, p50: 50.2 },
      bound: { side: 'driver', reason: 'as the test says' },
    });
    assert.match(rttSection(results) ?? '', /\| sse \| [\d.]+ \| 50\.20 ⚠ \| 0 ms: server; 100 ms: \*\*driver\*\* ⚠ \| half a round trip/);
  });

  it("gives each fault run's bound", () => {
    const results = withBounds();
    const push = completedRun(results, 'push/websocket/1KiB/c10/r10');
    results.runs.push({ ...push, id: `${push.id}/client-kill`, fault: { kind: 'client-kill', atMs: 500, durationMs: 0 } });
    assert.match(
      faultsSection(results) ?? '',
      /\| `push\/websocket\/1KiB\/c10\/r10\/client-kill` ⚠ \| \*\*driver\*\* ⚠ \| every client connection dropped: at 0\.50 s \|/,
    );
  });
});
