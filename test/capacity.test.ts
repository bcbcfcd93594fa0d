/** The capacity section: the knee read from the ramp's data, and its chart. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CompletedRun, Results } from '../bench/result.ts';
import { capacityChart, capacitySection } from '../scripts/report/capacity-section.ts';
import { renderCharts } from '../scripts/report/chart-render.ts';

const results = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const template = results.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10') as CompletedRun;

function step(transport: 'websocket' | 'long-poll', clients: number, p99Ms: number): CompletedRun {
  return {
    ...template,
    id: `push/${transport}/1KiB/c${clients}/r1`,
    transport,
    clients,
    config: { ...template.config, transport, clients, group: 'capacity', latencyBoundMs: 500 },
    latencyMs: { ...template.latencyMs, p99: p99Ms },
    server: { ...template.server, peakRssBytes: 100 * 1024 * 1024 },
  };
}

const ramp: Results = {
  ...results,
  runs: [step('websocket', 500, 10), step('websocket', 1000, 20), step('websocket', 2000, 600), step('long-poll', 500, 700)],
};

describe('capacity', () => {
  it("reads each transport's knee from its ramp", () => {
    const text = capacitySection(ramp, 'charts') ?? '';
    assert.match(text, /\| websocket \| 10\.0 \| 20\.0 \| 600\.0 \| 1,000 \| 100 MiB; 104,858 B per client \|/);
    assert.match(text, /\| long-poll \| 700\.0 \| - \| - \| none \(over 500 ms from the first step\) \| - \|/);
    assert.match(text, /!\[p99 push latency against clients, bound 500 ms\]\(charts\/capacity-latency-by-clients\.svg\)/);
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
