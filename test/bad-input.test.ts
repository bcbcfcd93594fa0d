/**
 * Bad input against every server process, over raw sockets: malformed HTTP, oversized headers and
 * bodies, slow partial requests and frames, invalid WebSocket frames, unknown client ids and
 * floods beyond the caps. Each is refused as documented, counted, and the server goes on serving.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { TRANSPORTS, echoReply, type ErrorCause, type TransportName } from '../servers/contract.ts';
import { TcpFrameDecoder, encodeTcpFrame, TCP_HEADER_BYTES } from '../servers/tcp-framing.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { connectedClient, delay, waitFor } from './helpers.ts';

/** Each test's limit: a server or client that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 30_000;

const MAX_MESSAGE_BYTES = 1024;
const MAX_HEADER_BYTES = 4096;
/** Small timeouts, so a slow client is cut off within a test's time. */
const HEADERS_TIMEOUT_MS = 300;
const FRAME_TIMEOUT_MS = 300;
const LONG_POLL_TIMEOUT_MS = 1_500;
/** How long a raw exchange waits for the server to answer and close. */
const EXCHANGE_TIMEOUT_MS = 3_000;
const CAP = 5;

const SERVER_ARGS = [
  '--max-message-bytes',
  String(MAX_MESSAGE_BYTES),
  '--max-header-bytes',
  String(MAX_HEADER_BYTES),
  '--headers-timeout-ms',
  String(HEADERS_TIMEOUT_MS),
  '--frame-timeout-ms',
  String(FRAME_TIMEOUT_MS),
  '--long-poll-timeout-ms',
  String(LONG_POLL_TIMEOUT_MS),
];

const HTTP_TRANSPORTS: readonly TransportName[] = ['short-poll', 'long-poll', 'sse'];

interface Exchange {
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** Whether the server closed the connection within the timeout. */
  closed: boolean;
  elapsedMs: number;
}

/** What a raw client does, in order: write bytes, or (a number) wait that many milliseconds. */
type Step = string | Buffer | number;

/** Steps that write `text` one character at a time, `gapMs` apart: a slow client. */
function trickle(text: string, gapMs: number): Step[] {
  return [...text].flatMap((char) => [char, gapMs]);
}

/**
 * Connects, runs `steps`, and collects what the server sends until it closes the connection or
 * `timeoutMs` passes. A reset after the answer counts as closed.
 */
function exchange(port: number, steps: Step[], timeoutMs = EXCHANGE_TIMEOUT_MS): Promise<Exchange> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString('latin1'), closed, elapsedMs: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.once('connect', async () => {
      for (const step of steps) {
        if (settled || socket.destroyed) return;
        if (typeof step === 'number') await delay(step);
        else socket.write(step);
      }
    });
  });
}

async function httpJson(server: ServerProcess, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method, body });
  return { status: response.status, body: await response.text() };
}

async function register(server: ServerProcess): Promise<{ status: number; id: string }> {
  const answer = await httpJson(server, 'POST', '/clients');
  return { status: answer.status, id: answer.status === 201 ? (JSON.parse(answer.body) as { clientId: string }).clientId : '' };
}

/** A good client of the transport still gets its echo. */
async function assertEchoes(transport: TransportName, server: ServerProcess, text = 'still here'): Promise<void> {
  const recording = await connectedClient(transport, server);
  await recording.client.send(text);
  assert.deepEqual(await recording.waitFor(1), [echoReply(text)]);
  await recording.client.close();
}

async function errorCount(server: ServerProcess, cause: ErrorCause): Promise<number> {
  return (await server.stats()).errors[cause];
}

// ---------------------------------------------------------------------------------------------
// WebSocket frames written by hand (RFC 6455 section 5.2).
// ---------------------------------------------------------------------------------------------

const OPCODE = { text: 0x1, binary: 0x2, ping: 0x9, unknown: 0x3 } as const;

interface FrameShape {
  opcode: number;
  payload: Buffer;
  /** RSV1..3 as the three bits below FIN. */
  rsv?: number;
  masked?: boolean;
}

function clientFrame({ opcode, payload, rsv = 0, masked = true }: FrameShape): Buffer {
  const head = [0x80 | (rsv << 4) | opcode];
  let extended = Buffer.alloc(0);
  if (payload.length < 126) head.push((masked ? 0x80 : 0) | payload.length);
  else {
    head.push((masked ? 0x80 : 0) | 126);
    extended = Buffer.alloc(2);
    extended.writeUInt16BE(payload.length);
  }
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from(head), extended, mask, body]);
}

