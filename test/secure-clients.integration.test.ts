/**
 * The driver's clients over TLS (every transport: https, wss, TLS over TCP) and over HTTP/2
 * (short-poll, long-poll, SSE), against the suite's servers started with a certificate made for
 * the test: an echo comes back, a push arrives whole and in order, the split's totals equal the
 * TCP sockets' own counters once the client is closed, and an HTTP/2 client sends everything on
 * one connection. A lost HTTP/2 connection is opened again and the client goes on where it was.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP2_TRANSPORTS, TRANSPORTS, decodeServerEvent, echoReply, type TransportName } from '../servers/contract.ts';
import { createClient } from '../bench/clients/index.ts';
import type { ClientOptions, TransportClient } from '../bench/clients/transport-client.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { createTlsCertificate, removeTlsCertificate, type TlsCertificate } from '../bench/tls-certificate.ts';
import { RecordingClient } from './helpers.ts';

const TEST_TIMEOUT_MS = 30_000;
const PUSHES = 12;
/** The cookie every HTTP request carries: HTTP/1.1 sends it whole each time, HPACK once. */
const COOKIE_BYTES = 300;

interface Form {
  name: string;
  tls: '1.2' | '1.3';
  http?: '2';
  transports: readonly TransportName[];
}

const FORMS: Form[] = [
  { name: 'TLS 1.3', tls: '1.3', transports: TRANSPORTS },
  { name: 'TLS 1.2', tls: '1.2', transports: ['short-poll', 'websocket'] },
  { name: 'HTTP/2 over TLS 1.3', tls: '1.3', http: '2', transports: HTTP2_TRANSPORTS },
];

/** Push events' sequence numbers, in the order they came. */
function pushSeqs(texts: string[]): number[] {
  return texts.flatMap((text) => {
    const event = decodeServerEvent(text);
    return event === undefined ? [] : [event.seq];
  });
}

function assertTotalsEqualSockets(client: TransportClient, what: string): void {
  const { bytes, socketBytes } = client.wire;
  assert.ok(bytes.up.total > 0 && bytes.down.total > 0, `${what}: bytes were counted`);
  assert.deepEqual({ up: bytes.up.total, down: bytes.down.total }, socketBytes, `${what}: the split's totals against the TCP sockets' counters`);
  for (const direction of ['up', 'down'] as const) {
    const split = bytes[direction];
    assert.equal(split.payload + split.headers + split.framing + split.setup + split.tls, split.total, `${what} ${direction}: the parts add up`);
    assert.ok(split.tls > 0, `${what} ${direction}: TLS's own bytes are counted`);
  }
}

