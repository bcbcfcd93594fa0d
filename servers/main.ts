/**
 * Runs one transport server as its own process:
 *
 *   npm run server -- --transport <short-poll|long-poll|sse|websocket|tcp> [--port 0] [--host 127.0.0.1]
 *                     [--tls-cert <file> --tls-key <file> [--tls-version 1.3|1.2]] [--http 1.1|2]
 *
 * prints one JSON line on stdout as soon as it listens,
 *   {"ready":true,"transport":"websocket","port":54321,"pid":123,"tls":false,"http":"1.1"}
 * ("http" is null for tcp, which speaks no HTTP)
 * and stops gracefully on SIGTERM and SIGINT (exit code 0). With `--processes N` (N > 1) it is the
 * primary of N worker processes (servers/cluster.ts): the ready line then also lists every
 * worker's port and pid, {"ready":true,...,"port":P,"ports":[P,...],"workers":[pid,...]}. npm runs it as `exec node --import tsx
 * servers/main.ts`, so the process npm starts is the server itself: npm relays a signal straight
 * to it and exits with its code. With an IPC channel (a parent that forked it), it answers
 * {"type":"stats"} with {"type":"stats","stats":{...}} and {"type":"broadcast","sizeBytes":N}
 * with {"type":"broadcast","clients":N}.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import {
  DEFAULT_LIMITS,
  HTTP2_TRANSPORTS,
  HTTP_VERSIONS,
  TLS_VERSIONS,
  TRANSPORTS,
  isTransportName,
  type HttpVersion,
  type ServerLimits,
  type ServerTls,
  type TransportName,
  type TransportServer,
  type ServerOptions,
} from './contract.ts';
import { createShortPollServer } from './short-poll.ts';
import { createLongPollServer } from './long-poll.ts';
import { createSseServer } from './sse.ts';
import { createWebSocketServer } from './websocket.ts';
import { createTcpServer } from './tcp.ts';
import { ANY_ORIGIN, normalizeOrigin } from './origin.ts';
import { ServerCluster, portPerWorker, type ClusterScheduling, workerIndex, workerPort, type WorkerReady } from './cluster.ts';
import { UsageError, parseCommandLine, readCommandLine, type Command } from '../scripts/command-line.ts';

export const SERVER_FACTORIES: Record<TransportName, (options: ServerOptions) => TransportServer> = {
  'short-poll': createShortPollServer,
  'long-poll': createLongPollServer,
  sse: createSseServer,
  websocket: createWebSocketServer,
  tcp: createTcpServer,
};

/** Each limit's command-line option, and what it means. */
const LIMIT_OPTIONS: Record<keyof ServerLimits, { flag: string; help: string }> = {
  maxMessageBytes: { flag: 'max-message-bytes', help: 'largest message a client may send (413, WebSocket close 1009, TCP error frame above)' },
  mailboxCapacity: { flag: 'mailbox-capacity', help: 'messages a polling/SSE client may have waiting (429 above)' },
  mailboxCapacityBytes: { flag: 'mailbox-capacity-bytes', help: 'bytes a polling/SSE client may have waiting (429 above)' },
  longPollTimeoutMs: { flag: 'long-poll-timeout-ms', help: 'how long a long poll is held before it answers empty' },
  clientTtlMs: { flag: 'client-ttl-ms', help: 'a polling/SSE client not heard from for this long is forgotten' },
  maxClients: {
    flag: 'max-clients',
    help: 'HTTP: registered clients; websocket: open WebSockets; tcp: open connections, at most (503, upgrade 503, TCP error frame above)',
  },
  maxPushRatePerSecond: { flag: 'max-push-rate', help: 'highest push rate a client may ask for, messages/s' },
  maxPushCount: { flag: 'max-push-count', help: 'most messages one push request may ask for' },
  keepAliveTimeoutMs: { flag: 'keep-alive-timeout-ms', help: 'an idle HTTP keep-alive connection is closed after this long' },
  sseHeartbeatMs: { flag: 'sse-heartbeat-ms', help: 'SSE comment line after this long without an event (0: never)' },
  maxBufferedBytes: {
    flag: 'max-buffered-bytes',
    help: 'output a slow client may have queued: WebSocket/TCP messages beyond are skipped, an SSE stream is ended (both counted)',
  },
  maxHeaderBytes: { flag: 'max-header-bytes', help: 'HTTP request line and headers at most, bytes (431 above)' },
  headersTimeoutMs: { flag: 'headers-timeout-ms', help: "an HTTP request's headers must arrive within this long (408 after)" },
  frameTimeoutMs: {
    flag: 'frame-timeout-ms',
    help: 'TCP: a frame begun must arrive whole within this long, or the connection is dropped (idle ones are kept)',
  },
  maxConnections: { flag: 'max-connections', help: 'open TCP connections to the listener at most; one more is closed at once' },
  maxPushStreams: { flag: 'max-push-streams', help: 'pushes one client may run at once (429, WebSocket close 1008, TCP error frame above)' },
};

