/**
 * The echo demo as a running site: the four servers it needs (each its own process, as the
 * bench runs them), a byte-counting relay in front of each (which also serves the frame the
 * transport runs in, from the server's origin), and a small HTTP server for the page itself,
 * its configuration and the relays' live byte counts.
 */
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { ByteRelay, type LocalFile } from '../../bench/browser/relay.ts';
import { ServerProcess } from '../../bench/server-process.ts';
import type { WireBytes } from '../../bench/wire.ts';
import { DEFAULT_LIMITS } from '../../servers/contract.ts';

export const DEMO_TRANSPORTS = ['short-poll', 'long-poll', 'sse', 'websocket'] as const;
export type DemoTransport = (typeof DEMO_TRANSPORTS)[number];

/** The page's short-polling client asks once a second, as in the Kaazing comparison. */
export const SHORT_POLL_INTERVAL_MS = 1000;

/** How each transport waits for an answer, as /api/config tells the page (the servers run with the default limits). */
export const DEMO_WAITS = {
  shortPollIntervalMs: SHORT_POLL_INTERVAL_MS,
  longPollHoldMs: DEFAULT_LIMITS.longPollTimeoutMs,
  sseHeartbeatMs: DEFAULT_LIMITS.sseHeartbeatMs,
};

export interface EchoSite {
  /** The page to open. */
  url: string;
  relays: Record<DemoTransport, ByteRelay>;
  stop(): Promise<void>;
}

export interface EchoSiteOptions {
  /** The page's port; 0 picks a free one. */
  port?: number;
  /** Bytes of each direction the relays keep per connection. */
  captureBytes?: number;
}

const HOST = '127.0.0.1';

async function pageFile(name: string, contentType: string): Promise<LocalFile> {
  return { contentType, body: await readFile(new URL(name, import.meta.url)) };
}

/** What a relay serves itself: the page its transport runs in (no server has these routes). */
async function frameFiles(transport: DemoTransport): Promise<Map<string, LocalFile>> {
  const html = await pageFile('echo.html', 'text/html; charset=utf-8');
  return new Map([
    [
      '/echo.html',
      {
        ...html,
        body: Buffer.from(
          html.body
            .toString('utf8')
            .replaceAll('%TRANSPORT%', transport)
            .replaceAll('%POLL_INTERVAL_MS%', String(transport === 'short-poll' ? SHORT_POLL_INTERVAL_MS : 0)),
        ),
      },
    ],
    ['/echo.js', await pageFile('echo.js', 'text/javascript; charset=utf-8')],
  ]);
}

function send(res: http.ServerResponse, status: number, file: LocalFile): void {
  res.writeHead(status, { 'Content-Type': file.contentType, 'Content-Length': file.body.length, 'Cache-Control': 'no-store' });
  res.end(file.body);
}

function json(value: unknown): LocalFile {
  return { contentType: 'application/json', body: Buffer.from(JSON.stringify(value)) };
}

async function listen(server: http.Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the page server has no TCP address');
  return address.port;
}

/** The four servers, started side by side; if one fails, those that started are stopped. */
async function startServers(): Promise<ServerProcess[]> {
  const started = await Promise.allSettled(DEMO_TRANSPORTS.map((transport) => ServerProcess.start(transport)));
  const servers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed === undefined) return servers;
  await Promise.all(servers.map((server) => server.stop()));
  throw failed.reason;
}

export async function startEchoSite(options: EchoSiteOptions = {}): Promise<EchoSite> {
  const servers = await startServers();
  const relays = await Promise.all(
    servers.map(async (server, index) => {
      const transport = DEMO_TRANSPORTS[index]!;
      return ByteRelay.start({
        upstream: { host: server.host, port: server.port },
        protocol: transport === 'websocket' ? 'websocket' : 'http',
        files: await frameFiles(transport),
        ...(options.captureBytes === undefined ? {} : { captureBytes: options.captureBytes }),
      });
    }),
  );
  const byTransport = Object.fromEntries(DEMO_TRANSPORTS.map((transport, index) => [transport, relays[index]!])) as Record<DemoTransport, ByteRelay>;
  const page = new Map([
    ['/', await pageFile('index.html', 'text/html; charset=utf-8')],
    ['/demo.js', await pageFile('demo.js', 'text/javascript; charset=utf-8')],
  ]);
  const transports = Object.fromEntries(DEMO_TRANSPORTS.map((transport) => [transport, byTransport[transport].origin]));
  const pageServer = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/api/config') return send(res, 200, json({ transports, waits: DEMO_WAITS }));
    if (path === '/api/bytes') {
      const bytes: Record<string, WireBytes> = Object.fromEntries(DEMO_TRANSPORTS.map((transport) => [transport, byTransport[transport].bytes]));
      return send(res, 200, json(bytes));
    }
    const file = page.get(path);
    if (file === undefined) return send(res, 404, { contentType: 'text/plain', body: Buffer.from('not found') });
    send(res, 200, file);
  });
  const port = await listen(pageServer, options.port ?? 0);
  return {
    url: `http://${HOST}:${port}/`,
    relays: byTransport,
    async stop() {
      const closed = new Promise<void>((resolve) => pageServer.close(() => resolve()));
      pageServer.closeAllConnections();
      await Promise.all([closed, ...relays.map((relay) => relay.stop()), ...servers.map((server) => server.stop())]);
    },
  };
}
