/** Reading request bodies within a limit, and writing the HTTP transports' responses. */
import type http from 'node:http';
import { ContractError } from './contract.ts';

export const STATUS_BY_CODE: Record<ContractError['code'], number> = {
  'bad-request': 400,
  'not-found': 404,
  'unknown-client': 404,
  'method-not-allowed': 405,
  'too-large': 413,
  'mailbox-full': 429,
  'too-many-clients': 503,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a whole request body as UTF-8 text of at most `maxBytes` bytes. Over the limit:
 * ContractError('too-large') (the rest of the body is not read; the answer closes the connection); bytes that are not UTF-8: ContractError('bad-request').
 */
export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    throw new ContractError('too-large', `the body is ${declared} bytes; at most ${maxBytes} are allowed`);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) {
      throw new ContractError('too-large', `the body is over ${maxBytes} bytes, the most allowed`);
    }
    chunks.push(chunk);
  }
  try {
    return utf8.decode(Buffer.concat(chunks, length));
  } catch {
    throw new ContractError('bad-request', 'the body is not valid UTF-8 text');
  }
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendEmpty(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

export function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (status === 413) res.setHeader('Connection', 'close');
  sendJson(res, status, { error: message, code });
}
