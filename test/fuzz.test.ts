/**
 * A bounded fuzz of every server: random and mutated requests and frames (flipped bytes,
 * truncations, duplicated header lines, huge lengths, random binary), each on its own connection
 * with a short timeout. Afterwards the server must still echo for a good client, must have
 * counted no internal error, and its memory must be back near a baseline taken after a warm-up.
 * The PRNG is seeded and the seed printed: FUZZ_SEED=<seed> replays a failing run.
 */
import { seededRandom } from '../bench/seeded-random.ts';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TRANSPORTS, echoReply, type TransportName } from '../servers/contract.ts';
import { encodeTcpFrame, TCP_CONTROL_FLAG } from '../servers/tcp-framing.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { connectedClient, delay } from './helpers.ts';

/** Each test's limit: a server or client that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 120_000;

const SEED = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(process.env.FUZZ_SEED);
const WARM_UP_CASES = 60;
const CASES = 300;
/** Cases in flight at once: enough to keep the whole file near 30 s. */
const CONCURRENCY = 25;
/** A case's connection is dropped after this long if the server has not closed it. */
const CASE_TIMEOUT_MS = 150;
const MAX_RANDOM_BYTES = 4096;
/** How far the server's resident memory may end above its post-warm-up baseline. */
const RSS_SLACK_BYTES = 50 * 1024 * 1024;
/** Time for the server to close what the cases left and collect the garbage. */
const SETTLE_MS = 1_000;

/** Small limits, so that oversized and slow cases hit them quickly and pushes stay short. */
const SERVER_ARGS = [
  '--max-message-bytes',
  '2048',
  '--max-header-bytes',
  '4096',
  '--headers-timeout-ms',
  '500',
  '--frame-timeout-ms',
  '500',
  '--long-poll-timeout-ms',
  '200',
  '--max-push-count',
  '20',
  '--max-push-rate',
  '1000',
];

class Fuzzer {
  constructor(private readonly random: () => number) {}

  int(below: number): number {
    return Math.floor(this.random() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }

  /** One mutation of a valid input, or random binary. */
  mutate(valid: Buffer): Buffer {
    switch (this.int(7)) {
      case 0: {
        const copy = Buffer.from(valid);
        for (let i = 0; i <= this.int(8); i++) copy[this.int(copy.length)] = this.int(256);
        return copy;
      }
      case 1:
        return valid.subarray(0, this.int(valid.length));
      case 2:
        return duplicateHeaderLine(valid, this);
      case 3:
        return hugeNumbers(valid, this);
      case 4: {
        const at = this.int(valid.length + 1);
        return Buffer.concat([valid.subarray(0, at), this.bytes(1 + this.int(64)), valid.subarray(at)]);
      }
      case 5:
        return Buffer.concat(Array.from({ length: 2 + this.int(20) }, () => valid)); // pipelined, repeated
      default:
        return this.bytes(1 + this.int(MAX_RANDOM_BYTES));
    }
  }
}

/** Repeats one header line (Content-Length twice, say); for a frame it repeats its first bytes. */
function duplicateHeaderLine(valid: Buffer, fuzz: Fuzzer): Buffer {
  const text = valid.toString('latin1');
  const lines = text.split('\r\n');
  const end = lines.indexOf('');
  if (end < 2) return Buffer.concat([valid.subarray(0, 1 + fuzz.int(8)), valid]);
  const line = 1 + fuzz.int(end - 1);
  lines.splice(line, 0, lines[line]!);
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** Every decimal number becomes a huge one; a frame with no text gets its length bytes set high. */
function hugeNumbers(valid: Buffer, fuzz: Fuzzer): Buffer {
  const text = valid.toString('latin1');
  if (/\d/.test(text) && text.includes('HTTP/1.1')) {
    const huge = fuzz.pick(['99999999999999999999', '4294967296', '-1', '1e308', '0x7fffffff']);
    return Buffer.from(text.replace(/\d+/g, huge), 'latin1');
  }
  const copy = Buffer.from(valid);
  for (let i = 0; i < Math.min(4, copy.length); i++) copy[i] = 0x7f | fuzz.int(256);
  return copy;
}

function httpRequest(method: string, path: string, body = '', headers: string[] = []): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers, `Content-Length: ${Buffer.byteLength(body)}`, '', body];
  return Buffer.from(lines.join('\r\n'));
}

/** A masked client frame of the WebSocket protocol (payload under 126 bytes). */
function wsFrame(opcode: number, payload: string): Buffer {
  const data = Buffer.from(payload);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | data.length]), mask, Buffer.from(data.map((byte, i) => byte ^ mask[i % 4]!))]);
}

const UPGRADE = Buffer.from(
  'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
);

const PUSH = '{"op":"push","ratePerSecond":100,"sizeBytes":16,"count":3}';

