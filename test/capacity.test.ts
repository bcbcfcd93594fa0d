/** The capacity section: the knee read from the ramp's data, memory per connection fitted over it, and its chart. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { BoundSide, CompletedRun, FailedRun, Results } from '../bench/result.ts';
import { capacityChart, capacitySection } from '../scripts/report/capacity-section.ts';
import { renderCharts } from '../scripts/report/chart-render.ts';
import { fitLine } from '../scripts/report/figures.ts';

const MIB = 1024 * 1024;
const results = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const template = results.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10') as CompletedRun;

/**
 * A step of the ramp; the server's peak RSS is a baseline of 100 MiB and `perClient` bytes per client unless given. Its bound is
 * the server's when it breaks the 500 ms bound, none otherwise.
 */
function step(
  transport: 'websocket' | 'long-poll',
  clients: number,
  p99Ms: number,
  perClient = 0,
  rssBytes = 100 * MIB + perClient * clients,
  side: BoundSide = p99Ms > 500 ? 'server' : 'none',
): CompletedRun {
  return {
    bound: { side, reason: `the test's ${side}` },
    ...template,
    id: `push/${transport}/1KiB/c${clients}/r1`,
    transport,
    clients,
    config: { ...template.config, transport, clients, group: 'capacity', latencyBoundMs: 500 },
    latencyMs: { ...template.latencyMs, p99: p99Ms },
    server: { ...template.server, peakRssBytes: rssBytes },
  };
}

const ramp: Results = {
  ...results,
  runs: [step('websocket', 500, 10), step('websocket', 1000, 20), step('websocket', 2000, 600), step('long-poll', 500, 700, 0, undefined, 'none')],
};

/** The websocket ramp, its last step driver-bound instead; long-poll's ends at its last step; tcp's meets a machine limit. */
const limited: Results = {
  ...results,
  runs: [
    step('websocket', 500, 10),
    step('websocket', 1000, 20),
    step('websocket', 2000, 600, 0, undefined, 'driver'),
    step('long-poll', 500, 10),
    step('long-poll', 1000, 30),
    { ...failedStep(1000, 'needs 2,100 open files; RLIMIT_NOFILE is 1,024') },
  ],
};

function failedStep(clients: number, error: string): FailedRun {
  const { config } = step('websocket', clients, 10);
  return { state: 'failed', id: `push/tcp/1KiB/c${clients}/r1`, scenario: 'push', transport: 'tcp', config: { ...config, transport: 'tcp' }, error };
}

