/**
 * One contract, every transport: the same suite runs against each server process on port 0,
 * with real sockets and the driver's own clients.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { ECHO_PREFIX, TRANSPORTS, decodeServerEvent, echoReply, type TransportName } from '../servers/contract.ts';
import { TcpFrameDecoder, encodeTcpFrame } from '../servers/tcp-framing.ts';
import { connectedClient, withServer, delay, waitFor } from './helpers.ts';
import type { ServerProcess } from '../bench/server-process.ts';

const MAX = 1024; // a small --max-message-bytes keeps the over-limit cases quick
const SERVER_ARGS = ['--max-message-bytes', String(MAX), '--long-poll-timeout-ms', '2000'];

/** Each test's limit: a hung server or client fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 30_000;

const MESSAGES = ['hello', 'héllo wörld – 你好 🚀', '', 'x'.repeat(MAX), 'é'.repeat(MAX / 2)];

/** Sends one message over the limit the way each transport carries it; returns what the server answered. */
async function sendOversized(transport: TransportName, server: ServerProcess): Promise<string> {
  const oversized = 'y'.repeat(MAX + 1);
  if (transport === 'websocket') {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((resolve) => ws.once('open', resolve));
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (closeCode) => resolve(closeCode));
      ws.send(oversized);
    });
    return `close ${code}`;
  }
  if (transport === 'tcp') {
    const socket = net.connect(server.port, '127.0.0.1');
    const decoder = new TcpFrameDecoder(1 << 20);
    const frames: string[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) if (frame.kind !== 'too-large') frames.push(`${frame.kind}:${frame.payload.toString()}`);
    });
    socket.write(encodeTcpFrame(oversized));
    socket.write(encodeTcpFrame('after')); // the same connection goes on
    try {
      await waitFor(() => frames.length >= 2, { what: 'the error frame and the echo after it' });
    } finally {
      socket.destroy();
    }
    return frames.join('\n');
  }
  const base = `http://127.0.0.1:${server.port}`;
  const { clientId } = (await (await fetch(`${base}/clients`, { method: 'POST' })).json()) as { clientId: string };
  const answer = await fetch(`${base}/messages?client=${clientId}`, { method: 'POST', body: oversized });
  return `${answer.status} ${await answer.text()}`;
}

for (const transport of TRANSPORTS) {
  describe(`contract: ${transport}`, () => {
    it('echoes "Received:  " + m exactly: ASCII, multi-byte UTF-8, empty, the maximum size', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, SERVER_ARGS, async (server) => {
        const recording = await connectedClient(transport, server);
        for (const message of MESSAGES) await recording.client.send(message);
        const texts = await recording.waitFor(MESSAGES.length);
        assert.deepEqual(texts, MESSAGES.map(echoReply));
        assert.ok(texts[0]?.startsWith('Received:  hello'));
        await recording.client.close();
        const stats = await server.stats();
        assert.equal(stats.messagesIn, MESSAGES.length);
        assert.ok(stats.connectionsAccepted >= 1);
      });
    });

    it('refuses a message over the maximum and keeps serving', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, SERVER_ARGS, async (server) => {
        const answer = await sendOversized(transport, server);
        if (transport === 'websocket') assert.equal(answer, 'close 1009');
        else if (transport === 'tcp') {
          assert.match(answer, /^control:\{"code":"too-large"/);
          assert.match(answer, /\nmessage:Received: {2}after$/);
        } else assert.match(answer, /^413 \{"error":".*at most 1024.*","code":"too-large"\}$/);
        const recording = await connectedClient(transport, server);
        await recording.client.send('still here');
        assert.deepEqual(await recording.waitFor(1), ['Received:  still here']);
        await recording.client.close();
        assert.equal((await server.stats()).errors['too-large'], 1);
      });
    });

    it('pushes every message in order, with sequence numbers and send times', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, SERVER_ARGS, async (server) => {
        const recording = await connectedClient(transport, server);
        const count = 40;
        await recording.client.requestPush({ ratePerSecond: 400, sizeBytes: 64, count });
        await recording.waitFor(count);
        await delay(50);
        const events = recording.received.map((message) => ({ event: decodeServerEvent(message.text), ...message }));
        assert.deepEqual(
          events.map((entry) => entry.event?.seq),
          Array.from({ length: count }, (_, i) => i + 1),
        );
        for (const entry of events) {
          assert.equal(entry.event?.kind, 'push');
          assert.equal(Buffer.byteLength(entry.text), 64);
          assert.ok(entry.event !== undefined && entry.event.sentAtMs <= entry.receivedAtMs, 'sent before received, on one clock');
          assert.ok(entry.receivedAtMs - (entry.event?.sentAtMs ?? 0) < 5_000);
        }
        await recording.client.close();
      });
    });

    it('never gives one client the echo of another', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, SERVER_ARGS, async (server) => {
        const alice = await connectedClient(transport, server);
        const bob = await connectedClient(transport, server);
        const sends: Promise<void>[] = [];
        for (let i = 0; i < 20; i++) {
          sends.push(alice.client.send(`alice ${i}`), bob.client.send(`bob ${i}`));
        }
        await Promise.all(sends);
        const [fromAlice, fromBob] = await Promise.all([alice.waitFor(20), bob.waitFor(20)]);
        await delay(50);
        assert.equal(alice.received.length, 20);
        assert.equal(bob.received.length, 20);
        assert.ok(fromAlice.every((text) => text.startsWith(`${ECHO_PREFIX}alice `)));
        assert.ok(fromBob.every((text) => text.startsWith(`${ECHO_PREFIX}bob `)));
        await Promise.all([alice.client.close(), bob.client.close()]);
      });
    });

    it('broadcasts one event to every client, from a client or from the server', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, SERVER_ARGS, async (server) => {
        const clients = await Promise.all([1, 2, 3].map(() => connectedClient(transport, server)));
        // a TCP client is connected once its handshake is done, a moment before the server's accept runs
        await waitFor(async () => (await server.stats()).clients >= 3, { what: 'the server to count 3 clients' });
        await clients[0]!.client.requestBroadcast({ sizeBytes: 32 });
        await clients[0]!.waitFor(1);
        assert.equal(await server.broadcast(32), 3);
        for (const recording of clients) {
          const texts = await recording.waitFor(2);
          assert.deepEqual(
            texts.map((text) => [decodeServerEvent(text)?.kind, decodeServerEvent(text)?.seq, Buffer.byteLength(text)]),
            [
              ['broadcast', 1, 32],
              ['broadcast', 2, 32],
            ],
          );
        }
        await Promise.all(clients.map((recording) => recording.client.close()));
      });
    });

    it('stops gracefully on SIGTERM with clients connected (exit code 0)', { timeout: TEST_TIMEOUT_MS }, async () => {
      const server = await (await import('../bench/server-process.ts')).ServerProcess.start(transport, { args: SERVER_ARGS });
      const recording = await connectedClient(transport, server);
      await delay(100); // a long poll is held, a stream is open
      const started = Date.now();
      assert.equal(await server.stop(), 0);
      assert.ok(Date.now() - started < 1_900, 'open long polls are answered at once, not after their timeout');
      await recording.client.close();
    });
  });
}
