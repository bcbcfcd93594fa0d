/** npm run bench -- --quick end to end: it finishes, and its report is rendered from its own results.json alone. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Results } from '../bench/result.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

describe('npm run bench -- --quick', () => {
  // spawnSync blocks the test's own timer: the child's timeout bounds it, this one is the backstop
  it('runs every transport and scenario and writes a report made from its results', { timeout: 240_000 }, (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-quick-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const run = spawnSync('npm', ['run', 'bench', '--', '--quick', '--out', out], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
    const suiteRuns = results.runs.filter((result) => result.config.target === undefined);
    assert.equal(suiteRuns.length, 20);
    assert.ok(
      suiteRuns.every((result) => result.state === 'completed'),
      JSON.stringify(suiteRuns.filter((result) => result.state === 'failed')),
    );
    // every run names its bound, and the driver benchmark ran each load against the same servers
    for (const result of suiteRuns) if (result.state === 'completed') assert.ok(result.bound !== undefined, `${result.id} names its bound`);
    const driver = results.driverBenchmark;
    assert.ok(driver !== undefined, 'the driver benchmark ran');
    assert.deepEqual(
      driver.transports.map((entry) => entry.transport),
      ['short-poll', 'websocket', 'tcp'],
    );
    for (const entry of driver.transports) {
      assert.deepEqual(
        entry.loads.map((load) => load.kind).filter((kind) => kind !== 'reference'),
        ['bench', 'untapped'],
      );
      assert.ok(
        entry.loads.some((load) => load.kind === 'reference' && load.skipped === undefined),
        `${entry.transport} has a reference that ran`,
      );
      for (const load of entry.loads.filter((one) => one.skipped === undefined)) {
        assert.equal(load.rounds.length, driver.rounds, `${entry.transport}/${load.name}`);
        assert.ok(
          load.rounds.every((round) => round.ratePerSecond > 0 && round.serverCpuCores > 0),
          `${entry.transport}/${load.name} loaded the server`,
        );
      }
    }
    const report = readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.equal(report, renderMarkdown(results), 'the report is exactly what its results.json renders to');
    for (const result of suiteRuns) assert.ok(report.includes(result.id), result.id);
    const charts = [...report.matchAll(/\]\((charts\/[^)]+\.svg)\)/g)].map((match) => match[1]!);
    assert.ok(charts.length > 0);
    for (const chart of charts) assert.ok(existsSync(path.join(out, chart)), chart);
  });
});
