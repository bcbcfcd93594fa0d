import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Results } from '../bench/result.ts';
import { renderCompare } from '../scripts/report/compare.ts';

const fixturePath = new URL('./fixtures/q3-results.json', import.meta.url).pathname;
const q3 = JSON.parse(readFileSync(fixturePath, 'utf8')) as Results;

describe('report: compare', () => {
  const after = structuredClone(q3);
  const push = after.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10');
  assert.ok(push?.state === 'completed');
  push.latencyMs = { ...push.latencyMs, p50: 0.23 };
  after.environment = { ...after.environment, node: 'v22.0.0' };
  const removed = after.runs.findIndex((run) => run.id === 'idle/tcp/c10');
  const [idle] = after.runs.splice(removed, 1);
  after.runs.push({ ...structuredClone(idle!), id: 'idle/tcp/c100' });
  const markdown = renderCompare(q3, after, { a: 'a/results.json', b: 'b/results.json' });

  it('shows the change of an altered figure, absolute and in percent', () => {
    assert.match(markdown, /\| `push\/websocket\/1KiB\/c10\/r10` \| bound \| not recorded \| not recorded \| same \| - \|\n\| {2}\| B\/msg up, total \|/);
    assert.match(markdown, /\| latency p50 \(ms\) \| 0\.115 \| 0\.230 \| \+0\.115 \| \+100\.0% \|/);
    assert.match(markdown, /\| latency p99 \(ms\) \| 0\.414 \| 0\.414 \| 0\.000 \| 0\.0% \|/);
  });

  it("sets each run's bound side by side, a driver-bound one marked", () => {
    const before = structuredClone(q3);
    const after = structuredClone(q3);
    for (const [results, side] of [
      [before, 'server'],
      [after, 'driver'],
    ] as const) {
      const run = results.runs.find((candidate) => candidate.id === 'push/sse/1KiB/c10/r10');
      assert.ok(run?.state === 'completed');
      run.bound = { side, reason: 'as the test sets it' };
    }
    const text = renderCompare(before, after, { a: 'a', b: 'b' });
    assert.match(text, /\| `push\/sse\/1KiB\/c10\/r10` \| bound \| server \| \*\*driver\*\* ⚠ \| \*\*changed\*\* \| - \|/);
  });

  it('lists runs added and removed', () => {
    assert.match(markdown, /Only in A \(removed\): \n\n- `idle\/tcp\/c10`/);
    assert.match(markdown, /Only in B \(added\): \n\n- `idle\/tcp\/c100`/);
  });

  it('shows both environments and what differs', () => {
    assert.match(markdown, /\| Node \| v20\.20\.2 \| v22\.0\.0 \| \*\*no\*\* \|/);
    assert.match(markdown, /\| CPU \| AMD EPYC \| AMD EPYC \| yes \|/);
  });
});

describe('report: command line', () => {
  // npx as a user would run it once; node with tsx's loader for the rest, which starts faster.
  const tsx = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/report.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('exits 2 on an unknown option', () => {
    const result = spawnSync('npx', ['tsx', 'scripts/report.ts', '--bogus'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /report: Unknown option '--bogus'/);
    assert.equal(result.stderr, "report: Unknown option '--bogus' (npm run report -- --help shows the usage)\n");
  });

  it('exits 2 on a missing file', () => {
    const result = tsx(['no/such/results.json']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /cannot read no\/such\/results\.json/);
  });

  it('writes a comparison of the two files it is given, in that order', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-compare-'));
    try {
      // B: q3 with one figure changed, as another run would have it
      const changed = structuredClone(q3);
      const run = changed.runs.find((candidate) => candidate.id === 'push/websocket/1KiB/c10/r10');
      assert.ok(run?.state === 'completed');
      run.latencyMs = { ...run.latencyMs, p50: 0.23 };
      const bPath = path.join(out, 'b-results.json');
      writeFileSync(bPath, JSON.stringify(changed));
      const result = tsx(['--compare', fixturePath, bPath, '--out', out]);
      assert.equal(result.status, 0, result.stderr);
      const comparePath = path.join(out, 'compare.md');
      assert.equal(result.stdout, `report: ${comparePath}\n`);
      const written = readFileSync(comparePath, 'utf8');
      assert.match(written, /^# wirecost: two runs compared\n/);
      assert.ok(written.includes(`A is \`${fixturePath}\`, B is \`${bPath}\``), 'A and B named by their files, in order');
      assert.match(written, /\| latency p50 \(ms\) \| 0\.115 \| 0\.230 \| \+0\.115 \| \+100\.0% \|/);
      assert.match(written, /\| latency p99 \(ms\) \| 0\.414 \| 0\.414 \| 0\.000 \| 0\.0% \|/);
      // every run in both: none only in A or only in B
      assert.match(written, /Only in A \(removed\): none\./);
      assert.match(written, /Only in B \(added\): none\./);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
