import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHistogram, mergeHistograms, newHistogram, recordMs, summarize } from '../bench/latency.ts';

describe('latency histograms', () => {
  it('keep microsecond resolution and merge exactly across workers', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 500; i++) recordMs(a, i / 1000); // 1..500 µs
    for (let i = 501; i <= 1000; i++) recordMs(b, i / 1000);
    const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
    const summary = summarize(merged);
    assert.equal(summary.count, 1000);
    assert.ok(Math.abs(summary.p50 - 0.5) <= 0.001, `p50 ${summary.p50}`);
    assert.ok(Math.abs(summary.p99 - 0.99) <= 0.001, `p99 ${summary.p99}`);
    assert.ok(Math.abs(summary.max - 1) <= 0.001, `max ${summary.max}`);
  });

  it('summarizes an empty histogram as zeros', () => {
    assert.deepEqual(summarize(newHistogram()), { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
    // and a merge of nothing but empty histograms, as from workers whose clients received nothing
    assert.deepEqual(summarize(mergeHistograms([encodeHistogram(newHistogram()), encodeHistogram(newHistogram())])), {
      count: 0,
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      max: 0,
      mean: 0,
    });
  });
});
