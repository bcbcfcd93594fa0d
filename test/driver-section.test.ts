/** The driver benchmark's section: every load round by round, the two computed ratios against their goals, and how to read them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DriverBenchmark } from '../bench/driver-bench/result.ts';
import type { Results } from '../bench/result.ts';
import { DRIVER_SECTION_TITLE, driverSection } from '../scripts/report/driver-section.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
/** What `--profile driver` recorded on the project's 2-core machine (3 rounds of 3 s). */
const benchmark = JSON.parse(readFileSync(new URL('./fixtures/driver-benchmark.json', import.meta.url), 'utf8')) as DriverBenchmark;

function withBenchmark(change: (copy: DriverBenchmark) => void = () => {}): Results {
  const copy = structuredClone(benchmark);
  change(copy);
  return { ...q3, driverBenchmark: copy };
}

/** The part of the section for one transport. */
function part(text: string, transport: string): string {
  const start = text.indexOf(`### ${transport}:`);
  assert.ok(start >= 0, `no part for ${transport}`);
  const end = text.indexOf('\n### ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

function load(copy: DriverBenchmark, transport: string, name: string) {
  const found = copy.transports.find((entry) => entry.transport === transport)?.loads.find((entry) => entry.name === name);
  assert.ok(found !== undefined, `no load ${name} for ${transport}`);
  return found;
}

describe('report: the driver benchmark', () => {
  const text = driverSection(withBenchmark());

  it('tables every load: best round, every round, and both sides’ CPU and event loops', () => {
    assert.match(
      part(text, 'websocket'),
      /\| wirecost clients \| the bench's clients \| 78,561 \| 67,264 \/ 78,561 \/ 28,129 \| 0\.92 \/ 0\.95 \/ 0\.36 \| 92% \/ 95% \/ 60% \| 0\.98 \/ 0\.98 \/ 0\.38 \| 99% \/ 99% \/ 69% \| \*\*driver\*\* ⚠ \|/,
    );
    // wrk runs outside the process: no event loop of its own measured
    assert.match(
      part(text, 'short-poll'),
      /\| wrk \| reference: a bare load \| 35,561 \| 28,311 \/ 25,889 \/ 35,561 \| [^|]+ \| [^|]+ \| 0\.39 \/ 0\.27 \/ 0\.47 \| - \/ - \/ - \| server \|/,
    );
  });

  it("computes the bench's clients over the better reference and the tapping cost, each against its goal", () => {
    // 36,274 / 45,846 (autocannon, the better of autocannon and wrk) = 0.79; 1 − 36,274 / 36,586 = 0.9%
    const shortPoll = part(text, 'short-poll');
    assert.match(
      shortPoll,
      /0\.79x \(computed: best round of wirecost clients 36,274 \/ best round of the better reference, autocannon 45,846\); goal: 0\.90x or more: \*\*not met\*\*/,
    );
    assert.match(
      shortPoll,
      /0\.9% \(computed: 1 − best round of wirecost clients 36,274 \/ best round of wirecost clients, untapped 36,586\); goal: 10% or less: met/,
    );
    assert.match(
      part(text, 'websocket'),
      /1\.18x \(computed: best round of wirecost clients 78,561 \/ best round of the better reference, ws loop 66,823\); [^\n]*: met/,
    );
  });

  it('reads the goals from the results', () => {
    const lenient = driverSection(
      withBenchmark((copy) => {
        copy.goals = { benchOverReference: 0.75, tappingCostAtMost: 0.005 };
      }),
    );
    assert.match(part(lenient, 'short-poll'), /0\.79x [^\n]*goal: 0\.75x or more: met/);
    assert.match(part(lenient, 'short-poll'), /0\.9% [^\n]*goal: 1% or less: \*\*not met\*\*/);
  });

  it('shows why a load was skipped, and computes from the loads that ran', () => {
    const skipped = driverSection(
      withBenchmark((copy) => {
        const wrk = load(copy, 'short-poll', 'wrk');
        wrk.rounds = [];
        wrk.skipped = "wrk is not installed (Debian's package wrk)";
      }),
    );
    assert.match(part(skipped, 'short-poll'), /\| wrk \| reference: a bare load \| not run: wrk is not installed \(Debian's package wrk\) \| - \|/);
    assert.match(part(skipped, 'short-poll'), /the better reference, autocannon 45,846/);
    const none = driverSection(
      withBenchmark((copy) => {
        for (const reference of copy.transports.find((entry) => entry.transport === 'tcp')!.loads.filter((entry) => entry.kind === 'reference')) {
          reference.rounds = [];
          reference.skipped = 'not run here';
        }
      }),
    );
    assert.match(part(none, 'tcp'), /against the better reference\*\*: not measured in this run: no reference ran \(goal: 0\.90x or more\)/);
  });

  it('says when the better reference was itself driver-bound: nothing saturated the server', () => {
    const bound = driverSection(
      withBenchmark((copy) => {
        const best = load(copy, 'tcp', 'net loop').rounds[1]!; // its best round: 64,198
        best.driverEventLoopUtilization = 0.97;
        best.serverEventLoopUtilization = 0.7;
      }),
    );
    assert.match(
      part(bound, 'tcp'),
      /\*\*The better reference, net loop, was itself driver-bound in its best round \(its event loop 97% busy, the server's event loop 70% busy\): nothing saturated this server/,
    );
    assert.match(part(text, 'short-poll'), /The better reference, autocannon, saturated the server in its best round \(the server's event loop 100% busy\)/);
    assert.match(part(text, 'websocket'), /\*\*The bench's own clients were driver-bound in their best round \(their event loop 99% busy, the server's 95%\)/);
  });

  it('says how to read it', () => {
    assert.match(text, /A reference that is itself driver-bound while the server is not saturated means nothing saturated the server/);
  });

  it('follows the method, after the results and before the list of runs; says it was not recorded in older results', () => {
    const markdown = renderMarkdown(withBenchmark());
    const at = markdown.indexOf(DRIVER_SECTION_TITLE);
    assert.ok(markdown.indexOf('## Results by scenario') < markdown.indexOf('## Method') && markdown.indexOf('## Method') < at);
    assert.ok(at < markdown.indexOf('\n## Runs\n'));
    assert.match(renderMarkdown(q3), /## Is the driver stronger than the server\?\n\nNot recorded in these results: they have no driver benchmark/);
  });
});