describe('capacity', () => {
  it("reads each transport's knee from its ramp: a capacity only where a server-bound step broke the bound", () => {
    const text = capacitySection(ramp, 'charts') ?? '';
    assert.match(text, /\| websocket \| 10\.0 \| 20\.0 \| 600\.0 \| capacity 1,000 clients \| 1,000 \| 100 \|/);
    // over the bound with no side saturated: the transport's own delay, not a capacity
    assert.match(text, /\| long-poll \| 700\.0 \| - \| - \| over the bound at 500 clients with no side saturated \(no step held\) \| - \| - \|/);
    assert.doesNotMatch(text, /predate the recorded bound/);
    assert.match(text, /!\[p99 push latency against clients, bound 500 ms\]\(charts\/capacity-latency-by-clients\.svg\)/);
  });

  it('never calls a driver-bound limit a capacity; says where a machine limit stopped a ramp and where one ran out of steps', () => {
    const text = capacitySection(limited, 'charts') ?? '';
    assert.match(
      text,
      /\| websocket \| 10\.0 \| 20\.0 \| 600\.0 ⚠ \| \*\*driver-bound at 2,000 clients \(1,000 clients held\): the server's capacity is not known ⚠\*\* \| - \| - \|/,
    );
    assert.match(text, /\| long-poll \| 10\.0 \| 30\.0 \| - \| at least 1,000 clients \(the ramp ended\) \| - \| - \|/);
    assert.match(text, /\| tcp \| - \| \*\*FAILED\*\* \| - \| \*\*machine limit at 1,000 clients \(no step held\)\*\* \| - \| - \|/);
    assert.doesNotMatch(text, /\| capacity \d/);
  });

  it('claims no capacity from results older than the bound, and says why', () => {
    const old: Results = { ...ramp, runs: ramp.runs.map((run) => ({ ...(run as CompletedRun), bound: undefined })) };
    const text = capacitySection(old, 'charts') ?? '';
    assert.match(text, /These results predate the recorded bound/);
    assert.match(
      text,
      /\| websocket \| 10\.0 \| 20\.0 \| 600\.0 \| over the bound at 2,000 clients with no side saturated \(1,000 clients held\) \| - \| - \|/,
    );
  });

  it('gives memory per connection as the slope of peak RSS against clients, with the baseline and the fit; the average only beside it', () => {
    // 100 MiB of baseline and 8,000 B per client, one step 1 MiB off the line
    const steps = [step('websocket', 500, 10, 8000), step('websocket', 1000, 20, 8000, 100 * MIB + 8000 * 1000 + MIB), step('websocket', 2000, 30, 8000)];
    const text = capacitySection({ ...results, runs: [...steps, step('long-poll', 500, 10, 50_000)] }, 'charts') ?? '';
    const fit = fitLine(steps.map((run) => [run.clients, run.server.peakRssBytes]));
    assert.ok(fit !== undefined);
    assert.ok(Math.abs(fit.slope - 8000) < 500, String(fit.slope));
    // the average at the most clients held (2,000: the ramp ended) carries the baseline: (100 MiB + 16 MB) / 2,000 = 60,429 B
    assert.match(
      text,
      new RegExp(
        `\\| websocket \\| 3 \\| ${Math.round(fit.slope).toLocaleString('en-US')} \\| ${(fit.intercept / MIB).toFixed(1)} \\| ${fit.rSquared?.toFixed(3)} \\| 60,429 \\(115 MiB / 2,000\\) \\|`,
      ),
    );
    assert.match(text, /\| long-poll \| 1 \| one step: no slope \| - \| - \| 259,715 \(124 MiB \/ 500\) \|/);
    assert.match(text, /slope = Σ\(x − x̄\)\(y − ȳ\) \/ Σ\(x − x̄\)², intercept = ȳ − slope × x̄, R² = 1 − /);
    assert.match(text, /memory per connection \(B per client, computed: slope\)/);
    assert.match(text, /average at the most clients held, baseline included \(B per client, computed: peak RSS \/ clients\)/);
  });

  it('fits a line by least squares', () => {
    const fit = fitLine([
      [1, 3],
      [2, 5],
      [3, 7],
    ]);
    assert.deepEqual(fit, { points: 3, slope: 2, intercept: 1, rSquared: 1 });
    assert.equal(fitLine([[1, 3]]), undefined);
    assert.equal(
      fitLine([
        [1, 3],
        [1, 4],
      ]),
      undefined,
    );
  });

  it("says what each client was pushed as the runs' config has it", () => {
    const fast = (run: CompletedRun): CompletedRun => ({ ...run, config: { ...run.config, pushRatePerSecond: 4, payloadBytes: 64 } });
    const text = capacitySection({ ...ramp, runs: ramp.runs.map((run) => fast(run as CompletedRun)) }, 'charts') ?? '';
    assert.match(text, /each pushed 4 messages of 64B a second/);
    assert.doesNotMatch(text, /1 KiB/);
  });

  it('leaves the section out without a ramp', () => {
    assert.equal(capacitySection(results, 'charts'), undefined);
  });

  it('marks a knee only for a true capacity, and each driver-bound step', () => {
    type Layered = { layer: { data: { values: { transport: string; clients: number; marked: string }[] } }[] };
    const marks = (results: Results): string[] =>
      ((capacityChart(results)?.buildSpec() as Layered | undefined)?.layer[0]?.data.values ?? [])
        .filter((point) => point.marked !== 'step')
        .map((point) => `${point.transport} ${point.clients} ${point.marked}`);
    assert.deepEqual(marks(ramp), ['websocket 1000 capacity (knee)']);
    assert.deepEqual(marks(limited), ['websocket 2000 driver-bound']);
  });

  it('charts latency against clients with the bound and the knees', async () => {
    const spec = capacityChart(ramp);
    assert.ok(spec !== undefined);
    const [chart] = await renderCharts([spec]);
    assert.match(chart?.svg ?? '', /<svg/);
    assert.match(chart?.svg ?? '', /Push latency \(p99\) against clients/);
    assert.match(chart?.svg ?? '', /clients \(log scale\)/);
    const [driverBound] = await renderCharts([capacityChart(limited)!]);
    assert.match(driverBound?.svg ?? '', /driver-bound/);
  });
});
