/**
 * The client side of "from 150 ms to 50 ms" (first-message.ts), run inside the client's
 * namespace: polls on new connections, in plaintext and over TLS (a full handshake each: no
 * session is resumed), polls on one keep-alive connection, and frames pushed down an open
 * WebSocket; prints what it timed, as one JSON line.
 *
 *   node --import tsx bench/link/first-message-client.ts '{"host":"100.64.0.2","pollPort":8080,"websocketPort":8081,"samples":5,"pauseMs":100}'
 */
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { ROUTES, clockNowMs, decodeServerEvent, type TlsVersion } from '../../servers/contract.ts';
import { clientTlsOptions } from '../clients/secure-connection.ts';

export interface ClientPlan {
  host: string;
  pollPort: number;
  websocketPort: number;
  samples: number;
  pauseMs: number;
  /** Short-poll servers over TLS, one per version (each serves only its own), and the CA (PEM) their certificate is trusted by. */
  tls?: { ca: string; servers: { version: TlsVersion; port: number }[] };
  /** A WebSocket server over TLS (its certificate trusted by tls.ca): frames down an open wss connection. */
  websocketTls?: { version: TlsVersion; port: number };
}

/** A poll on a new TLS connection: its local port, when TCP was connected, the handshake done, and the first byte of the answer (ms from the connect call). */
export interface TlsPollTimes {
  version: TlsVersion;
  port: number;
  connectedMs: number;
  secureMs: number;
  answerMs: number;
}

export interface ClientTimes {
  /** Each poll on a new connection: its local port, when it was connected and answered (ms from the connect call). */
  newConnection: { port: number; connectedMs: number; answerMs: number }[];
  /** Each poll on a new TLS connection, in the order made (none without plan.tls). */
  newTlsConnection: TlsPollTimes[];
  /** The keep-alive connection's local port (it registered the client first), and each poll's answer (ms from the request). */
  keepAlive: { port: number; answerMs: number[] };
  /** Each frame's latency: receipt less the server's send stamp. */
  websocket: { latencyMs: number[] };
  /** The same over TLS (none without plan.websocketTls). */
  websocketOverTls?: { version: TlsVersion; latencyMs: number[] };
}

/** Reads one HTTP response off `socket` (Content-Length bodies, or up to the end for Connection: close); resolves with when its first byte came and its body. */
function response(socket: net.Socket): Promise<{ firstByteMs: number; body: string }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let firstByteMs: number | undefined;
    const done = (body: string): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', reject);
      resolve({ firstByteMs: firstByteMs ?? clockNowMs(), body });
    };
    const onData = (chunk: Buffer): void => {
      firstByteMs ??= clockNowMs();
      buffered = Buffer.concat([buffered, chunk]);
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const length = /content-length:\s*(\d+)/i.exec(buffered.subarray(0, headEnd).toString('latin1'))?.[1];
      if (length !== undefined && buffered.length >= headEnd + 4 + Number(length)) done(buffered.subarray(headEnd + 4).toString('utf8'));
    };
    const onEnd = (): void => {
      const headEnd = buffered.indexOf('\r\n\r\n');
      done(headEnd < 0 ? '' : buffered.subarray(headEnd + 4).toString('utf8'));
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', reject);
  });
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A TLS connection of `version` (only), trusting `ca`, offering HTTP/1.1 by ALPN as a browser would; resolves at 'secureConnect' with when TCP connected. */
function connectTls(host: string, port: number, version: TlsVersion, ca: string): Promise<{ socket: tls.TLSSocket; tcpConnectedMs: number }> {
  return new Promise((resolve, reject) => {
    // no servername: the host is an address (SNI carries names only); the certificate is checked against it all the same
    const socket = tls.connect({ host, port, ...clientTlsOptions({ version, ca }, ['http/1.1']) });
    // Nagle off, so that the request is not held behind the unacknowledged Finished
    socket.setNoDelay(true);
    let tcpConnectedMs = Number.NaN;
    socket.once('connect', () => (tcpConnectedMs = clockNowMs()));
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve({ socket, tcpConnectedMs });
    });
    socket.once('error', reject);
  });
}

/** Registers a client on a TLS server, on a connection of its own (not timed). */
async function registerOverTls(plan: ClientPlan, version: TlsVersion, port: number, ca: string): Promise<string> {
  const { socket } = await connectTls(plan.host, port, version, ca);
  const registered = response(socket);
  socket.write(request('POST', ROUTES.clients, `${plan.host}:${port}`, true));
  const { clientId } = JSON.parse((await registered).body) as { clientId: string };
  socket.destroy();
  return clientId;
}

