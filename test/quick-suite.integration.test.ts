/** npm run bench -- --quick end to end: it finishes, and its report is rendered from its own results.json alone. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Results } from '../bench/result.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

describe('npm run bench -- --quick', () => {
  it('runs every transport and scenario and writes a report made from its results', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-quick-'));
    const run = spawnSync('npm', ['run', 'bench', '--', '--quick', '--out', out], { encoding: 'utf8', timeout: 180_000 });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const suiteRuns = results.runs.filter((result) => result.config.target === undefined);
    assert.equal(suiteRuns.length, 20);
    assert.ok(
      suiteRuns.every((result) => result.state === 'completed'),
      JSON.stringify(suiteRuns.filter((result) => result.state === 'failed')),
    );
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.equal(report, renderMarkdown(results), 'the report is exactly what its results.json renders to');
    for (const result of suiteRuns) assert.ok(report.includes(result.id), result.id);
    const charts = [...report.matchAll(/\]\((charts\/[^)]+\.svg)\)/g)].map((match) => match[1]!);
    assert.ok(charts.length > 0);
    for (const chart of charts) assert.ok(existsSync(path.join(out, chart)), chart);
  });
});