/** A masked frame header whose 64-bit length has its most significant bit set (RFC 6455: it must be 0). */
function frameWithTopBitLength(): Buffer {
  const frame = Buffer.alloc(2 + 8 + 4);
  frame[0] = 0x80 | OPCODE.binary;
  frame[1] = 0x80 | 127;
  frame.writeUInt32BE(0x8000_0000, 2);
  return frame;
}

function upgradeRequest(port: number): string {
  const key = randomBytes(16).toString('base64');
  return `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

/** The close code in the first frame after the 101 answer, or undefined when there is none. */
function closeCode(text: string): number | undefined {
  const frames = Buffer.from(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1');
  if (frames.length < 4 || (frames[0]! & 0x0f) !== 0x8) return undefined;
  return frames.readUInt16BE(2);
}

// ---------------------------------------------------------------------------------------------

function tcpFrames(text: string): string[] {
  const decoder = new TcpFrameDecoder(1 << 20);
  return decoder.push(Buffer.from(text, 'latin1')).map((frame) => (frame.kind === 'too-large' ? 'too-large' : `${frame.kind} ${frame.payload.toString()}`));
}

for (const transport of TRANSPORTS) {
  describe(`bad input: ${transport}`, () => {
    let server: ServerProcess;
    before(async () => {
      server = await ServerProcess.start(transport, { args: SERVER_ARGS });
    });
    after(async () => {
      await server.stop();
    });

    if (transport !== 'tcp') {
      it('answers malformed HTTP with 400, closes the connection, and serves a good client', { timeout: TEST_TIMEOUT_MS }, async () => {
        const before = await errorCount(server, 'bad-request');
        const garbage = await exchange(server.port, ['\x16\x03\x01 GARBAGE \x00\xff\r\n\r\n']);
        assert.match(garbage.text, /^HTTP\/1\.1 400 /);
        assert.ok(garbage.closed, 'the connection is closed');
        const badHeader = await exchange(server.port, ['GET /stats HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n']);
        assert.match(badHeader.text, /^HTTP\/1\.1 400 /);
        assert.ok(badHeader.closed);
        assert.equal(await errorCount(server, 'bad-request'), before + 2);
        await assertEchoes(transport, server);
      });

      it(`answers headers over --max-header-bytes with 431 and takes ones under it`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const head = (padding: number): string => `GET /stats HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(padding)}\r\nConnection: close\r\n\r\n`;
        const under = await exchange(server.port, [head(MAX_HEADER_BYTES / 2)]);
        assert.match(under.text, /^HTTP\/1\.1 200 /);
        const before = await errorCount(server, 'too-large');
        const over = await exchange(server.port, [head(MAX_HEADER_BYTES * 2)]);
        assert.match(over.text, /^HTTP\/1\.1 431 /);
        assert.ok(over.closed);
        assert.equal(await errorCount(server, 'too-large'), before + 1);
      });

      it('cuts off a client that sends its headers one byte at a time with 408 after --headers-timeout-ms', { timeout: TEST_TIMEOUT_MS }, async () => {
        const slow = await exchange(server.port, ['GET /stats HTTP/1.1\r\n', ...trickle(`Host: 127.0.0.1\r\nX-Slow: ${'a'.repeat(50)}`, 100)]);
        assert.match(slow.text, /^HTTP\/1\.1 408 /);
        assert.ok(slow.closed);
        assert.ok(slow.elapsedMs >= HEADERS_TIMEOUT_MS - 50 && slow.elapsedMs < HEADERS_TIMEOUT_MS + 1_500, `cut off after ${slow.elapsedMs} ms`);
        assert.equal(await errorCount(server, 'timeout'), 1);
        await assertEchoes(transport, server);
      });
    }

    if (HTTP_TRANSPORTS.includes(transport)) {
      it('answers bodies over --max-message-bytes with 413, by Content-Length and chunked, and closes', { timeout: TEST_TIMEOUT_MS }, async () => {
        const { id } = await register(server);
        const path = `/messages?client=${id}`;
        const declared = await exchange(server.port, [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n`]);
        assert.match(declared.text, /^HTTP\/1\.1 413 [^]*"code":"too-large"/);
        assert.ok(declared.closed);
        const chunk = `200\r\n${'c'.repeat(0x200)}\r\n`; // 512 bytes a chunk: the third passes the limit
        const chunked = await exchange(server.port, [
          `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
          chunk,
          20,
          chunk,
          20,
          chunk,
          20,
          chunk,
        ]);
        assert.match(chunked.text, /^HTTP\/1\.1 413 [^]*"code":"too-large"/);
        assert.ok(chunked.closed);
        assert.equal(await errorCount(server, 'too-large'), 3); // with the 431 above
        await assertEchoes(transport, server);
      });

      it('answers an unknown client id on every route with 404 unknown-client', { timeout: TEST_TIMEOUT_MS }, async () => {
        const before = await errorCount(server, 'unknown-client');
        const delivery = transport === 'sse' ? '/events' : '/messages';
        const routes: [string, string, string?][] = [
          ['POST', '/messages?client=nobody', 'hi'],
          ['GET', `${delivery}?client=nobody`],
          ['POST', '/push?client=nobody', '{"ratePerSecond":1,"sizeBytes":1,"count":1}'],
          ['DELETE', '/clients?client=nobody'],
        ];
        for (const [method, path, body] of routes) {
          const answer = await httpJson(server, method, path, body);
          assert.equal(answer.status, 404, `${method} ${path}`);
          assert.equal((JSON.parse(answer.body) as { code: string }).code, 'unknown-client');
        }
        assert.equal(await errorCount(server, 'unknown-client'), before + routes.length);
      });
    }

    if (transport === 'long-poll' || transport === 'sse') {
      it('never cuts off a held long poll or an open stream by the headers timeout', { timeout: TEST_TIMEOUT_MS }, async () => {
        const { id } = await register(server);
        const path = transport === 'sse' ? `/events?client=${id}` : `/messages?client=${id}`;
        const held = exchange(server.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`], LONG_POLL_TIMEOUT_MS + 1_000);
        await delay(HEADERS_TIMEOUT_MS * 3);
        await httpJson(server, 'POST', `/messages?client=${id}`, 'late');
        const answer = await held;
        assert.match(answer.text, /^HTTP\/1\.1 200 /);
        assert.ok(answer.text.includes('Received:  late'), answer.text);
      });
    }

    if (transport === 'websocket') {
      it('closes each invalid frame with its RFC 6455 code, counts it, and serves a good client', { timeout: TEST_TIMEOUT_MS }, async () => {
        const before = await server.stats();
        const cases: [string, Buffer, number][] = [
          ['unknown opcode', clientFrame({ opcode: OPCODE.unknown, payload: Buffer.from('x') }), 1002],
          ['unmasked client frame', clientFrame({ opcode: OPCODE.text, payload: Buffer.from('hi'), masked: false }), 1002],
          ['control frame over 125 bytes', clientFrame({ opcode: OPCODE.ping, payload: Buffer.alloc(126) }), 1002],
          ['reserved bit without an extension', clientFrame({ opcode: OPCODE.text, payload: Buffer.from('hi'), rsv: 0b100 }), 1002],
          ['invalid UTF-8 in a text frame', clientFrame({ opcode: OPCODE.text, payload: Buffer.from([0x68, 0xc3, 0x28]) }), 1007],
          ['message over --max-message-bytes', clientFrame({ opcode: OPCODE.text, payload: Buffer.alloc(MAX_MESSAGE_BYTES + 1, 'x') }), 1009],
          // ws reads a length past 2^53 - 1 as a message too big for it: 1009, not 1002
          ['64-bit length with its top bit set', frameWithTopBitLength(), 1009],
        ];
        for (const [name, frame, code] of cases) {
          const answer = await exchange(server.port, [upgradeRequest(server.port), 50, frame]);
          assert.match(answer.text, /^HTTP\/1\.1 101 /, name);
          assert.equal(closeCode(answer.text), code, name);
          assert.ok(answer.closed, name);
        }
        const stats = await server.stats();
        assert.equal(stats.errors['bad-request'] - before.errors['bad-request'], 5);
        assert.equal(stats.errors['too-large'] - before.errors['too-large'], 2);
        await assertEchoes(transport, server);
      });

      it('answers a bad handshake with 400 and counts it', { timeout: TEST_TIMEOUT_MS }, async () => {
        const before = await errorCount(server, 'bad-request');
        const answer = await exchange(server.port, [
          `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ]);
        assert.match(answer.text, /^HTTP\/1\.1 400 /);
        assert.ok(answer.closed);
        assert.equal(await errorCount(server, 'bad-request'), before + 1);
      });
    }

    if (transport === 'tcp') {
      it('answers garbage frames (a length, then bytes that are not UTF-8) with error frames and goes on', { timeout: TEST_TIMEOUT_MS }, async () => {
        const junk = Buffer.alloc(TCP_HEADER_BYTES + 6);
        junk.writeUInt32BE(6, 0);
        junk.set([0xff, 0xfe, 0xfd, 0xc0, 0x80, 0xed], TCP_HEADER_BYTES);
        const answer = await exchange(server.port, [junk, encodeTcpFrame('after the junk')], 500);
        assert.deepEqual(tcpFrames(answer.text), [
          'control {"code":"bad-request","error":"the message is not valid UTF-8 text"}',
          'message Received:  after the junk',
        ]);
        assert.equal(answer.closed, false);
      });

      it('drops a connection whose frame stalls past --frame-timeout-ms, and keeps an idle one', { timeout: TEST_TIMEOUT_MS }, async () => {
        const half = encodeTcpFrame('x'.repeat(100)).subarray(0, 40);
        const stalled = await exchange(server.port, [half]);
        assert.deepEqual(tcpFrames(stalled.text), [
          `control {"code":"timeout","error":"a frame must arrive whole within ${FRAME_TIMEOUT_MS} ms of its first byte"}`,
        ]);
        assert.ok(stalled.closed);
        assert.ok(stalled.elapsedMs >= FRAME_TIMEOUT_MS - 50 && stalled.elapsedMs < FRAME_TIMEOUT_MS + 1_500, `dropped after ${stalled.elapsedMs} ms`);
        assert.equal(await errorCount(server, 'timeout'), 1);
        // idle (no frame begun) for three timeouts, then a frame in two halves well within the timeout
        const frame = encodeTcpFrame('idle, then slow');
        const idle = await exchange(server.port, [FRAME_TIMEOUT_MS * 3, frame.subarray(0, 6), FRAME_TIMEOUT_MS / 3, frame.subarray(6)], FRAME_TIMEOUT_MS * 6);
        assert.deepEqual(tcpFrames(idle.text), ['message Received:  idle, then slow']);
        assert.equal(await errorCount(server, 'timeout'), 1);
      });
    }
  });

  describe(`caps: ${transport}`, () => {
    it(
      `--max-clients ${CAP}: the next one is refused as documented, the first ${CAP} still work, and a freed place is taken again`,
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const server = await ServerProcess.start(transport, { args: ['--max-clients', String(CAP)] });
        try {
          if (HTTP_TRANSPORTS.includes(transport)) await httpClientsCap(server);
          else if (transport === 'websocket') await websocketCap(server);
          else await tcpCap(server);
          assert.equal(await errorCount(server, 'too-many-clients'), 1);
        } finally {
          await server.stop();
        }
      },
    );

    it(`--max-connections ${CAP}: one more connection is closed at once and counted; the first ${CAP} still work`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const server = await ServerProcess.start(transport, { args: ['--max-connections', String(CAP)] });
      try {
        const sockets = await Promise.all(Array.from({ length: CAP }, () => openSocket(server.port)));
        await waitFor(async () => (await server.stats()).connectionsOpen === CAP, { what: `${CAP} open connections`, timeoutMs: 3_000, everyMs: 20 });
        const extra = await exchange(server.port, [], 2_000);
        assert.ok(extra.closed, 'the connection over the cap is closed');
        assert.equal(extra.text, '');
        assert.equal(await errorCount(server, 'too-many-connections'), 1);
        const request = transport === 'tcp' ? encodeTcpFrame('first five') : 'GET /stats HTTP/1.1\r\nHost: x\r\n\r\n';
        const reply = await roundTrip(sockets[0]!, request);
        if (transport === 'tcp') assert.deepEqual(tcpFrames(reply), ['message Received:  first five']);
        else assert.match(reply, /^HTTP\/1\.1 200 /);
        for (const socket of sockets) socket.destroy();
        await waitFor(async () => (await server.stats()).connectionsOpen === 0, { what: 'every connection closed', timeoutMs: 3_000, everyMs: 20 });
        await assertEchoes(transport, server);
      } finally {
        await server.stop();
      }
    });
  });
}

describe('slow consumer: sse', () => {
  it('ends a stream whose client does not read once --max-buffered-bytes is queued, and counts it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await ServerProcess.start('sse', { args: ['--max-buffered-bytes', String(64 * 1024)] });
    try {
      const { id } = await register(server);
      const stream = await openSocket(server.port);
      stream.write(`GET /events?client=${id} HTTP/1.1\r\nHost: x\r\n\r\n`);
      stream.pause(); // reads nothing: the kernel's buffers fill, then the server's
      await delay(100);
      // 40 MB of events: more than loopback's socket buffers can hold
      const push = await httpJson(server, 'POST', `/push?client=${id}`, '{"ratePerSecond":100000,"sizeBytes":4096,"count":10000}');
      assert.equal(push.status, 202);
      await waitFor(async () => (await server.stats()).errors['closed-slow-consumer'] === 1, { what: 'the stream ended', timeoutMs: 10_000 });
      const stats = await server.stats();
      assert.ok(stats.writesBackpressured > 0, 'writes that returned false are counted');
      assert.ok(stats.messagesOut < 10_000, 'the rest was never written');
      stream.destroy();
      await assertEchoes('sse', server);
    } finally {
      await server.stop();
    }
  });
});

function openSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes on an open socket and resolves with the first chunk the server answers. */
function roundTrip(socket: net.Socket, request: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
    socket.write(request);
  });
}

async function httpClientsCap(server: ServerProcess): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < CAP; i++) {
    const { status, id } = await register(server);
    assert.equal(status, 201);
    ids.push(id);
  }
  const refused = await httpJson(server, 'POST', '/clients');
  assert.equal(refused.status, 503);
  assert.equal((JSON.parse(refused.body) as { code: string }).code, 'too-many-clients');
  for (const id of ids) assert.equal((await httpJson(server, 'POST', `/messages?client=${id}`, 'ok')).status, 202);
  assert.equal((await httpJson(server, 'DELETE', `/clients?client=${ids[0]}`)).status, 204);
  assert.equal((await register(server)).status, 201);
}

function openWebSocket(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade answered ${response.statusCode}`)));
    ws.once('error', reject);
  });
}

