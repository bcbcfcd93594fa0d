import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { caseKey } from '../bench/micro/micro-case.ts';
import { MICRO_SCHEMA_VERSION, type MicroCaseResult, type MicroResults, type MicroResultsV1, type MicroTransport } from '../bench/micro/result.ts';
import type { Results } from '../bench/result.ts';
import { renderMicroSection } from '../scripts/report/micro-section.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

const results = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;

function completed(transport: MicroTransport, operation: string, variant: string, nsPerOp: number, marginPercent = 1.25, sizeBytes = 1024): MicroCaseResult {
  return {
    ...caseKey(transport, operation, sizeBytes, variant),
    state: 'completed',
    opsPerSecond: 1e9 / nsPerOp,
    nsPerOp,
    meanNsPerOp: nsPerOp * 1.1,
    marginPercent,
    unstable: marginPercent >= 5,
    samples: 100,
    opsPerSample: 10,
    roundNsPerOp: [nsPerOp, nsPerOp, nsPerOp],
    timedMs: 300,
  };
}

const micro: MicroResults = {
  schemaVersion: MICRO_SCHEMA_VERSION,
  timeMsPerCase: 1000,
  marginTargetPercent: 5,
  orderSeed: 1234,
  sizes: [1024],
  cases: [
    completed('http', 'request', '', 10_000),
    completed('http', 'response', '', 8_000),
    completed('sse', 'encode', '', 500),
    completed('websocket', 'decode', 'masked, bufferutil', 2_000),
    completed('websocket', 'decode', 'masked, js', 4_000),
    completed('websocket', 'encode', 'unmasked', 1_000),
    { ...caseKey('websocket', 'encode', 1024, 'unmasked, deflate'), state: 'failed', error: 'zlib went away' },
  ],
};

/** The cells of the markdown table row that starts with `first` (a run's label may carry the driver-bound mark after it). */
function row(markdown: string, first: string): string[] {
  const line = markdown.split('\n').find((text) => text.startsWith(`| ${first} |`) || text.startsWith(`| ${first} ⚠`));
  assert.ok(line !== undefined, `no row for ${first}`);
  return line
    .slice(2, -2)
    .split(' | ')
    .map((cell) => cell.trim());
}

