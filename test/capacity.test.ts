/** The capacity section: the knee read from the ramp's data, memory per connection fitted over it, and its chart. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CompletedRun, Results } from '../bench/result.ts';
import { capacityChart, capacitySection } from '../scripts/report/capacity-section.ts';
import { renderCharts } from '../scripts/report/chart-render.ts';
import { fitLine } from '../scripts/report/figures.ts';

const MIB = 1024 * 1024;
const results = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const template = results.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10') as CompletedRun;

/** A step of the ramp; the server's peak RSS is a baseline of 100 MiB and `perClient` bytes per client unless given. */
function step(transport: 'websocket' | 'long-poll', clients: number, p99Ms: number, perClient = 0, rssBytes = 100 * MIB + perClient * clients): CompletedRun {
  return {
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
  runs: [step('websocket', 500, 10), step('websocket', 1000, 20), step('websocket', 2000, 600), step('long-poll', 500, 700)],
};

describe('capacity', () => {
  it("reads each transport's knee from its ramp", () => {
    const text = capacitySection(ramp, 'charts') ?? '';
    assert.match(text, /\| websocket \| 10\.0 \| 20\.0 \| 600\.0 \| 1,000 \| 100 \|/);
    assert.match(text, /\| long-poll \| 700\.0 \| - \| - \| none \(over 500 ms from the first step\) \| - \|/);
    assert.match(text, /!\[p99 push latency against clients, bound 500 ms\]\(charts\/capacity-latency-by-clients\.svg\)/);
  });

  it('gives memory per connection as the slope of peak RSS against clients, with the baseline and the fit; the average only beside it', () => {
    // 100 MiB of baseline and 8,000 B per client, one step 1 MiB off the line
    const steps = [step('websocket', 500, 10, 8000), step('websocket', 1000, 20, 8000, 100 * MIB + 8000 * 1000 + MIB), step('websocket', 2000, 30, 8000)];
    const text = capacitySection({ ...results, runs: [...steps, step('long-poll', 500, 10, 50_000)] }, 'charts') ?? '';
    const fit = fitLine(steps.map((run) => [run.clients, run.server.peakRssBytes]));
    assert.ok(fit !== undefined);
    assert.ok(Math.abs(fit.slope - 8000) < 500, String(fit.slope));
    // the average at the knee (2,000 clients) carries the baseline: (100 MiB + 16 MB) / 2,000 = 60,429 B
    assert.match(
      text,
      new RegExp(
        `\\| websocket \\| 3 \\| ${Math.round(fit.slope).toLocaleString('en-US')} \\| ${(fit.intercept / MIB).toFixed(1)} \\| ${fit.rSquared?.toFixed(3)} \\| 60,429 \\(115 MiB / 2,000\\) \\|`,
      ),
    );
    assert.match(text, /\| long-poll \| 1 \| one step: no slope \| - \| - \| 259,715 \(124 MiB \/ 500\) \|/);
    assert.match(text, /slope = Σ\(x − x̄\)\(y − ȳ\) \/ Σ\(x − x̄\)², intercept = ȳ − slope × x̄, R² = 1 − /);
    assert.match(text, /memory per connection \(B per client, computed: slope\)/);
    assert.match(text, /average at the knee, baseline included \(B per client, computed: peak RSS \/ clients\)/);
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

  it('charts latency against clients with the bound and the knees', async () => {
    const spec = capacityChart(ramp);
    assert.ok(spec !== undefined);
    const [chart] = await renderCharts([spec]);
    assert.match(chart?.svg ?? '', /<svg/);
    assert.match(chart?.svg ?? '', /Push latency \(p99\) against clients/);
    assert.match(chart?.svg ?? '', /clients \(log scale\)/);
  });
});
