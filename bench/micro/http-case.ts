/**
 * HTTP through Node's own server code: an http.Server handed an in-memory socket (a Duplex;
 * the connection stays open, keep-alive, as the driver's do). One op writes one raw request
 * into the socket and ends when the server has written the whole response to it: the request
 * head and body parsed by Node's parser (llhttp), the handler run, the response head and body
 * serialized. With no file descriptor behind the socket, Node feeds the parser from 'data'
 * events instead of straight from the socket's reads: a little more JavaScript than with a
 * real socket, and none of the system calls.
 * - request: POST /messages with the message as body, read with the servers' readBody and
 *   answered 202 with the servers' sendEmpty, as a polling or SSE client sends a message;
 * - response: GET /messages answered 200 with a poll answer carrying the message, as a poll
 *   delivers it; the JSON is made once beforehand, so JSON.stringify is not in the op.
 */
import http from 'node:http';
import { Duplex } from 'node:stream';
import { DEFAULT_LIMITS, ROUTES, type PollResponse } from '../../servers/contract.ts';
import { readBody, sendEmpty } from '../../servers/http-responses.ts';
import { caseKey, expectEqual, testMessage, type MicroCase, type PreparedOp } from './micro-case.ts';

/** A client id as the servers hand them out (a UUID). */
const CLIENT_ID = '0b7c6f1e-4d2a-4c55-9f3e-2a8d1c7b9e40';
const HOST = '127.0.0.1:43210';

/** The server's side of a connection: what the test writes is read by the server; what the server writes is dropped, or kept when asked. */
class MemorySocket extends Duplex {
  kept: Buffer[] | undefined;

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.kept?.push(chunk);
    callback();
  }
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

/** One server and one open connection; `exchange` writes a request and resolves when its response is written. */
class MemoryConnection {
  private readonly socket = new MemorySocket();
  private readonly server: http.Server;
  private done: ((error?: unknown) => void) | undefined;

  constructor(handler: Handler) {
    this.server = http.createServer({ keepAliveTimeout: DEFAULT_LIMITS.keepAliveTimeoutMs }, (req, res) => {
      res.once('finish', () => this.done?.());
      Promise.resolve(handler(req, res)).catch((error: unknown) => this.done?.(error));
    });
    this.server.emit('connection', this.socket);
  }

  exchange(request: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.done = (error) => (error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(String(error))));
      this.socket.push(request);
    });
  }

  /** The response bytes of one exchange. */
  async response(request: Buffer): Promise<string> {
    this.socket.kept = [];
    try {
      await this.exchange(request);
      return Buffer.concat(this.socket.kept).toString();
    } finally {
      this.socket.kept = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
    this.server.close();
  }
}

function rawRequest(method: string, path: string, body?: string): Buffer {
  const head = [`${method} ${path} HTTP/1.1`];
  if (body !== undefined) head.push('Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`);
  head.push(`Host: ${HOST}`, 'Connection: keep-alive');
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

function expectHead(response: string, statusLine: string): void {
  expectEqual(response.slice(0, statusLine.length), statusLine, 'the status line');
}

async function prepareRequest(message: string): Promise<PreparedOp> {
  let body = '';
  const connection = new MemoryConnection(async (req, res) => {
    body = await readBody(req, DEFAULT_LIMITS.maxMessageBytes);
    sendEmpty(res, 202);
  });
  const request = rawRequest('POST', `${ROUTES.messages}?client=${CLIENT_ID}`, message);
  return {
    run: () => connection.exchange(request),
    async: true,
    async check() {
      const response = await connection.response(request);
      expectEqual(body, message, 'the request body the server read');
      expectHead(response, 'HTTP/1.1 202 Accepted\r\n');
      expectEqual(response.slice(-4), '\r\n\r\n', 'the end of the empty response');
    },
    close: () => connection.close(),
  };
}

async function prepareResponse(message: string): Promise<PreparedOp> {
  const answer: PollResponse = { messages: [{ id: 42, data: message }] };
  const body = JSON.stringify(answer);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  const connection = new MemoryConnection((_req, res) => {
    res.writeHead(200, headers);
    res.end(body);
  });
  const request = rawRequest('GET', `${ROUTES.messages}?client=${CLIENT_ID}&after=41`);
  return {
    run: () => connection.exchange(request),
    async: true,
    async check() {
      const response = await connection.response(request);
      expectHead(response, 'HTTP/1.1 200 OK\r\n');
      expectEqual(response.slice(response.indexOf('\r\n\r\n') + 4), body, 'the response body');
    },
    close: () => connection.close(),
  };
}

export function httpCases(sizeBytes: number): MicroCase[] {
  const message = testMessage(sizeBytes);
  return [
    { ...caseKey('http', 'request', sizeBytes), masking: false, prepare: () => prepareRequest(message) },
    { ...caseKey('http', 'response', sizeBytes), masking: false, prepare: () => prepareResponse(message) },
  ];
}