function usage(): string {
  const limits = Object.entries(LIMIT_OPTIONS).map(
    ([key, option]) => `  --${option.flag.padEnd(24)} ${option.help} (default ${DEFAULT_LIMITS[key as keyof ServerLimits]})`,
  );
  return [
    'Usage: npm run server -- --transport <name> [options]',
    '',
    'Runs one wirecost transport server. Prints one JSON line when it listens:',
    '  {"ready":true,"transport":"websocket","port":54321,"pid":123,"tls":false,"http":"1.1"}',
    '  ("http" is null for tcp, which speaks no HTTP)',
    'and stops gracefully on SIGTERM or SIGINT (exit code 0); a second one, a second or more later, stops it at once.',
    '',
    'Options:',
    `  --transport <name>         one of ${TRANSPORTS.join(', ')} (required)`,
    '  --port <n>                 TCP port; 0 picks a free one (default 0)',
    '  --host <address>           address to bind (default 127.0.0.1)',
    '  --processes <n>            worker processes (default 1). websocket, tcp: one port, each worker accepting its own',
    '                             connections; short-poll, long-poll, sse: a port per worker (--port P: P, P+1, ...), a',
    "                             client's requests must all reach one worker (its mailbox is there). Limits are per worker",
    '  --cluster-scheduling <rr|none> a shared port: rr, the primary hands each connection to the next worker (even; default);',
    '                             none, the workers accept their own (faster, uneven: a worker at its file limit closes new ones)',
    '  --per-message-deflate      websocket: negotiate permessage-deflate (default off)',
    '  --allow-origin <origin>    a browser origin allowed beyond loopback pages (http(s)://127.0.0.1, localhost, [::1], any',
    '                             port); repeatable or a comma list; * allows any. Others: 403 (default: loopback only)',
    '  --tls-cert <file>          with --tls-key: TLS on every transport (https, wss, TLS over TCP); PEM files',
    "  --tls-key <file>           the certificate's private key (PEM)",
    '  --tls-version <v>          with TLS: 1.3 or 1.2, the only version served (default 1.3)',
    `  --http <v>                 ${HTTP2_TRANSPORTS.join(', ')}: 1.1 or 2; 2 over TLS is h2 (ALPN), without TLS h2c (default 1.1)`,
    ...limits,
    '  --help                     this text',
  ].join('\n');
}

function parseInteger(raw: string, flag: string, min: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw)))
    throw new UsageError(`--${flag} must be a whole number of at least ${min}, not "${raw}"`);
  return Number(raw);
}

/** --allow-origin values, each a comma list: `*` or origins such as https://example.com:8443. */
function parseAllowOrigins(raw: readonly string[]): string[] {
  const origins = raw.flatMap((value) => value.split(',')).map((value) => value.trim());
  for (const origin of origins) {
    if (origin !== ANY_ORIGIN && normalizeOrigin(origin) === undefined) {
      throw new UsageError(`--allow-origin takes * or an origin (scheme://host[:port], nothing after it), not "${origin}"`);
    }
  }
  return origins;
}

export interface MainOptions {
  transport: TransportName;
  port: number;
  host: string;
  /** Worker processes (servers/cluster.ts); 1: this process serves. */
  processes: number;
  /** How a shared port's connections reach the workers (servers/cluster.ts). */
  scheduling: ClusterScheduling;
  options: ServerOptions;
}

