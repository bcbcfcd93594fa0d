/**
 * One contract, every transport, every form: the same suite runs against each server process on
 * port 0, with real sockets. Plaintext HTTP/1.1 with the driver's own clients; over TLS (every
 * transport) and HTTP/2 over TLS (short-poll, long-poll, sse) with node's own clients
 * (test/node-clients.ts), trusting a certificate made for the suite.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { ECHO_PREFIX, HTTP2_TRANSPORTS, TRANSPORTS, decodeServerEvent, echoReply, type HttpVersion, type TransportName } from '../servers/contract.ts';
import { TcpFrameDecoder, encodeTcpFrame } from '../servers/tcp-framing.ts';
import { connectedClient, connectedNodeClient, withServer, delay, waitFor, type RecordingClient } from './helpers.ts';
import type { ContractClient } from './node-clients.ts';
import { openHttpChannel } from './http-channel.ts';
import { ServerProcess, type StartOptions } from '../bench/server-process.ts';
import { createTlsCertificate, removeTlsCertificate, type TlsCertificate } from '../bench/tls-certificate.ts';

const MAX = 1024; // a small --max-message-bytes keeps the over-limit cases quick
const SERVER_ARGS = ['--max-message-bytes', String(MAX), '--long-poll-timeout-ms', '2000'];

/** Each test's limit: a hung server or client fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 30_000;

const MESSAGES = ['hello', 'héllo wörld – 你好 🚀', '', 'x'.repeat(MAX), 'é'.repeat(MAX / 2)];

/** The suite's certificate, made before the first test and removed after the last. */
let certificate: TlsCertificate | undefined;
before(async () => {
  certificate = await createTlsCertificate();
});
after(async () => {
  if (certificate !== undefined) await removeTlsCertificate(certificate);
});

function suiteCertificate(): TlsCertificate {
  if (certificate === undefined) throw new Error('the suite certificate is made in before()');
  return certificate;
}

/** One form of the servers: how they are started, and which clients reach them. */
interface ContractForm {
  name: string;
  transports: readonly TransportName[];
  tls: boolean;
  http: HttpVersion;
  startOptions(): StartOptions;
  connect(transport: TransportName, server: ServerProcess): Promise<RecordingClient<ContractClient>>;
}

const FORMS: readonly ContractForm[] = [
  {
    name: 'plaintext, HTTP/1.1',
    transports: TRANSPORTS,
    tls: false,
    http: '1.1',
    startOptions: () => ({ args: SERVER_ARGS }),
    connect: (transport, server) => connectedClient(transport, server),
  },
  {
    name: 'TLS 1.3, HTTP/1.1',
    transports: TRANSPORTS,
    tls: true,
    http: '1.1',
    startOptions: () => ({ args: SERVER_ARGS, tls: suiteCertificate() }),
    connect: (transport, server) => connectedNodeClient(transport, server, suiteCertificate().certPem),
  },
  {
    name: 'TLS 1.3, HTTP/2',
    transports: HTTP2_TRANSPORTS,
    tls: true,
    http: '2',
    startOptions: () => ({ args: SERVER_ARGS, tls: suiteCertificate(), http: '2' }),
    connect: (transport, server) => connectedNodeClient(transport, server, suiteCertificate().certPem),
  },
];

/** Sends one message over the limit the way each transport carries it; returns what the server answered. */
async function sendOversized(transport: TransportName, server: ServerProcess, ca: string | undefined): Promise<string> {
  const oversized = 'y'.repeat(MAX + 1);
  if (transport === 'websocket') {
    const ws = new WebSocket(`${ca === undefined ? 'ws' : 'wss'}://127.0.0.1:${server.port}/ws`, ca === undefined ? {} : { ca });
    await new Promise((resolve) => ws.once('open', resolve));
    const code = await new Promise<number>((resolve) => {
      ws.once('close', (closeCode) => resolve(closeCode));
      ws.send(oversized);
    });
    return `close ${code}`;
  }
  if (transport === 'tcp') {
    const socket = ca === undefined ? net.connect(server.port, '127.0.0.1') : tls.connect({ port: server.port, host: '127.0.0.1', ca });
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
  const channel = openHttpChannel({ host: '127.0.0.1', port: server.port, http: server.http ?? '1.1', ...(ca === undefined ? {} : { ca }) });
  try {
    const { clientId } = JSON.parse((await channel.request({ method: 'POST', path: '/clients' })).body) as { clientId: string };
    const answer = await channel.request({ method: 'POST', path: `/messages?client=${clientId}`, body: oversized });
    return `${answer.status} ${answer.body}`;
  } finally {
    channel.close();
  }
}

for (const form of FORMS) {
  for (const transport of form.transports) {
    describe(`contract: ${transport} (${form.name})`, () => {
      it('echoes "Received:  " + m exactly: ASCII, multi-byte UTF-8, empty, the maximum size', { timeout: TEST_TIMEOUT_MS }, async () => {
        await withServer(transport, form.startOptions(), async (server) => {
          assert.deepEqual([server.tls, server.http], [form.tls, transport === 'tcp' ? null : form.http], 'the ready line names the form');
          const recording = await form.connect(transport, server);
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
        await withServer(transport, form.startOptions(), async (server) => {
          const answer = await sendOversized(transport, server, form.tls ? suiteCertificate().certPem : undefined);
          if (transport === 'websocket') assert.equal(answer, 'close 1009');
          else if (transport === 'tcp') {
            assert.match(answer, /^control:\{"code":"too-large"/);
            assert.match(answer, /\nmessage:Received: {2}after$/);
          } else assert.match(answer, /^413 \{"error":".*at most 1024.*","code":"too-large"\}$/);
          const recording = await form.connect(transport, server);
          await recording.client.send('still here');
          assert.deepEqual(await recording.waitFor(1), ['Received:  still here']);
          await recording.client.close();
          assert.equal((await server.stats()).errors['too-large'], 1);
        });
      });

      it('pushes every message in order, with sequence numbers and send times', { timeout: TEST_TIMEOUT_MS }, async () => {
        await withServer(transport, form.startOptions(), async (server) => {
          const recording = await form.connect(transport, server);
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
        await withServer(transport, form.startOptions(), async (server) => {
          const alice = await form.connect(transport, server);
          const bob = await form.connect(transport, server);
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
        await withServer(transport, form.startOptions(), async (server) => {
          const clients = await Promise.all([1, 2, 3].map(() => form.connect(transport, server)));
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
        const server = await ServerProcess.start(transport, form.startOptions());
        const recording = await form.connect(transport, server);
        await delay(100); // a long poll is held, a stream is open
        const started = Date.now();
        assert.equal(await server.stop(), 0);
        assert.ok(Date.now() - started < 1_900, 'open long polls are answered at once, not after their timeout');
        await recording.client.close();
      });
    });
  }
}