/** Valid inputs to mutate, for a server whose registered client is `id`. */
function validInputs(transport: TransportName, id: string): Buffer[] {
  if (transport === 'tcp') {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(TCP_CONTROL_FLAG + 5);
    return [
      encodeTcpFrame('hello'),
      encodeTcpFrame(PUSH, true),
      encodeTcpFrame('{"op":"broadcast","sizeBytes":16}', true),
      Buffer.concat([header, Buffer.from('{"op"')]),
    ];
  }
  const common = [
    httpRequest('GET', '/stats'),
    httpRequest('OPTIONS', '/messages', '', ['Origin: http://localhost:3000', 'Access-Control-Request-Method: POST']),
  ];
  if (transport === 'websocket') {
    return [
      ...common,
      UPGRADE,
      Buffer.concat([UPGRADE, wsFrame(0x1, 'hello')]),
      Buffer.concat([UPGRADE, wsFrame(0x2, PUSH)]),
      Buffer.concat([UPGRADE, wsFrame(0x9, 'ping'), wsFrame(0x8, '\x03\xe8')]),
    ];
  }
  const delivery =
    transport === 'sse' ? httpRequest('GET', `/events?client=${id}`, '', ['Last-Event-ID: 0']) : httpRequest('GET', `/messages?client=${id}&after=0`);
  return [
    ...common,
    delivery,
    httpRequest('POST', '/clients'),
    httpRequest('POST', `/messages?client=${id}`, 'hello'),
    httpRequest('POST', `/push?client=${id}`, PUSH, ['Content-Type: application/json']),
    httpRequest('POST', '/broadcast', '{"sizeBytes":16}'),
    Buffer.from(`POST /messages?client=${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`),
  ];
}

/** Sends one case on its own connection; resolves once the server closed it or the timeout passed. */
function sendCase(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, CASE_TIMEOUT_MS);
    socket.on('data', () => {}); // read whatever comes, so the server is never blocked on this client
    socket.on('close', done);
    socket.on('error', done);
  });
}

async function runCases(port: number, inputs: Buffer[], fuzz: Fuzzer, count: number): Promise<void> {
  const cases = Array.from({ length: count }, () => fuzz.mutate(fuzz.pick(inputs)));
  for (let start = 0; start < cases.length; start += CONCURRENCY) {
    await Promise.all(cases.slice(start, start + CONCURRENCY).map((bytes) => sendCase(port, bytes)));
  }
}

async function registeredClient(transport: TransportName, server: ServerProcess): Promise<string> {
  if (transport === 'tcp' || transport === 'websocket') return '';
  const response = await fetch(`http://127.0.0.1:${server.port}/clients`, { method: 'POST' });
  return ((await response.json()) as { clientId: string }).clientId;
}

async function assertEchoes(transport: TransportName, server: ServerProcess, context: string): Promise<void> {
  const recording = await connectedClient(transport, server);
  await recording.client.send('after the fuzz');
  assert.deepEqual(await recording.waitFor(1), [echoReply('after the fuzz')], context);
  await recording.client.close();
}

describe(`fuzz (FUZZ_SEED=${SEED})`, () => {
  for (const [index, transport] of TRANSPORTS.entries()) {
    it(
      `${transport}: ${CASES} random and mutated inputs, then a good client is served and memory is back near its baseline`,
      { timeout: TEST_TIMEOUT_MS },
      async (t) => {
        const seed = (SEED + index) >>> 0;
        t.diagnostic(`FUZZ_SEED=${SEED} (this transport: prng seed ${seed})`);
        const fuzz = new Fuzzer(seededRandom(seed));
        const server = await ServerProcess.start(transport, { args: SERVER_ARGS });
        try {
          const inputs = validInputs(transport, await registeredClient(transport, server));
          await runCases(server.port, inputs, fuzz, WARM_UP_CASES);
          await assertEchoes(transport, server, `warm-up, FUZZ_SEED=${SEED}`);
          await delay(SETTLE_MS);
          const baseline = (await server.stats()).rssBytes;

          await runCases(server.port, inputs, fuzz, CASES);
          await delay(SETTLE_MS);
          const context = `FUZZ_SEED=${SEED}`;
          assert.equal(server.process.exitCode, null, `the server is still running, ${context}`);
          await assertEchoes(transport, server, context);
          const stats = await server.stats();
          assert.equal(stats.errors.internal, 0, `no internal error, ${context}`);
          assert.ok(stats.connectionsAccepted >= WARM_UP_CASES + CASES, `every case reached the server, ${context}`);
          assert.ok(
            stats.rssBytes < baseline + RSS_SLACK_BYTES,
            `rss ${(stats.rssBytes / 2 ** 20).toFixed(1)} MiB against a baseline of ${(baseline / 2 ** 20).toFixed(1)} MiB, ${context}`,
          );
        } finally {
          await server.stop();
        }
      },
    );
  }
});
