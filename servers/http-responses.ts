/** Reading request bodies within a limit, and writing the HTTP transports' responses, over HTTP/1.1 and HTTP/2 alike. */
import http from 'node:http';
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { ContractError, type ErrorCause, type ServerLimits } from './contract.ts';
import type { ServerMetrics } from './metrics.ts';

export const STATUS_BY_CODE: Record<ContractError['code'], number> = {
  'bad-request': 400,
  'not-found': 404,
  'unknown-client': 404,
  'method-not-allowed': 405,
  'too-large': 413,
  'mailbox-full': 429,
  'too-many-pushes': 429,
  'origin-not-allowed': 403,
  'too-many-clients': 503,
};

/** A request as the handlers see it: HTTP/1.1's, or HTTP/2's through Node's compatibility API (the same fields and events). */
export type ServerRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type ServerResponse = http.ServerResponse | http2.Http2ServerResponse;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The client went away in the middle of its request: nothing to answer, counted as a socket error. */
export class ClientGoneError extends Error {}

/** The request's URL; a target that is no URL path (`//[`, say) is ContractError('bad-request'). */
export function requestUrl(req: ServerRequest): URL {
  if (!URL.canParse(req.url ?? '/', BASE_URL)) throw new ContractError('bad-request', 'the request target is not a valid path');
  return new URL(req.url ?? '/', BASE_URL);
}

/** The request's path, or undefined when its target is no URL path. */
export function requestPath(req: ServerRequest): string | undefined {
  return URL.canParse(req.url ?? '/', BASE_URL) ? new URL(req.url ?? '/', BASE_URL).pathname : undefined;
}

/** Request targets are paths: any base will do to parse them. */
const BASE_URL = 'http://localhost';

/**
 * Reads a whole request body as UTF-8 text of at most `maxBytes` bytes. Over the limit:
 * ContractError('too-large'), declared (Content-Length) or counted (chunked, or HTTP/2 DATA
 * frames); the rest of the body is discarded, not kept, and the answer ends the exchange (see
 * sendError). Bytes that are not UTF-8: ContractError('bad-request'). The request is never
 * destroyed here, so the client gets its 413.
 */
export function readBody(req: ServerRequest, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    return Promise.reject(new ContractError('too-large', `the body is ${declared} bytes; at most ${maxBytes} are allowed`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.resume(); // what is left of the body is read and dropped, never buffered
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > maxBytes) {
        stop();
        reject(new ContractError('too-large', `the body is over ${maxBytes} bytes, the most allowed`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      try {
        resolve(utf8.decode(Buffer.concat(chunks, length)));
      } catch {
        reject(new ContractError('bad-request', 'the body is not valid UTF-8 text'));
      }
    };
    const onClose = (): void => {
      stop();
      reject(new ClientGoneError('the client closed the connection before its body ended'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}

/** Node's parse errors (llhttp) and its headers timeout, as status, cause and reason. */
function clientErrorAnswer(code: string | undefined, limits: ServerLimits): { status: number; cause: ErrorCause; reason: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, cause: 'too-large', reason: `Request Header Fields Too Large (at most ${limits.maxHeaderBytes} bytes)` };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, cause: 'timeout', reason: `Request Timeout (headers must arrive within ${limits.headersTimeoutMs} ms)` };
  return { status: 400, cause: 'bad-request', reason: 'Bad Request' };
}

/**
 * The 'clientError' handler of every HTTP listener: malformed HTTP gets 400, headers over
 * limits.maxHeaderBytes 431, headers slower than limits.headersTimeoutMs 408; each is counted
 * and the connection closed (as Node's own handler does: the parser cannot go on after an
 * error). A connection reset by the client is only counted.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex, metrics: ServerMetrics, limits: ServerLimits): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    metrics.error('socket');
    socket.destroy();
    return;
  }
  const { status, cause, reason } = clientErrorAnswer(error.code, limits);
  metrics.error(cause);
  const body = JSON.stringify({ error: reason, code: cause });
  const statusText = reason.replace(/ \(.*/, '');
  writeAndClose(
    socket,
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Writes a whole raw HTTP response, then closes the socket once it is flushed (whatever the client still sends). */
export function writeAndClose(socket: Duplex, response: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(response);
}

/** Node's own requestTimeout: a whole request (headers and body) must arrive within it. */
const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
/** Node checks the headers and request timeouts on a tick; its 30 s default would make a small timeout late. */
const MAX_CHECKING_INTERVAL_MS = 1_000;
const MIN_CHECKING_INTERVAL_MS = 25;

/** Node's options for an HTTP listener from the limits; `requestTimeout` keeps Node's 300 s, never below the headers timeout. */
export function httpServerOptions(limits: ServerLimits): http.ServerOptions {
  return {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    // covers receiving a whole request (headers and body), not the answer: a held long poll is not cut
    requestTimeout: Math.max(DEFAULT_REQUEST_TIMEOUT_MS, limits.headersTimeoutMs),
    // Node checks both timeouts on this tick (30 s by default): often enough that a small timeout holds
    connectionsCheckingInterval: Math.min(MAX_CHECKING_INTERVAL_MS, Math.max(MIN_CHECKING_INTERVAL_MS, limits.headersTimeoutMs / 4)),
  };
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // a 413 ends the exchange, whatever of the body is still coming: HTTP/1.1 closes the connection
  const http1 = res instanceof http.ServerResponse;
  if (status === 413 && http1) res.setHeader('Connection', 'close');
  sendJson(res, status, { error: message, code });
  // HTTP/2 has no Connection header: the stream is reset with NO_ERROR once the answer is out
  // (Node sends it after the last DATA frame), as RFC 9113 8.1 lets a server that answered in full
  if (status === 413 && !http1) res.stream.close(http2.constants.NGHTTP2_NO_ERROR);
}
