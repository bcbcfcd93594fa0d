/**
 * `npm run frames`: opens a WebSocket to the project's server (in this process), sends messages
 * of 5, 126 and 65,536 bytes, and prints every data frame both ways as the client's socket
 * carried it, annotated: FIN, opcode, MASK, the payload length and its extended form, the
 * masking key, the start of the payload; and beside it, how the obsolete hixie-76 draft would
 * have framed the same message.
 */
import path from 'node:path';
import WebSocket from 'ws';
import { WireCapture, openTappedConnection, type ClientWire } from '../bench/clients/transport-client.ts';
import { emptyWireBytes } from '../bench/wire.ts';
import { parseFrameHeader } from './report/websocket-frame.ts';
import { startLocalWebSocketServer } from './teaching/local-server.ts';
import { frameListing } from './teaching/frame-listing.ts';
import { exitWith, parseCommandLine, runCommand, type Command } from './command-line.ts';

/** 5 fits the 7-bit length; 126 is the first that needs the 16-bit one; 65,536 the first that needs the 64-bit one. */
const MESSAGE_SIZES_BYTES = [5, 126, 65_536] as const;
const REPLY_TIMEOUT_MS = 5_000;
/** Room for the upgrade and every frame of both ways. */
const CAPTURE_BYTES = 256 * 1024;
const HEAD_END = '\r\n\r\n';

/** A readable message of exactly `sizeBytes` ASCII bytes; the 5-byte one is the textbook's "Hello". */
function message(sizeBytes: number): string {
  return sizeBytes === 5 ? 'Hello' : 'wirecost '.repeat(Math.ceil(sizeBytes / 9)).slice(0, sizeBytes);
}

function connect(url: string, wire: ClientWire): Promise<WebSocket> {
  const target = new URL(url);
  const socket = new WebSocket(url, {
    perMessageDeflate: false,
    createConnection: () => openTappedConnection(wire, 'websocket', { host: target.hostname, port: Number(target.port), noDelay: true }),
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function echo(socket: WebSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
    socket.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.send(text);
  });
}

/** Every frame after the HTTP head of one direction, annotated. */
function listFrames(bytes: Buffer, direction: string): string[] {
  const listings: string[] = [];
  let offset = bytes.indexOf(HEAD_END) + HEAD_END.length;
  for (let header = parseFrameHeader(bytes, offset); header !== undefined; header = parseFrameHeader(bytes, offset)) {
    if (offset + header.headerBytes + header.payloadBytes > bytes.length) break;
    listings.push(frameListing(bytes, offset, header, `Frame ${listings.length + 1}, ${direction}`));
    offset += header.headerBytes + header.payloadBytes;
  }
  return listings;
}

function usage(): string {
  return [
    'Usage: npm run frames',
    '',
    `Sends messages of ${MESSAGE_SIZES_BYTES.join(', ')} bytes to the project's WebSocket server (in this process) and prints`,
    "every data frame both ways as the client's socket carried it, annotated (FIN, opcode, MASK, the length",
    'and its extended form, the masking key, the payload), beside how the hixie-76 draft framed the same message.',
    '',
    '  --help    this text',
  ].join('\n');
}

export function parseFramesArgs(args: string[]): Record<string, never> | 'help' {
  const { values } = parseCommandLine({ args, strict: true, allowPositionals: false, options: { help: { type: 'boolean' } } });
  return values.help === true ? 'help' : {};
}

export const FRAMES_COMMAND: Command<Record<string, never>> = { name: 'frames', usage, parse: parseFramesArgs };

async function frames(): Promise<number> {
  const server = await startLocalWebSocketServer();
  const wire: ClientWire = {
    bytes: emptyWireBytes(),
    connectionsOpened: 0,
    socketBytes: { up: 0, down: 0 },
    tapped: true,
    capture: new WireCapture(CAPTURE_BYTES),
  };
  try {
    const socket = await connect(server.url, wire);
    for (const size of MESSAGE_SIZES_BYTES) await echo(socket, message(size));
    socket.terminate();
    const capture = wire.capture!;
    process.stdout.write(
      [
        `Messages of ${MESSAGE_SIZES_BYTES.join(', ')} bytes sent to ${server.url} and echoed ("Received:  " + message), as the client's socket carried them.`,
        'Client to server: every frame is masked with a fresh 4-byte key. Server to client: never masked.',
        'The obsolete hixie-76 draft, which the textbook shows, framed text as 0x00, the UTF-8 text, 0xFF: 2 bytes whatever the length, never masked.',
        '',
        ...listFrames(capture.bytes('up'), 'client to server').flatMap((listing) => [listing, '']),
        ...listFrames(capture.bytes('down'), 'server to client').flatMap((listing) => [listing, '']),
      ].join('\n'),
    );
    return 0;
  } finally {
    await server.close();
  }
}

if (process.argv[1]?.endsWith(path.join('scripts', 'frames.ts'))) {
  await exitWith(await runCommand(FRAMES_COMMAND, process.argv.slice(2), frames));
}
