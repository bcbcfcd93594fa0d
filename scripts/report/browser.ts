/**
 * Figures from a real browser, which results.json may carry as `browser` (not yet part of the
 * Results type, so typed and checked here): what one poll and one WebSocket frame cost when a
 * browser, with all its headers, makes them.
 */
import type { Results } from '../../bench/result.ts';

export interface BrowserFigures {
  name: string;
  version: string;
  /** One poll request, head and all. */
  pollRequestBytes: number;
  /** The head of the response to one poll. */
  pollResponseHeaderBytes: number;
  /** Framing of one WebSocket frame from the server. */
  websocketFrameBytes: number;
}

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
  const candidate = (results as Results & { browser?: unknown }).browser;
  return isBrowserFigures(candidate) ? candidate : undefined;
}

/** What a browser's poll carries besides the payload: the request, and the head of the response. */
export function browserPollBytes(browser: BrowserFigures): number {
  return browser.pollRequestBytes + browser.pollResponseHeaderBytes;
}
