/** Bad input and delivery guarantees of the three HTTP transports, over raw HTTP. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { TransportName } from '../servers/contract.ts';
import { withServer, delay } from './helpers.ts';
import type { ServerProcess } from '../bench/server-process.ts';

/** Each test's limit: a run that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 30_000;

const HTTP_TRANSPORTS: TransportName[] = ['short-poll', 'long-poll', 'sse'];

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function raw(server: ServerProcess, method: string, path: string, body?: Buffer | string, headers: http.OutgoingHttpHeaders = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function register(server: ServerProcess): Promise<string> {
  const answer = await raw(server, 'POST', '/clients');
  assert.equal(answer.status, 201);
  return (JSON.parse(answer.body) as { clientId: string }).clientId;
}

function deliveryPath(transport: TransportName, id: string, after = 0): string {
  return transport === 'sse' ? `/events?client=${id}` : `/messages?client=${id}&after=${after}`;
}

for (const transport of HTTP_TRANSPORTS) {
  describe(`bad input: ${transport}`, () => {
    it('answers each bad request with a clear status and JSON body, and counts it', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, ['--max-message-bytes', '1024'], async (server) => {
        const id = await register(server);
        const unknownRoute = await raw(server, 'GET', '/nope');
        assert.equal(unknownRoute.status, 404);
        assert.match(unknownRoute.body, /"code":"not-found"/);

        const wrongMethod = await raw(server, 'PUT', `/messages?client=${id}`, 'x');
        assert.equal(wrongMethod.status, 405);
        assert.ok(String(wrongMethod.headers.allow).includes('POST'));

        const badJson = await raw(server, 'POST', `/push?client=${id}`, '{"ratePerSecond":', { 'Content-Type': 'application/json' });
        assert.equal(badJson.status, 400);
        assert.match(badJson.body, /not valid JSON/);

        const badPush = await raw(server, 'POST', `/push?client=${id}`, '{"ratePerSecond":-1,"sizeBytes":1,"count":1}');
        assert.equal(badPush.status, 400);
        assert.match(badPush.body, /ratePerSecond/);

        const badUtf8 = await raw(server, 'POST', `/messages?client=${id}`, Buffer.from([0x68, 0xc3, 0x28]));
        assert.equal(badUtf8.status, 400);
        assert.match(badUtf8.body, /UTF-8/);

        const unknownClient = await raw(server, 'POST', '/messages?client=no-such-client', 'hi');
        assert.equal(unknownClient.status, 404);
        assert.match((JSON.parse(unknownClient.body) as { error: string }).error, /unknown client id "no-such-client".*register/);

        const noClient = await raw(server, 'GET', transport === 'sse' ? '/events' : '/messages');
        assert.equal(noClient.status, 400);
        assert.match(noClient.body, /client query parameter is required/);

        const badAfter = await raw(server, 'GET', transport === 'sse' ? `/events?client=${id}&lastEventId=x` : `/messages?client=${id}&after=x`);
        assert.equal(badAfter.status, 400);

        const stats = await server.stats();
        assert.equal(stats.errors['not-found'], 1);
        assert.equal(stats.errors['method-not-allowed'], 1);
        assert.equal(stats.errors['unknown-client'], 1);
        assert.equal(stats.errors['bad-request'], 5);
      });
    });

    it('refuses a message to a full mailbox with 429 and loses none it took', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, ['--mailbox-capacity', '3'], async (server) => {
        const id = await register(server);
        for (const text of ['a', 'b', 'c']) assert.equal((await raw(server, 'POST', `/messages?client=${id}`, text)).status, 202);
        const full = await raw(server, 'POST', `/messages?client=${id}`, 'd');
        assert.equal(full.status, 429);
        assert.match(full.body, /mailbox full/);
        assert.equal((await server.stats()).errors['mailbox-full'], 1);
        if (transport !== 'sse') {
          const poll = await raw(server, 'GET', deliveryPath(transport, id));
          assert.deepEqual(
            (JSON.parse(poll.body) as { messages: { data: string }[] }).messages.map((m) => m.data),
            ['Received:  a', 'Received:  b', 'Received:  c'],
          );
        }
      });
    });

    it('loses nothing when a client vanishes in the middle of a delivery and comes back', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, ['--long-poll-timeout-ms', '5000'], async (server) => {
        const id = await register(server);
        // A delivery request that the client abandons: a held long poll, an open stream, a poll.
        const abandoned = http.request({ host: '127.0.0.1', port: server.port, path: deliveryPath(transport, id), agent: false });
        abandoned.on('error', () => {});
        abandoned.end();
        await delay(100);
        abandoned.destroy();
        await delay(50);
        for (const text of ['one', 'two']) assert.equal((await raw(server, 'POST', `/messages?client=${id}`, text)).status, 202);
        if (transport === 'sse') {
          // The stream comes back from event 0: both events arrive.
          const body = await new Promise<string>((resolve) => {
            const req = http.request(
              { host: '127.0.0.1', port: server.port, path: deliveryPath(transport, id), agent: false, headers: { 'Last-Event-ID': '0' } },
              (res) => {
                let text = '';
                res.on('data', (chunk: Buffer) => {
                  text += chunk.toString();
                  if (text.includes('id: 2\n')) {
                    req.destroy();
                    resolve(text);
                  }
                });
              },
            );
            req.on('error', () => {});
            req.end();
          });
          assert.equal(body, 'id: 1\ndata: Received:  one\n\nid: 2\ndata: Received:  two\n\n');
          // Resuming after event 1 gives event 2 only.
          const resumed = await new Promise<string>((resolve) => {
            const req = http.request(
              { host: '127.0.0.1', port: server.port, path: deliveryPath(transport, id), agent: false, headers: { 'Last-Event-ID': '1' } },
              (res) => {
                res.once('data', (chunk: Buffer) => {
                  req.destroy();
                  resolve(chunk.toString());
                });
              },
            );
            req.on('error', () => {});
            req.end();
          });
          assert.equal(resumed, 'id: 2\ndata: Received:  two\n\n');
        } else {
          const poll = await raw(server, 'GET', deliveryPath(transport, id));
          assert.deepEqual(JSON.parse(poll.body), {
            messages: [
              { id: 1, data: 'Received:  one' },
              { id: 2, data: 'Received:  two' },
            ],
          });
          // An answer the client never saw is delivered again until acknowledged with after=N.
          const again = await raw(server, 'GET', deliveryPath(transport, id, 1));
          assert.deepEqual(JSON.parse(again.body), { messages: [{ id: 2, data: 'Received:  two' }] });
        }
      });
    });
  });
}

describe('poll timing', () => {
  it('short-poll answers an empty poll at once; long-poll holds it until its timeout', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const transport of ['short-poll', 'long-poll'] as const) {
      await withServer(transport, ['--long-poll-timeout-ms', '300'], async (server) => {
        const id = await register(server);
        const started = performance.now();
        const answer = await raw(server, 'GET', deliveryPath(transport, id));
        const elapsedMs = performance.now() - started;
        assert.equal(answer.body, '{"messages":[]}');
        if (transport === 'short-poll') assert.ok(elapsedMs < 250, `short poll took ${elapsedMs} ms`);
        else assert.ok(elapsedMs >= 290, `long poll answered after ${elapsedMs} ms`);
      });
    }
  });

  it('long-poll answers a held poll as soon as a message is pending', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('long-poll', ['--long-poll-timeout-ms', '10000'], async (server) => {
      const id = await register(server);
      const held = raw(server, 'GET', deliveryPath('long-poll', id));
      await delay(100);
      await raw(server, 'POST', `/messages?client=${id}`, 'wake');
      const answer = await held;
      assert.deepEqual(JSON.parse(answer.body), { messages: [{ id: 1, data: 'Received:  wake' }] });
    });
  });
});
