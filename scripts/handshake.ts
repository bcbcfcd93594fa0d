/**
 * `npm run handshake -- [key]`: the WebSocket opening handshake step by step (RFC 6455 §4.2.2),
 * with the textbook's key unless another is given, then a real upgrade sent with that key to
 * the project's WebSocket server and its response, byte for byte as they crossed the wire.
 */
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError, exitWith, parseCommandLine, runCommand, type Command } from './command-line.ts';
import { ROUTES } from '../servers/contract.ts';
import { WEBSOCKET_GUID, handshakeSteps } from '../servers/handshake.ts';
import { TEXTBOOK_ACCEPT, TEXTBOOK_KEY } from './report/handshake-claim.ts';
import { startLocalWebSocketServer } from './teaching/local-server.ts';
import { bytesOf, showHead } from './teaching/wire-text.ts';

const RESPONSE_TIMEOUT_MS = 5_000;
/** A key is 16 bytes, base64: 22 characters and "==". */
const KEY_BYTES = 16;

function isValidKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{22}==$/.test(key) && Buffer.from(key, 'base64').length === KEY_BYTES;
}

function explain(key: string): string {
  const steps = handshakeSteps(key);
  const textbook =
    key === TEXTBOOK_KEY ? ` (the textbook's key; it gives ${TEXTBOOK_ACCEPT}: ${steps.accept === TEXTBOOK_ACCEPT ? 'it matches' : 'it DOES NOT match'})` : '';
  return [
    `The opening handshake, step by step${textbook}`,
    '',
    `1. The client's key (Sec-WebSocket-Key), ${KEY_BYTES} random bytes in base64:`,
    `   ${steps.key}`,
    `2. The server appends the GUID every WebSocket server knows, ${WEBSOCKET_GUID}:`,
    `   ${steps.concatenated}`,
    '3. SHA-1 of that text, 20 bytes, in hex:',
    `   ${steps.sha1Hex}`,
    '4. Those 20 bytes in base64: the Sec-WebSocket-Accept the server must answer:',
    `   ${steps.accept}`,
  ].join('\n');
}

/** Sends a raw upgrade request and resolves with the response head exactly as it arrived. */
function upgrade(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response to the upgrade within ${RESPONSE_TIMEOUT_MS} ms`));
    }, RESPONSE_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(received.subarray(0, end + 4).toString('latin1'));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(request, 'latin1');
  });
}

async function live(key: string): Promise<string> {
  const server = await startLocalWebSocketServer();
  try {
    const request = [
      `GET ${ROUTES.websocket} HTTP/1.1`,
      `Host: ${server.host}:${server.port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n');
    const response = await upgrade(server.host, server.port, request);
    const accept = /\r\nSec-WebSocket-Accept: *([^\r]*)\r\n/i.exec(response)?.[1];
    const expected = handshakeSteps(key).accept;
    const verdict =
      accept === undefined
        ? 'The server sent no Sec-WebSocket-Accept.'
        : `The server answered ${accept}: ${accept === expected ? 'step 4 exactly' : `NOT step 4 (${expected})`}.`;
    return [
      `A real upgrade to the project's WebSocket server (${server.url}), as it crossed the wire:`,
      '',
      `Request, ${bytesOf(request)} bytes:`,
      showHead(request, '> '),
      '',
      `Response, ${bytesOf(response)} bytes:`,
      showHead(response, '< '),
      '',
      verdict,
    ].join('\n');
  } finally {
    await server.close();
  }
}

export interface HandshakeOptions {
  /** The Sec-WebSocket-Key to walk through: the textbook's unless one is given. */
  key: string;
}

function usage(): string {
  return [
    'Usage: npm run handshake -- [key]',
    '',
    'The WebSocket opening handshake step by step (RFC 6455 section 4.2.2): the Sec-WebSocket-Accept a',
    "server computes from the key, then a real upgrade with that key to the project's WebSocket server.",
    '',
    `  key       a Sec-WebSocket-Key, 16 bytes in base64 (default: the textbook's, ${TEXTBOOK_KEY})`,
    '  --help    this text',
  ].join('\n');
}

export function parseHandshakeArgs(args: string[]): HandshakeOptions | 'help' {
  const { values, positionals } = parseCommandLine({ args, strict: true, allowPositionals: true, options: { help: { type: 'boolean' } } });
  if (values.help === true) return 'help';
  if (positionals.length > 1) throw new UsageError(`takes one key at most, not ${positionals.length}`);
  return { key: positionals[0] ?? TEXTBOOK_KEY };
}

export const HANDSHAKE_COMMAND: Command<HandshakeOptions> = { name: 'handshake', usage, parse: parseHandshakeArgs };

async function handshake({ key }: HandshakeOptions): Promise<number> {
  const lines = [explain(key), ''];
  let liveKey = key;
  if (!isValidKey(key)) {
    liveKey = randomBytes(KEY_BYTES).toString('base64');
    lines.push(`"${key}" is not ${KEY_BYTES} bytes in base64, which a server refuses; the live upgrade below uses a fresh key, ${liveKey}.`, '');
  }
  lines.push(await live(liveKey));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

if (process.argv[1]?.endsWith(path.join('scripts', 'handshake.ts'))) {
  await exitWith(await runCommand(HANDSHAKE_COMMAND, process.argv.slice(2), handshake));
}
