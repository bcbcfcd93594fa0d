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

/** What a browser's poll carries besides the payload: the request, and the head of the response. */
export function browserPollBytes(browser: BrowserFigures): number {
  return browser.pollRequestBytes + browser.pollResponseHeaderBytes;
}
