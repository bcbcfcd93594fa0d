/**
 * Latency histograms: HdrHistogram (hdr-histogram-js) in microseconds, from 1 µs to one hour
 * at 3 significant digits. Encoded as compressed base64 so results from several workers merge
 * exactly.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './result.ts';

const HIGHEST_MICROS = 3_600_000_000;

export type LatencyHistogram = hdr.Histogram;

/**
 * A histogram to record into: 32-bit counters in a flat array (about 100 KB), which records
 * several times faster than the packed kind; the encoding is the same either way.
 */
export function newHistogram(): LatencyHistogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_MICROS, numberOfSignificantValueDigits: 3, bitBucketSize: 32 });
}

/** Records a latency given in milliseconds (clamped to the histogram's range). */
export function recordMs(histogram: LatencyHistogram, latencyMs: number): void {
  const micros = Math.round(latencyMs * 1000);
  histogram.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, micros)));
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 'packed');
}

/** One histogram holding every value of the encoded ones. */
export function mergeHistograms(encoded: string[]): LatencyHistogram {
  const merged = newHistogram();
  for (const one of encoded) merged.add(decodeHistogram(one));
  return merged;
}

export function summarize(histogram: LatencyHistogram): LatencySummary {
  const ms = (micros: number): number => micros / 1000;
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count,
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  };
}

/** Percentile points of the distribution (for charts): [percentile, milliseconds]. */
export function percentileCurve(histogram: LatencyHistogram, percentiles: number[]): [number, number][] {
  return percentiles.map((percentile) => [percentile, histogram.getValueAtPercentile(percentile) / 1000]);
}