describe('the driver clients over TLS and HTTP/2', () => {
  let certificate: TlsCertificate;
  before(async () => {
    certificate = await createTlsCertificate();
  });
  after(async () => {
    if (certificate !== undefined) await removeTlsCertificate(certificate);
  });

  async function withSecureServer(transport: TransportName, form: Form, run: (server: ServerProcess, options: ClientOptions) => Promise<void>): Promise<void> {
    const server = await ServerProcess.start(transport, {
      tls: { certPath: certificate.certPath, keyPath: certificate.keyPath, version: form.tls },
      ...(form.http === undefined ? {} : { http: form.http }),
    });
    try {
      assert.equal(server.tls, true);
      const options: ClientOptions = {
        host: server.host,
        port: server.port,
        pollIntervalMs: 20,
        perMessageDeflate: false,
        tls: { version: form.tls, ca: certificate.certPem },
        ...(form.http === undefined ? {} : { http: form.http }),
      };
      await run(server, options);
    } finally {
      await server.stop();
    }
  }

  for (const form of FORMS) {
    for (const transport of form.transports) {
      it(`${transport} over ${form.name}: an echo, a push without loss, totals equal to the sockets'`, { timeout: TEST_TIMEOUT_MS }, async () => {
        await withSecureServer(transport, form, async (server, options) => {
          const client = createClient(transport, { ...options, headerSeries: true, cookieBytes: COOKIE_BYTES });
          const recording = new RecordingClient(client);
          try {
            await client.connect();
            client.start?.(); // a polling client polls from the start of its run
            await client.send('héllo');
            assert.deepEqual(await recording.waitFor(1), [echoReply('héllo')]);
            await client.requestPush({ ratePerSecond: 200, sizeBytes: 64, count: PUSHES });
            await recording.waitFor(1 + PUSHES);
            assert.deepEqual(
              pushSeqs(recording.texts()),
              Array.from({ length: PUSHES }, (_, i) => i + 1),
            );
          } finally {
            await client.close();
          }
          assert.deepEqual([...client.errors], [], 'no error');
          assertTotalsEqualSockets(client, `${transport} over ${form.name}`);
          const stats = await server.stats();
          assert.equal(stats.messagesOut, 1 + PUSHES, "the server's count of messages sent");
          // the payload the client counted is the messages' own bytes: the echo up, its reply and the pushes down
          assert.equal(client.wire.bytes.up.payload, Buffer.byteLength('héllo'));
          if (form.http === '2') {
            assert.equal(client.wire.connectionsOpened, 1, 'an HTTP/2 client: one connection for everything');
            assert.equal(stats.connectionsAccepted, 1, "the server's count of connections");
          }
          // the heads counted as headers on the first connection (registration and the event stream's request are setup): each
          // HTTP/1.1 request carries the cookie whole, each HTTP/2 one refers to HPACK's table, where the registration put it
          const { requests } = client.wire.headerSeries!;
          if (form.http === '2') {
            assert.ok(requests.length >= (transport === 'sse' ? 1 : 2), `the connection lists its heads (${requests.join(', ')})`);
            assert.ok(Math.max(...requests) < COOKIE_BYTES / 2, `HPACK: the cookie is not sent again (${requests.join(', ')})`);
          } else if (transport === 'short-poll' || transport === 'long-poll') {
            assert.ok(requests.length >= 2, `the first connection lists its heads (${requests.join(', ')})`);
            assert.ok(Math.min(...requests) > COOKIE_BYTES, `HTTP/1.1: every request carries the cookie (${requests.join(', ')})`);
          }
        });
      });
    }
  }

  for (const transport of HTTP2_TRANSPORTS) {
    it(`${transport} over HTTP/2: a lost connection is opened again and nothing is lost`, { timeout: TEST_TIMEOUT_MS }, async () => {
      await withSecureServer(transport, FORMS[2]!, async (server, options) => {
        const client = createClient(transport, options);
        const recording = new RecordingClient(client);
        let reconnected = 0;
        client.onReconnected = () => (reconnected += 1);
        try {
          await client.connect();
          client.start?.();
          await client.requestPush({ ratePerSecond: 50, sizeBytes: 32, count: 20 });
          await recording.waitFor(5);
          client.interrupt();
          await recording.waitFor(20);
          assert.deepEqual(
            pushSeqs(recording.texts()),
            Array.from({ length: 20 }, (_, i) => i + 1),
            'every push once, in order',
          );
        } finally {
          await client.close();
        }
        assert.equal(reconnected, 0, 'the server still knew the client: nothing to register again');
        assert.equal(client.wire.connectionsOpened, 2, 'one connection, then one more after the loss');
        assert.equal((await server.stats()).connectionsAccepted, 2);
        assertTotalsEqualSockets(client, transport);
      });
    });
  }

  it('an HTTP/2 client trusts only the CA it is given', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withSecureServer('short-poll', FORMS[2]!, async (_server, options) => {
      const { ca: _ca, ...withoutCa } = options.tls!;
      const client = createClient('short-poll', { ...options, tls: withoutCa });
      try {
        await assert.rejects(client.connect(), /self-signed certificate/);
      } finally {
        await client.close();
      }
    });
  });
});