/** Reads a PEM file an option names; what cannot be read is a usage error. */
function readPemFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${flag} ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** --tls-cert, --tls-key and --tls-version: undefined without TLS; the certificate and key are read and checked to match. */
function parseTls(cert: string | undefined, key: string | undefined, version: string | undefined): ServerTls | undefined {
  if (cert === undefined && key === undefined) {
    if (version !== undefined) throw new UsageError('--tls-version needs --tls-cert and --tls-key');
    return undefined;
  }
  if (cert === undefined || key === undefined) throw new UsageError('--tls-cert and --tls-key go together: give both');
  const tlsVersion = version ?? '1.3';
  if (!(TLS_VERSIONS as readonly string[]).includes(tlsVersion)) {
    throw new UsageError(`--tls-version must be one of ${TLS_VERSIONS.join(', ')}, not "${tlsVersion}"`);
  }
  const settings: ServerTls = { certPem: readPemFile(cert, 'tls-cert'), keyPem: readPemFile(key, 'tls-key'), version: tlsVersion as ServerTls['version'] };
  try {
    tls.createSecureContext({ cert: settings.certPem, key: settings.keyPem });
  } catch (error) {
    throw new UsageError(
      `--tls-cert ${cert} and --tls-key ${key} are no certificate and matching key: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return settings;
}

/** --http: 1.1 for every transport, 2 for the HTTP transports only. */
function parseHttpVersion(raw: string, transport: TransportName): HttpVersion {
  if (!(HTTP_VERSIONS as readonly string[]).includes(raw)) throw new UsageError(`--http must be one of ${HTTP_VERSIONS.join(', ')}, not "${raw}"`);
  if (raw === '2' && !HTTP2_TRANSPORTS.includes(transport)) {
    throw new UsageError(
      transport === 'websocket'
        ? '--http 2 is for short-poll, long-poll and sse: the websocket server upgrades HTTP/1.1 connections (WebSockets over HTTP/2 are not served)'
        : '--http 2 is for short-poll, long-poll and sse: tcp speaks no HTTP',
    );
  }
  return raw as HttpVersion;
}

export function parseMainArgs(args: string[]): MainOptions | 'help' {
  const limitFlags = Object.fromEntries(Object.values(LIMIT_OPTIONS).map((option) => [option.flag, { type: 'string' as const }]));
  const parsed = parseCommandLine({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      transport: { type: 'string' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      processes: { type: 'string', default: '1' },
      'cluster-scheduling': { type: 'string', default: 'rr' },
      'per-message-deflate': { type: 'boolean', default: false },
      'allow-origin': { type: 'string', multiple: true, default: [] },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-version': { type: 'string' },
      http: { type: 'string', default: '1.1' },
      help: { type: 'boolean', default: false },
      ...limitFlags,
    },
  });
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help === true) return 'help';
  const transport = values.transport;
  if (typeof transport !== 'string') throw new UsageError(`--transport is required: one of ${TRANSPORTS.join(', ')}`);
  if (!isTransportName(transport)) throw new UsageError(`unknown transport "${transport}": use one of ${TRANSPORTS.join(', ')}`);
  const port = parseInteger(String(values.port), 'port', 0);
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  const processes = parseInteger(String(values.processes), 'processes', 1);
  const scheduling = String(values['cluster-scheduling']);
  if (scheduling !== 'rr' && scheduling !== 'none') throw new UsageError(`--cluster-scheduling takes rr or none, not "${scheduling}"`);
  if (processes > 64) throw new UsageError('--processes goes up to 64');
  if (port > 0 && portPerWorker(transport) && port + processes - 1 > 65535)
    throw new UsageError(`--port ${port} leaves no room for ${processes} workers' ports`);
  const limits: ServerLimits = { ...DEFAULT_LIMITS };
  for (const [key, option] of Object.entries(LIMIT_OPTIONS)) {
    const raw = values[option.flag];
    if (typeof raw === 'string') limits[key as keyof ServerLimits] = parseInteger(raw, option.flag, key === 'sseHeartbeatMs' ? 0 : 1);
  }
  const allowOrigins = parseAllowOrigins(parsed.values['allow-origin']);
  const httpVersion = parseHttpVersion(String(values.http), transport);
  const tlsSettings = parseTls(parsed.values['tls-cert'], parsed.values['tls-key'], parsed.values['tls-version']);
  const options: ServerOptions = { limits, perMessageDeflate: values['per-message-deflate'] === true, allowOrigins, httpVersion };
  if (tlsSettings !== undefined) options.tls = tlsSettings;
  return { transport, port, host: String(values.host), processes, scheduling, options };
}

/** The ready line's fields beyond the port: whether the server speaks TLS, and which HTTP (null: tcp, no HTTP at all); a primary's adds its workers' ports and pids. */
export function readyLine(parsed: MainOptions, port: number, pid: number, workers?: { ports: number[]; pids: number[] }): string {
  const http = parsed.transport === 'tcp' ? null : (parsed.options.httpVersion ?? '1.1');
  return JSON.stringify({
    ready: true,
    transport: parsed.transport,
    port,
    ...(workers === undefined ? {} : { ports: workers.ports }),
    pid,
    ...(workers === undefined ? {} : { workers: workers.pids }),
    tls: parsed.options.tls !== undefined,
    http,
  });
}

/** A signal repeated within this long of the first is the same stop request; later, it stops the server at once. */
const REPEATED_SIGNAL_MS = 1_000;

type IpcRequest = { type: 'stats' } | { type: 'broadcast'; sizeBytes: number };

export const SERVER_COMMAND: Command<MainOptions> = { name: 'server', usage, parse: parseMainArgs };

async function main(): Promise<void> {
  const read = readCommandLine(SERVER_COMMAND, process.argv.slice(2));
  if ('exitCode' in read) {
    process.exitCode = read.exitCode;
    return;
  }
  const parsed = read.options;
  if (parsed.processes > 1 && cluster.isPrimary) return primary(parsed);
  const index = workerIndex();
  const server = SERVER_FACTORIES[parsed.transport](parsed.options);
  const port =
    index === undefined
      ? await server.listen(parsed.port, parsed.host)
      : await server.listen(workerPort(parsed.transport, parsed.port, index), parsed.host, portPerWorker(parsed.transport));

  let stoppingSince: number | undefined;
  const stop = (signal: string): void => {
    if (stoppingSince !== undefined) {
      // npm relays the Ctrl-C the terminal also sent the server: a repeat this soon is the same request
      if (performance.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
      process.stderr.write(`servers/main.ts: second ${signal}, exiting at once\n`);
      process.exit(1);
    }
    stoppingSince = performance.now();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`servers/main.ts: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (process.send !== undefined) {
    process.on('message', (message: IpcRequest) => {
      if (message.type === 'stats') process.send?.({ type: 'stats', stats: server.stats() });
      else if (message.type === 'broadcast') process.send?.({ type: 'broadcast', clients: server.broadcast({ sizeBytes: message.sizeBytes }) });
    });
    process.on('disconnect', () => stop('disconnect'));
  }
  // a worker tells its primary, which prints the one ready line for all
  if (index !== undefined) process.send?.({ type: 'worker-ready', port, pid: process.pid } satisfies WorkerReady);
  else process.stdout.write(`${readyLine(parsed, port, process.pid)}\n`);
}

/** The primary of --processes N: forks the workers, speaks for them, stops them on a signal. */
async function primary(parsed: MainOptions): Promise<void> {
  const { cluster: workers, ready } = await ServerCluster.start(parsed.transport, parsed.processes, process.argv.slice(2), parsed.scheduling);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    workers.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`servers/main.ts: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.send !== undefined) {
    process.on('message', (message: IpcRequest) => {
      const answer =
        message.type === 'stats'
          ? workers.stats().then((stats) => ({ type: 'stats', stats }))
          : workers.broadcast(message.sizeBytes).then((clients) => ({ type: 'broadcast', clients }));
      answer.then(
        (reply) => process.send?.(reply),
        (error: unknown) => process.stderr.write(`servers/main.ts: ${message.type} failed: ${String(error)}\n`),
      );
    });
    process.on('disconnect', stop);
  }
  process.stdout.write(`${readyLine(parsed, ready.ports[0]!, process.pid, ready)}\n`);
}

await main();
