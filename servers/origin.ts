/**
 * Which browser origins may talk to a server, and the CORS answers of the HTTP listeners.
 *
 * A request with no Origin header (curl, the bench's clients, any non-browser client) is
 * allowed. A browser page on a loopback host (http or https on 127.0.0.1, localhost or [::1],
 * any port) is allowed, so a local demo page works. Any other origin must be listed with
 * --allow-origin; `*` allows every origin. A refused WebSocket upgrade gets 403; a refused HTTP
 * request 403 `{"code":"origin-not-allowed"}`; both are counted.
 */
import type { ServerRequest, ServerResponse } from './http-responses.ts';

/** The value of --allow-origin that allows every origin. */
export const ANY_ORIGIN = '*';

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** What a preflight answers: the methods and request headers the routes use, cached 10 minutes. */
const CORS_PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Last-Event-ID',
  'Access-Control-Max-Age': '600',
} as const;

/** The serialized origin of `value` (`http://host:port`), or undefined when it is not one. */
export function normalizeOrigin(value: string): string | undefined {
  if (value === 'null') return value; // sandboxed frames and file: pages send the literal "null"
  try {
    const url = new URL(value);
    // an origin is scheme, host and port only: no path, query, fragment or user
    return url.origin !== 'null' && url.href === `${url.origin}/` ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export class OriginPolicy {
  private readonly any: boolean;
  private readonly listed: ReadonlySet<string>;

  /** `allowed`: origins as --allow-origin gives them (already checked by normalizeOrigin), or `*`. */
  constructor(allowed: readonly string[] = []) {
    this.any = allowed.includes(ANY_ORIGIN);
    this.listed = new Set(allowed.flatMap((origin) => normalizeOrigin(origin) ?? []));
  }

  /** Whether a request with this Origin header (undefined: none) may be served. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined || this.any) return true;
    const normalized = normalizeOrigin(origin);
    if (normalized === undefined) return false;
    return this.listed.has(normalized) || isLoopbackOrigin(normalized);
  }
}

function isLoopbackOrigin(origin: string): boolean {
  if (origin === 'null') return false;
  const url = new URL(origin);
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTNAMES.has(url.hostname);
}

/** The request's Origin header, or undefined when it has none. */
export function requestOrigin(req: ServerRequest): string | undefined {
  return req.headers.origin;
}

/**
 * Adds CORS headers for a request from an allowed origin: Access-Control-Allow-Origin names that
 * origin (never `*`, so a cache keyed on Vary: Origin stays right). No Origin: nothing to add.
 */
export function addCorsHeaders(req: ServerRequest, res: ServerResponse): void {
  const origin = requestOrigin(req);
  if (origin === undefined) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Vary', 'Origin');
}

/** Answers a CORS preflight (OPTIONS) from an allowed origin, or a plain OPTIONS, with 204. */
export function answerPreflight(req: ServerRequest, res: ServerResponse): void {
  addCorsHeaders(req, res);
  res.writeHead(204, { ...CORS_PREFLIGHT_HEADERS, Allow: CORS_PREFLIGHT_HEADERS['Access-Control-Allow-Methods'], 'Content-Length': 0 });
  res.end();
}
