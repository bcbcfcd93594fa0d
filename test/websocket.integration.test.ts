/** The websocket server as the textbook teaches it: handshake, echo, and its bad input. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { WebSocketClient } from '../bench/clients/websocket-client.ts';
import type { ClientOptions } from '../bench/clients/transport-client.ts';
import { computeAccept } from '../servers/handshake.ts';
import { delay, withServer } from './helpers.ts';

/** Each test's limit: a run that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 30_000;

const TEXTBOOK_KEY = 'f7cb4ezEAl6C3wRaU6JORA==';

/** Sends `request` and resolves with what came back up to the end of the response head; rejects after 5 s. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response head within 5 s; got ${JSON.stringify(text)}`));
    }, 5_000);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function closeCodeAfter(port: number, send: (ws: WebSocket) => void): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.once('open', () => send(ws));
    ws.once('close', (code) => resolve(code));
  });
}

describe('websocket server', () => {
  it("answers a handshake written by hand with the textbook's accept value", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('websocket', [], async (server) => {
      const response = await rawExchange(
        server.port,
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${TEXTBOOK_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      assert.match(response, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      const accept = /\r\nSec-WebSocket-Accept: (\S+)\r\n/i.exec(response)?.[1];
      assert.equal(accept, 'rE91AJhfC+6JdVcVXOGJEADEJdQ=');
      assert.equal(accept, computeAccept(TEXTBOOK_KEY));
    });
  });

  it("serves the textbook's echo to a plain ws client", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('websocket', [], async (server) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      await new Promise((resolve) => ws.once('open', resolve));
      const reply = await new Promise<string>((resolve) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.send('Hello, World!');
      });
      assert.equal(reply, 'Received:  Hello, World!');
      ws.close();
    });
  });

  it(
    "accepts the upgrade at / as at /ws, as the textbook's page opens ws://host:port: echo, push and the same refusals",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      await withServer('websocket', [], async (server) => {
        const handshake = await rawExchange(
          server.port,
          `GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${TEXTBOOK_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        assert.match(handshake, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
        assert.match(handshake, /\r\nSec-WebSocket-Accept: rE91AJhfC\+6JdVcVXOGJEADEJdQ=\r\n/i);
        // the textbook's page, served from the same host, opens ws://host:port
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}`, { origin: `http://127.0.0.1:${server.port}` });
        const received: string[] = [];
        ws.on('message', (data: Buffer) => received.push(data.toString()));
        await new Promise((resolve, reject) => {
          ws.once('open', resolve);
          ws.once('error', reject);
        });
        ws.send('Hello, World!');
        ws.send(Buffer.from(JSON.stringify({ op: 'push', ratePerSecond: 100, sizeBytes: 64, count: 2 })), { binary: true });
        const deadline = Date.now() + 5_000;
        while (received.length < 3 && Date.now() < deadline) await delay(10);
        ws.close();
        assert.equal(received[0], 'Received:  Hello, World!');
        assert.deepEqual(
          received.slice(1).map((text) => text.split(' ').slice(0, 2).join(' ')),
          ['push 1', 'push 2'],
        );
        // a foreign page is refused at / as at /ws; a plain GET / is told to upgrade
        const foreign = await rawExchange(
          server.port,
          `GET / HTTP/1.1\r\nHost: x\r\nOrigin: https://elsewhere.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${TEXTBOOK_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        assert.match(foreign, /^HTTP\/1\.1 403 /);
        const plain = await rawExchange(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.match(plain, /^HTTP\/1\.1 400 /);
      });
    },
  );

  it('refuses an unknown path, a bad control request and invalid UTF-8 with the right codes, and keeps serving', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('websocket', [], async (server) => {
      const notFound = await rawExchange(
        server.port,
        `GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${TEXTBOOK_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      assert.match(notFound, /^HTTP\/1\.1 404 /);
      assert.equal(await closeCodeAfter(server.port, (ws) => ws.send(Buffer.from('{"op":"dance"}'), { binary: true })), 1008);
      assert.equal(await closeCodeAfter(server.port, (ws) => ws.send(Buffer.from([0xc3, 0x28]), { binary: false })), 1007);
      const stats = await server.stats();
      assert.equal(stats.errors['not-found'], 1);
      assert.equal(stats.errors['bad-request'], 2);
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      await new Promise((resolve) => ws.once('open', resolve));
      const reply = await new Promise<string>((resolve) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.send('ok');
      });
      assert.equal(reply, 'Received:  ok');
      ws.close();
    });
  });
});

describe("the bench's WebSocket client", () => {
  /** The Origin header (undefined: none) of the upgrade a client with `options` sends to a ws server on port 0, and that port. */
  async function originSent(options: Partial<ClientOptions>): Promise<{ origin: string | undefined; port: number }> {
    let seen: { origin: string | undefined } | undefined;
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (info: { req: IncomingMessage }) => ((seen = { origin: info.req.headers.origin }), true),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
      const port = (server.address() as { port: number }).port;
      const client = new WebSocketClient({ host: '127.0.0.1', port, url: `ws://127.0.0.1:${port}/`, pollIntervalMs: 0, perMessageDeflate: false, ...options });
      await client.connect();
      await client.close();
      assert.ok(seen !== undefined, 'the upgrade reached the server');
      return { origin: seen.origin, port };
    } finally {
      for (const socket of server.clients) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("sends an Origin header as a browser does: the target's own by default, the one given, or none", { timeout: TEST_TIMEOUT_MS }, async () => {
    const byDefault = await originSent({});
    assert.equal(byDefault.origin, `http://127.0.0.1:${byDefault.port}`);
    assert.equal((await originSent({ origin: 'https://textbook.example' })).origin, 'https://textbook.example');
    assert.equal((await originSent({ origin: null })).origin, undefined);
  });
});
