/**
 * HTTP requests from the tests to a server in any of its forms, on node's own modules: HTTP/1.1
 * (http, or https trusting a CA) with keep-alive, or HTTP/2 (one http2 session, over TLS or h2c).
 * The driver's clients speak plaintext HTTP/1.1 only; these reach every server the tests start.
 */
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import type { HttpVersion } from '../servers/contract.ts';

export interface HttpTarget {
  host: string;
  port: number;
  /** The CA (PEM) to trust: TLS. Undefined: plaintext. */
  ca?: string;
  http: HttpVersion;
}

/**
 * How long a request may wait for its response head (and, for request(), its whole body): past
 * it the request fails, so a server that never answers fails a test instead of holding it.
 */
export const ANSWER_TIMEOUT_MS = 10_000;

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

/** A response whose body is read as it comes (an SSE stream). */
export interface OpenResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Ends the exchange from the client's side. */
  close(): void;
}

export interface HttpChannel {
  request(request: HttpRequest): Promise<HttpAnswer>;
  /** Sends a request and resolves once its response head is in; every chunk of the body goes to `onChunk`. */
  open(request: HttpRequest, onChunk: (chunk: Buffer) => void): Promise<OpenResponse>;
  /** Ends every exchange and connection at once. */
  close(): void;
}

/** Reads a whole body as UTF-8 text. */
function readText(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.once('error', reject);
  });
}

class Http1Channel implements HttpChannel {
  private readonly agent: http.Agent;

  constructor(private readonly target: HttpTarget) {
    this.agent = target.ca === undefined ? new http.Agent({ keepAlive: true }) : new https.Agent({ keepAlive: true, ca: target.ca });
  }

  private send(request: HttpRequest): Promise<http.IncomingMessage> {
    const options = { host: this.target.host, port: this.target.port, method: request.method, path: request.path, headers: request.headers, agent: this.agent };
    return new Promise((resolve, reject) => {
      const req = this.target.ca === undefined ? http.request(options, resolve) : https.request(options, resolve);
      req.setTimeout(ANSWER_TIMEOUT_MS, () => req.destroy(new Error(`no answer to ${request.method} ${request.path} within ${ANSWER_TIMEOUT_MS} ms`)));
      req.once('error', reject);
      req.end(request.body);
    });
  }

  async request(request: HttpRequest): Promise<HttpAnswer> {
    const res = await this.send(request);
    return { status: res.statusCode ?? 0, headers: res.headers, body: await readText(res) };
  }

  async open(request: HttpRequest, onChunk: (chunk: Buffer) => void): Promise<OpenResponse> {
    const res = await this.send(request);
    res.socket.setTimeout(0); // a stream may be quiet for long: the client closes it
    res.on('data', onChunk);
    res.on('error', () => {}); // closed by close() or by the server: the caller sees the stream end
    return { status: res.statusCode ?? 0, headers: res.headers, close: () => res.destroy() };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** HTTP/2's response head as HTTP/1.1's: the pseudo-headers left out. */
function plainHeaders(headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader): http.IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));
}

class Http2Channel implements HttpChannel {
  private readonly session: http2.ClientHttp2Session;

  constructor(target: HttpTarget) {
    const scheme = target.ca === undefined ? 'http' : 'https';
    this.session = http2.connect(`${scheme}://${target.host}:${target.port}`, target.ca === undefined ? {} : { ca: target.ca });
    this.session.on('error', () => {}); // each stream reports its own failure
  }

  private send(request: HttpRequest): Promise<{ stream: http2.ClientHttp2Stream; head: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader }> {
    return new Promise((resolve, reject) => {
      // as a browser's fetch does: a body's length is declared (HTTP/2 ends a body with its stream, not a chunk)
      const length = request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) };
      const stream = this.session.request({ ':method': request.method, ':path': request.path, ...length, ...request.headers });
      stream.setTimeout(ANSWER_TIMEOUT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      stream.once('response', (head) => resolve({ stream, head }));
      stream.once('error', reject);
      stream.once('close', () => reject(new Error(`${request.method} ${request.path}: the stream closed before its response (code ${stream.rstCode})`)));
      stream.end(request.body);
    });
  }

  async request(request: HttpRequest): Promise<HttpAnswer> {
    const { stream, head } = await this.send(request);
    const ended = new Promise<void>((resolve, reject) => {
      stream.once('end', resolve);
      stream.once('close', () => reject(new Error(`${request.method} ${request.path}: the stream closed before its body ended (code ${stream.rstCode})`)));
    });
    const [body] = await Promise.all([readText(stream), ended]);
    return { status: Number(head[':status']), headers: plainHeaders(head), body };
  }

  async open(request: HttpRequest, onChunk: (chunk: Buffer) => void): Promise<OpenResponse> {
    const { stream, head } = await this.send(request);
    stream.setTimeout(0); // a stream may be quiet for long: the client closes it
    stream.on('data', onChunk);
    stream.on('error', () => {});
    return { status: Number(head[':status']), headers: plainHeaders(head), close: () => stream.close(http2.constants.NGHTTP2_CANCEL) };
  }

  close(): void {
    this.session.destroy();
  }
}

export function openHttpChannel(target: HttpTarget): HttpChannel {
  return target.http === '2' ? new Http2Channel(target) : new Http1Channel(target);
}
