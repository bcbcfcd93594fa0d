/**
 * Figures from a real browser, which results.json may carry as `browser` (checked here, since a
 * results file is read from disk): what one poll and one WebSocket frame cost when a browser,
 * with all its headers, makes them.
 */
import type { BrowserFigures, Results } from '../../bench/result.ts';

export type { BrowserFigures };

function isBrowserFigures(value: unknown): value is BrowserFigures {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const isCount = (key: string): boolean => typeof record[key] === 'number' && Number.isFinite(record[key]) && (record[key] as number) >= 0;
  return (
    typeof record.name === 'string' &&
    typeof record.version === 'string' &&
    isCount('pollRequestBytes') &&
    isCount('pollResponseHeaderBytes') &&
    isCount('websocketFrameBytes')
  );
}

/** The browser figures of the results, when present and well-formed. */
export function browserFigures(results: Results): BrowserFigures | undefined {
  const candidate: unknown = results.browser;
  return isBrowserFigures(candidate) ? candidate : undefined;
}

/** A real browser's polls over HTTPS and HTTP/2: each poll's request and response header blocks (bytes, after HPACK), in order. */
export type BrowserHttp2Figures = NonNullable<BrowserFigures['http2']>;

function isCountList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number' && Number.isFinite(item) && item >= 0);
}

/** The browser's HTTP/2 polls, when measured and well-formed (a request and a response per poll). */
export function browserHttp2Figures(results: Results): BrowserHttp2Figures | undefined {
  const candidate: unknown = browserFigures(results)?.http2;
  if (typeof candidate !== 'object' || candidate === null) return undefined;
  const { requests, responses, tlsVersion } = candidate as Record<string, unknown>;
  if (!isCountList(requests) || !isCountList(responses) || requests.length === 0 || requests.length !== responses.length) return undefined;
  return typeof tlsVersion === 'string' ? { requests, responses, tlsVersion } : undefined;
}

/** What a browser's poll carries besides the payload: the request, and the head of the response. */
export function browserPollBytes(browser: BrowserFigures): number {
  return browser.pollRequestBytes + browser.pollResponseHeaderBytes;
}

/** What became of the real-browser measurement, as the results record it. */
export type BrowserState =
  | { state: 'measured'; figures: BrowserFigures }
  | { state: 'skipped'; reason: string }
  | { state: 'failed'; error: string }
  /** The results carry no browser field (a narrowed suite), or one the report cannot read. */
  | { state: 'absent' };

export function browserState(results: Results): BrowserState {
  const figures = browserFigures(results);
  if (figures !== undefined) return { state: 'measured', figures };
  const candidate: unknown = results.browser;
  if (typeof candidate === 'object' && candidate !== null) {
    const record = candidate as Record<string, unknown>;
    if (typeof record.failed === 'string') return { state: 'failed', error: record.failed };
    if (typeof record.skipped === 'string') return { state: 'skipped', reason: record.skipped };
  }
  return { state: 'absent' };
}