async function websocketCap(server: ServerProcess): Promise<void> {
  const open = await Promise.all(Array.from({ length: CAP }, () => openWebSocket(server.port)));
  await assert.rejects(openWebSocket(server.port), /upgrade answered 503/);
  const replies = await Promise.all(
    open.map(
      (ws, i) =>
        new Promise<string>((resolve) => {
          ws.once('message', (data: Buffer) => resolve(data.toString()));
          ws.send(`ws ${i}`);
        }),
    ),
  );
  assert.deepEqual(
    replies,
    open.map((_, i) => echoReply(`ws ${i}`)),
  );
  open[0]!.close();
  await waitFor(async () => (await server.stats()).clients === CAP - 1, { what: 'a freed place', timeoutMs: 3_000, everyMs: 20 });
  const again = await openWebSocket(server.port);
  again.close();
  for (const ws of open) ws.close();
}

async function tcpCap(server: ServerProcess): Promise<void> {
  const open = await Promise.all(Array.from({ length: CAP }, () => openSocket(server.port)));
  await waitFor(async () => (await server.stats()).clients === CAP, { what: `${CAP} connections accepted`, timeoutMs: 3_000, everyMs: 20 });
  const refused = await exchange(server.port, []);
  assert.match(tcpFrames(refused.text)[0] ?? '', /^control \{"code":"too-many-clients"/);
  assert.ok(refused.closed);
  for (const [i, socket] of open.entries()) assert.deepEqual(tcpFrames(await roundTrip(socket, encodeTcpFrame(`tcp ${i}`))), [`message Received:  tcp ${i}`]);
  open[0]!.destroy();
  await waitFor(async () => (await server.stats()).clients === CAP - 1, { what: 'a freed place', timeoutMs: 3_000, everyMs: 20 });
  const again = await openSocket(server.port);
  assert.deepEqual(tcpFrames(await roundTrip(again, encodeTcpFrame('again'))), ['message Received:  again']);
  again.destroy();
  for (const socket of open) socket.destroy();
}