/** `samples` polls on new TLS connections to each server of plan.tls, with `Connection: close`, each with a full handshake; the servers' at once. */
async function timeTlsPolls(plan: ClientPlan): Promise<TlsPollTimes[]> {
  if (plan.tls === undefined) return [];
  const { ca, servers } = plan.tls;
  const perServer = await Promise.all(
    servers.map(async ({ version, port }) => {
      const times: TlsPollTimes[] = [];
      const clientId = await registerOverTls(plan, version, port, ca);
      const poll = `${ROUTES.messages}?client=${encodeURIComponent(clientId)}&after=0`;
      await sleep(plan.pauseMs);
      for (let i = 0; i < plan.samples; i++) {
        const startedMs = clockNowMs();
        const { socket, tcpConnectedMs } = await connectTls(plan.host, port, version, ca);
        const secureMs = clockNowMs() - startedMs;
        // a TLSSocket's 'data' is application data only: the session tickets TLS 1.3 sends do not count as the answer
        const answered = response(socket);
        socket.write(request('GET', poll, `${plan.host}:${port}`, true));
        const { firstByteMs } = await answered;
        times.push({ version, port: socket.localPort!, connectedMs: tcpConnectedMs - startedMs, secureMs, answerMs: firstByteMs - startedMs });
        socket.destroy();
        await sleep(plan.pauseMs);
      }
      return times;
    }),
  );
  return perServer.flat();
}

function request(method: string, path: string, host: string, close: boolean): string {
  return `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`;
}

/** Polls on new plaintext connections, then on one keep-alive connection, to the plaintext poll server (one client's polls, one at a time). */
async function timePlaintextPolls(plan: ClientPlan): Promise<Pick<ClientTimes, 'newConnection' | 'keepAlive'>> {
  const host = `${plan.host}:${plan.pollPort}`;
  const keep = await connect(plan.host, plan.pollPort);
  const registered = response(keep);
  keep.write(request('POST', ROUTES.clients, host, false));
  const { clientId } = JSON.parse((await registered).body) as { clientId: string };
  const poll = `${ROUTES.messages}?client=${encodeURIComponent(clientId)}&after=0`;
  await sleep(plan.pauseMs);

  const newConnection: ClientTimes['newConnection'] = [];
  for (let i = 0; i < plan.samples; i++) {
    const startedMs = clockNowMs();
    const socket = await connect(plan.host, plan.pollPort);
    const connectedMs = clockNowMs() - startedMs;
    const answered = response(socket);
    socket.write(request('GET', poll, host, true));
    const { firstByteMs } = await answered;
    newConnection.push({ port: socket.localPort!, connectedMs, answerMs: firstByteMs - startedMs });
    socket.destroy();
    await sleep(plan.pauseMs);
  }

  const keepAlive: ClientTimes['keepAlive'] = { port: keep.localPort!, answerMs: [] };
  for (let i = 0; i < plan.samples; i++) {
    const startedMs = clockNowMs();
    const answered = response(keep);
    keep.write(request('GET', poll, host, false));
    keepAlive.answerMs.push((await answered).firstByteMs - startedMs);
    await sleep(plan.pauseMs);
  }
  keep.destroy();
  return { newConnection, keepAlive };
}

/** Frames pushed down an open WebSocket: each one's latency, receipt less the server's send stamp. */
async function timeWebSocketFrames(plan: ClientPlan, over?: { version: TlsVersion; port: number; ca: string }): Promise<ClientTimes['websocket']> {
  const socket =
    over === undefined
      ? new WebSocket(`ws://${plan.host}:${plan.websocketPort}${ROUTES.websocket}`, { perMessageDeflate: false })
      : new WebSocket(`wss://${plan.host}:${over.port}${ROUTES.websocket}`, {
          perMessageDeflate: false,
          ...clientTlsOptions({ version: over.version, ca: over.ca }),
        });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const latencyMs: number[] = [];
  const received = new Promise<void>((resolve) => {
    socket.on('message', (data: Buffer) => {
      const event = decodeServerEvent(data.toString('utf8'));
      if (event === undefined) return;
      latencyMs.push(clockNowMs() - event.sentAtMs);
      if (latencyMs.length >= plan.samples) resolve();
    });
  });
  // a control request is a binary frame (text frames are echoed)
  socket.send(Buffer.from(JSON.stringify({ op: 'push', ratePerSecond: 1000 / plan.pauseMs, sizeBytes: 16, count: plan.samples })), { binary: true });
  await received;
  socket.terminate();
  return { latencyMs };
}

/**
 * Every measurement at once, each on connections of its own (the trace tells them apart by the
 * client's port): the path has no rate limit, so one connection's packets do not delay
 * another's, and the whole takes the longest of them rather than their sum.
 */
export async function timeFirstMessages(plan: ClientPlan): Promise<ClientTimes> {
  const overTls = plan.websocketTls === undefined || plan.tls === undefined ? undefined : { ...plan.websocketTls, ca: plan.tls.ca };
  const [plaintext, newTlsConnection, websocket, websocketOverTls] = await Promise.all([
    timePlaintextPolls(plan),
    timeTlsPolls(plan),
    timeWebSocketFrames(plan),
    overTls === undefined ? undefined : timeWebSocketFrames(plan, overTls),
  ]);
  return {
    ...plaintext,
    newTlsConnection,
    websocket,
    ...(overTls === undefined || websocketOverTls === undefined ? {} : { websocketOverTls: { version: overTls.version, ...websocketOverTls } }),
  };
}

if (process.argv[1]?.endsWith('first-message-client.ts')) {
  const plan = JSON.parse(process.argv[2] ?? '{}') as ClientPlan;
  const times = await timeFirstMessages(plan);
  process.stdout.write(`${JSON.stringify(times)}\n`);
  process.exit(0);
}
