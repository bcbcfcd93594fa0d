/**
 * The Origin allowlist and the CORS answers of the HTTP listeners: no Origin and loopback pages
 * are served by default, any other origin is refused with 403 and counted unless --allow-origin
 * names it (or is `*`); an allowed origin gets its preflight and its Access-Control-Allow-Origin.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { TransportName } from '../servers/contract.ts';
import type { ServerProcess } from '../bench/server-process.ts';
import { withServer } from './helpers.ts';

/** Each test's limit: a server or client that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 30_000;

const HTTP_LISTENERS: readonly TransportName[] = ['short-poll', 'long-poll', 'sse', 'websocket'];
const LOOPBACK_ORIGINS = ['http://127.0.0.1:5173', 'http://localhost:8080', 'http://[::1]:3000', 'https://localhost'];
const FOREIGN_ORIGIN = 'https://evil.example';
const LISTED_ORIGIN = 'https://app.example:8443';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request; for a stream (SSE) it resolves with the head alone. */
function request(server: ServerProcess, method: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (res) => {
      let body = '';
      const done = (): void => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      };
      if (res.headers['content-type'] === 'text/event-stream') return done();
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', done);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The upgrade's answer: 101 when it opened, else the status the server refused it with. */
function upgradeStatus(server: ServerProcess, origin: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, origin === undefined ? {} : { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

/** A path each listener answers with 200 at once (a stream answers with its head). */
async function servedPath(transport: TransportName, server: ServerProcess): Promise<string> {
  if (transport === 'websocket') return '/stats';
  const response = await fetch(`http://127.0.0.1:${server.port}/clients`, { method: 'POST' });
  const { clientId } = (await response.json()) as { clientId: string };
  return transport === 'sse' ? `/events?client=${clientId}` : `/messages?client=${clientId}`;
}

for (const transport of HTTP_LISTENERS) {
  describe(`origin policy: ${transport}`, () => {
    it('serves no Origin and loopback origins (with CORS), refuses any other with 403 and counts it', { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer(transport, ['--long-poll-timeout-ms', '100'], async (server) => {
        const path = await servedPath(transport, server);
        const plain = await request(server, 'GET', path);
        assert.equal(plain.status, 200);
        assert.equal(plain.headers['access-control-allow-origin'], undefined, 'no Origin, no CORS headers');

        for (const origin of LOOPBACK_ORIGINS) {
          const answer = await request(server, 'GET', path, { Origin: origin });
          assert.equal(answer.status, 200, origin);
          assert.equal(answer.headers['access-control-allow-origin'], origin);
          assert.equal(answer.headers.vary, 'Origin');
        }

        const preflight = await request(server, 'OPTIONS', path, { Origin: LOOPBACK_ORIGINS[0], 'Access-Control-Request-Method': 'POST' });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers['access-control-allow-origin'], LOOPBACK_ORIGINS[0]);
        assert.equal(preflight.headers['access-control-allow-methods'], 'GET, POST, DELETE, OPTIONS');
        assert.equal(preflight.headers['access-control-allow-headers'], 'Content-Type, Last-Event-ID');
        assert.equal(preflight.headers['access-control-max-age'], '600');
        assert.equal(preflight.headers.vary, 'Origin');

        const foreign = await request(server, 'GET', path, { Origin: FOREIGN_ORIGIN });
        assert.equal(foreign.status, 403);
        assert.equal((JSON.parse(foreign.body) as { code: string }).code, 'origin-not-allowed');
        assert.equal(foreign.headers['access-control-allow-origin'], undefined);
        const foreignPreflight = await request(server, 'OPTIONS', path, { Origin: FOREIGN_ORIGIN });
        assert.equal(foreignPreflight.status, 403);
        let refusals = 2;
        if (transport === 'websocket') {
          assert.equal(await upgradeStatus(server, undefined), 101);
          assert.equal(await upgradeStatus(server, LOOPBACK_ORIGINS[1]), 101);
          assert.equal(await upgradeStatus(server, FOREIGN_ORIGIN), 403);
          assert.equal(await upgradeStatus(server, 'null'), 403);
          refusals += 2;
        }
        assert.equal((await server.stats()).errors['origin-not-allowed'], refusals);
      });
    });
  });
}

describe('--allow-origin', () => {
  it('adds the listed origins to the loopback ones; others are still refused', { timeout: TEST_TIMEOUT_MS }, async () => {
    for (const transport of ['short-poll', 'websocket'] as const) {
      await withServer(transport, ['--allow-origin', `${LISTED_ORIGIN},https://other.example`], async (server) => {
        const listed = await request(server, 'GET', '/stats', { Origin: LISTED_ORIGIN });
        assert.equal(listed.status, 200);
        assert.equal(listed.headers['access-control-allow-origin'], LISTED_ORIGIN);
        assert.equal((await request(server, 'GET', '/stats', { Origin: LOOPBACK_ORIGINS[0] })).status, 200);
        assert.equal((await request(server, 'GET', '/stats', { Origin: FOREIGN_ORIGIN })).status, 403);
        if (transport === 'websocket') {
          assert.equal(await upgradeStatus(server, LISTED_ORIGIN), 101);
          assert.equal(await upgradeStatus(server, FOREIGN_ORIGIN), 403);
        }
      });
    }
  });

  it('* allows any origin', { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('sse', ['--allow-origin', '*'], async (server) => {
      const answer = await request(server, 'GET', '/stats', { Origin: FOREIGN_ORIGIN });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['access-control-allow-origin'], FOREIGN_ORIGIN);
    });
  });

  it('refuses a value that is not an origin, with usage exit code 2', () => {
    const main = fileURLToPath(new URL('../servers/main.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', main, '--transport', 'sse', '--allow-origin', 'https://app.example/path'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--allow-origin takes \* or an origin/);
  });
});