describe('the micro-benchmark section', () => {
  const markdown = renderMicroSection(micro, results.runs);

  it('tables every case, a failed one with its error', () => {
    assert.deepEqual(row(markdown, 'websocket | decode | 1KiB | masked, bufferutil'), [
      'websocket',
      'decode',
      '1KiB',
      'masked, bufferutil',
      '500,000',
      '2,000',
      '4.0×',
      '±1.3%',
      '1,000',
    ]);
    assert.deepEqual(row(markdown, 'websocket | encode | 1KiB | unmasked, deflate').slice(4, 6), ['**FAILED**', 'zlib went away']);
  });

  it("sets the estimate beside each echo run's server CPU per message, with the ratio", () => {
    // websocket: 1.235661 s / 65705 messages = 18.806 µs; decode masked (bufferutil) 2 µs + encode unmasked 1 µs = 3 µs; 18.806 / 3 = 6.27.
    // the fixture's websocket, long-poll and tcp echo runs had a saturated driver: marked
    assert.deepEqual(row(markdown, '`echo/websocket/1KiB/c10` ⚠').slice(1, 4), ['3.00 (masked frame decoded + unmasked frame encoded)', '18.8 ⚠', '6.3×']);
    // sse: 1.215594 / 9274 = 131.08 µs; POST 10 µs + event 0.5 µs = 10.5 µs; 12.48.
    assert.deepEqual(row(markdown, '`echo/sse/1KiB/c10`').slice(1, 4), ['10.5 (POST parsed and answered + event encoded)', '131', '12.5×']);
    // short-poll: 0.114463 / 157 = 729.06 µs; POST 10 µs + poll answer 8 µs = 18 µs; 40.50.
    assert.deepEqual(row(markdown, '`echo/short-poll/1KiB/c10`').slice(1, 4), [
      '18.0 (POST parsed and answered + poll answered with the reply)',
      '729',
      '40.5×',
    ]);
    // long-poll: 1.054233 / 4395 = 239.87 µs; 18 µs; 13.33.
    assert.deepEqual(row(markdown, '`echo/long-poll/1KiB/c10` ⚠').slice(2, 4), ['240 ⚠', '13.3×']);
    assert.deepEqual(row(markdown, '`echo/tcp/1KiB/c10` ⚠').slice(1, 5), ['not measured', '15.5 ⚠', '-', 'none: raw TCP framing is a length prefix']);
  });

  it('says how far they agree', () => {
    assert.match(
      markdown,
      /a server spent 6\.3× to 40\.5× the CPU time the micro-benchmarks account for \(short-poll 40\.5×; long-poll 13\.3×; sse 12\.5×; websocket 6\.3×\)/,
    );
    assert.match(markdown, /the protocol code measured here is 2% to 16% of what a message cost the server/);
    assert.match(markdown, /system calls/);
  });

  it('says so when a case of an estimate failed', () => {
    const deflateRun = results.runs.find((run) => run.id === 'echo/websocket/1KiB/c10');
    assert.ok(deflateRun !== undefined);
    const withDeflate = { ...deflateRun, id: 'echo/websocket/1KiB/c10/deflate', config: { ...deflateRun.config, perMessageDeflate: true } };
    assert.equal(row(renderMicroSection(micro, [withDeflate]), '`echo/websocket/1KiB/c10/deflate` ⚠')[1], 'a case failed');
  });

  it("gives ws's masking thresholds as the run measured them, with the ws version, or says they were not recorded", () => {
    assert.match(
      markdown,
      /The payload lengths under which ws masks and unmasks in JavaScript even with a native masker loaded were not recorded in this run\./,
    );
    assert.doesNotMatch(markdown, /48|under 32/);
    const measured = renderMicroSection(
      {
        ...micro,
        sizes: [16, 1024],
        wsMasking: { wsVersion: '9.1.0', masker: 'bufferutil', nativeMaskFromBytes: 40, nativeUnmaskFromBytes: 20, probedUpToBytes: 1024 },
      },
      results.runs,
    );
    assert.match(
      measured,
      /ws 9\.1\.0 with bufferutil masks payloads under 40 bytes and unmasks payloads under 20 bytes in JavaScript \(measured: [^)]*\), so masked encodes and decodes at 16B without permessage-deflate run the same code whatever the masker\./,
    );
    const jsOnly = renderMicroSection({ ...micro, wsMasking: { wsVersion: '9.1.0', masker: 'js', probedUpToBytes: 1024 } }, results.runs);
    assert.match(jsOnly, /ws 9\.1\.0 had no native masker to load in this run: every masked case runs its JavaScript loop\./);
  });

  it('says how the cases were timed: rounds, a shuffled order and its seed, medians, the margin target', () => {
    assert.match(markdown, /in an order shuffled anew each round \(seed 1234\)/);
    assert.match(markdown, /The first round only warms every case up; then each case is timed in 3 to 5 rounds, for at most 1,000 ms in all/);
    assert.match(markdown, /ns\/op is the median time of an operation/);
    assert.match(markdown, /All 6 completed cases are stable \(margin under 5%\)\./);
  });

  it('shows an unstable case as unstable and leaves it out of the ratios and the estimates, and says so', () => {
    const shaky: MicroResults = {
      ...micro,
      cases: [
        ...micro.cases.filter((result) => result.id !== 'http/request/1KiB'),
        completed('http', 'request', '', 80_000, 56.6),
        completed('handshake', 'accept', '', 100, 12, 24),
      ],
    };
    const text = renderMicroSection(shaky, results.runs);
    assert.deepEqual(row(text, 'http | request | 1KiB | -').slice(4, 8), ['12,500', '80,000', '**unstable**', '±56.6%']);
    assert.deepEqual(row(text, 'handshake | accept | 24B | -').slice(6, 8), ['**unstable**', '±12.0%']);
    // the cheapest stable case sets the ratios, not the cheaper unstable one
    assert.equal(row(text, 'sse | encode | 1KiB | -')[6], '1.0×');
    assert.equal(row(text, 'websocket | decode | 1KiB | masked, bufferutil')[6], '4.0×');
    assert.match(
      text,
      /2 of 7 completed cases are unstable \(margin 5% or more\): `http\/request\/1KiB`, `handshake\/accept\/24B`\. Their figures are shown, and left out/,
    );
    assert.deepEqual(row(text, '`echo/sse/1KiB/c10`').slice(1, 4), ['unstable: `http/request/1KiB`', '131', '-']);
    assert.deepEqual(row(text, '`echo/short-poll/1KiB/c10`').slice(1, 4), ['unstable: `http/request/1KiB`', '729', '-']);
    assert.equal(row(text, '`echo/websocket/1KiB/c10`')[3], '6.3×');
    assert.match(text, /a server spent 6\.3× the CPU time the micro-benchmarks account for \(websocket 6\.3×\)/);
  });

  it('reads results of the first format: means, and a margin of 5% or more marked unstable', () => {
    const v1: MicroResultsV1 = {
      schemaVersion: 1,
      timeMsPerCase: 100,
      sizes: [16],
      cases: [
        {
          ...caseKey('http', 'request', 16),
          state: 'completed',
          opsPerSecond: 12_097,
          nsPerOp: 82_661,
          relativeToCheapest: 660,
          samples: 1210,
          opsPerSample: 1,
          rmePercent: 56.6,
        },
        {
          ...caseKey('sse', 'encode', 16),
          state: 'completed',
          opsPerSecond: 8e6,
          nsPerOp: 125,
          relativeToCheapest: 1,
          samples: 2000,
          opsPerSample: 400,
          rmePercent: 2.7,
        },
        {
          ...caseKey('sse', 'parse', 16),
          state: 'completed',
          opsPerSecond: 2e6,
          nsPerOp: 500,
          relativeToCheapest: 4,
          samples: 2000,
          opsPerSample: 100,
          rmePercent: 4.9,
        },
      ],
    };
    const text = renderMicroSection(v1, []);
    assert.match(text, /for 100 ms per case after a short warm-up, in one round, the cases in table order/);
    assert.match(text, /ns\/op is the mean, and ± tinybench's margin of error of the mean \(95%\)/);
    assert.deepEqual(row(text, 'http | request | 16B | -').slice(5, 8), ['82,661', '**unstable**', '±56.6%']);
    assert.deepEqual(row(text, 'sse | parse | 16B | -').slice(6, 8), ['4.0×', '±4.9%']);
  });

  it('is in the report when the results carry micro-benchmarks, and only then', () => {
    assert.doesNotMatch(renderMarkdown(results), /Per-message CPU cost/);
    assert.match(renderMarkdown({ ...results, micro } as Results), /## Per-message CPU cost: micro-benchmarks/);
  });
});
