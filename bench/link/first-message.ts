/**
 * "From 150 ms to 50 ms", both sides measured on the netns link with 50 ms one way: a poll on a
 * new connection (the TCP handshake, then the request: the server has it after 150 ms, the
 * answer is back at 200 ms), the same over TLS 1.3 and TLS 1.2 (the handshake's round trips
 * come before the request), a poll on a keep-alive connection (50 ms and 100 ms), and one frame
 * down an open WebSocket (50 ms). The suite's own servers answer; the client side runs in the
 * client's namespace (first-message-client.ts) and times what it sees; the forwarder's trace
 * times every packet on the path, so that "until the server has it" is measured too: when the
 * request's first byte was delivered into the server's namespace (over TLS, the request's whole
 * flight: request-flight.ts).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TLS_VERSIONS, type TlsVersion } from '../../servers/contract.ts';
import type { FirstMessage, NewTlsConnectionPoll, Results } from '../result.ts';
import { createRunCertificate, removeRunCertificate } from '../run-certificate.ts';
import { ServerProcess, type ServerTlsFiles } from '../server-process.ts';
import type { TlsCertificate } from '../tls-certificate.ts';
import { NETNS_SERVER_PORT, netnsServerArgs, type LinkChoice } from './index.ts';
import { NetnsLink, symmetricPath, type TracedPacket } from './netns.ts';
import { requestFlightTimeline } from './request-flight.ts';
import type { ClientPlan, ClientTimes, TlsPollTimes } from './first-message-client.ts';

const CLIENT = fileURLToPath(new URL('./first-message-client.ts', import.meta.url));
export const FIRST_MESSAGE_ONE_WAY_MS = 50;
const WEBSOCKET_PORT = NETNS_SERVER_PORT + 1;
/** A short-poll server over TLS per version (a server speaks only the version it is given): 8082 for TLS 1.3, 8083 for TLS 1.2. */
const TLS_PORTS: Readonly<Record<TlsVersion, number>> = { '1.3': NETNS_SERVER_PORT + 2, '1.2': NETNS_SERVER_PORT + 3 };
/** The WebSocket server over TLS 1.3 (frames down an open wss connection). */
const WEBSOCKET_TLS = { version: '1.3', port: NETNS_SERVER_PORT + 4 } as const;
const TRACE_PACKETS = 10_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const ms = (us: number): number => us / 1000;

/** Every packet of one TCP connection, by its client-side port, in the order read. */
function connection(packets: TracedPacket[], port: number): TracedPacket[] {
  return packets.filter((packet) => (packet.up ? packet.sourcePort : packet.destinationPort) === port);
}

/** Each poll on the keep-alive connection (after the registration), from the request leaving the client. */
function keepAliveTimelines(packets: TracedPacket[]): { serverHasRequestMs: number; answerMs: number }[] {
  const requests = packets.filter((packet) => packet.up && packet.payloadBytes > 0).slice(1);
  return requests.map((request) => {
    const answer = packets.find((packet) => !packet.up && packet.payloadBytes > 0 && packet.readUs > request.readUs);
    if (request.deliveredUs === undefined || answer?.deliveredUs === undefined) throw new Error('the trace lacks a packet of a keep-alive poll');
    return { serverHasRequestMs: ms(request.deliveredUs - request.readUs), answerMs: ms(answer.deliveredUs - request.readUs) };
  });
}

/**
 * The frames pushed down the one WebSocket connection to `serverPort`: the server's packets with
 * payload after the client's last (its push request; before it come the upgrade and, over TLS,
 * the handshake and its session tickets).
 */
function websocketFrames(packets: TracedPacket[], serverPort: number): TracedPacket[] {
  const clientPort = packets.find((packet) => packet.up && packet.destinationPort === serverPort)?.sourcePort;
  if (clientPort === undefined) return [];
  const mine = connection(packets, clientPort);
  const lastUpUs = Math.max(...mine.filter((packet) => packet.up && packet.payloadBytes > 0).map((packet) => packet.readUs));
  return mine.filter((packet) => !packet.up && packet.payloadBytes > 0 && packet.readUs > lastUpUs);
}

/** Each version's polls on new TLS connections, from the trace (by the client's port) and the client's own timing. */
function newTlsConnectionPolls(packets: TracedPacket[], polls: TlsPollTimes[], oneWayMs: number): NewTlsConnectionPoll[] {
  return TLS_VERSIONS.flatMap((version) => {
    const mine = polls.filter((poll) => poll.version === version);
    if (mine.length === 0) return [];
    const timelines = mine.map((poll) => requestFlightTimeline(connection(packets, poll.port), oneWayMs));
    return [
      {
        version,
        handshakeRoundTrips: median(timelines.map((timeline) => timeline.handshakeRoundTrips)),
        connectedMs: median(timelines.map((timeline) => timeline.connectedMs)),
        serverHasRequestMs: median(timelines.map((timeline) => timeline.serverHasRequestMs)),
        answerMs: median(timelines.map((timeline) => timeline.answerMs)),
        clientAnswerMs: median(mine.map((poll) => poll.answerMs)),
        bytesBeforeRequest: {
          up: median(timelines.map((timeline) => timeline.bytesBeforeRequest.up)),
          down: median(timelines.map((timeline) => timeline.bytesBeforeRequest.down)),
        },
      },
    ];
  });
}

function runClient(link: NetnsLink, plan: ClientPlan): Promise<ClientTimes> {
  const [command, ...prefix] = link.inNamespace('client');
  return new Promise((resolve, reject) => {
    execFile(
      command!,
      [...prefix, process.execPath, '--import', 'tsx', CLIENT, JSON.stringify(plan)],
      { encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`the first-message client failed: ${stderr.trim() || error.message}`));
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ClientTimes);
      },
    );
  });
}

/** Measures both sides of "from 150 ms to 50 ms" on a netns link with `oneWayMs` each way; `samples` of each. */
export async function measureFirstMessage(samples = 5, oneWayMs = FIRST_MESSAGE_ONE_WAY_MS): Promise<FirstMessage> {
  const link = await NetnsLink.start(symmetricPath({ delayMs: oneWayMs }));
  const servers: ServerProcess[] = [];
  // the TLS servers' certificate, made for this measurement (it names the link's server address) and removed after it
  let certificate: TlsCertificate | undefined;
  try {
    certificate = await createRunCertificate();
    const start = (transport: 'short-poll' | 'websocket', port: number, tls?: ServerTlsFiles): Promise<ServerProcess> =>
      ServerProcess.start(transport, {
        host: link.serverAddress,
        pinCommand: link.inNamespace('server'),
        args: [...netnsServerArgs(link.serverAddress), '--port', String(port)],
        ...(tls === undefined ? {} : { tls }),
      });
    // all at once (each takes a node's start-up); every one that started is stopped after, whichever failed
    const files = { certPath: certificate.certPath, keyPath: certificate.keyPath };
    const started = await Promise.allSettled([
      start('short-poll', NETNS_SERVER_PORT),
      start('websocket', WEBSOCKET_PORT),
      ...TLS_VERSIONS.map((version) => start('short-poll', TLS_PORTS[version], { ...files, version })),
      start('websocket', WEBSOCKET_TLS.port, { ...files, version: WEBSOCKET_TLS.version }),
    ]);
    for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    link.trace(TRACE_PACKETS);
    const times = await runClient(link, {
      host: link.serverAddress,
      pollPort: NETNS_SERVER_PORT,
      websocketPort: WEBSOCKET_PORT,
      samples,
      pauseMs: 4 * oneWayMs,
      tls: { ca: certificate.certPem, servers: TLS_VERSIONS.map((version) => ({ version, port: TLS_PORTS[version] })) },
      websocketTls: WEBSOCKET_TLS,
    });
    await link.quiet(oneWayMs + 20, 5_000);
    const packets = await link.traced();
    // a plaintext poll is a request in the first flight: the same timeline as over TLS, with no handshake round trip
    const fresh = times.newConnection.map((poll) => requestFlightTimeline(connection(packets, poll.port), oneWayMs));
    const kept = keepAliveTimelines(connection(packets, times.keepAlive.port));
    const frames = websocketFrames(packets, WEBSOCKET_PORT);
    const framesOverTls = websocketFrames(packets, WEBSOCKET_TLS.port);
    const onTheWireMs = (some: TracedPacket[]): number =>
      median(some.flatMap((frame) => (frame.deliveredUs === undefined ? [] : [ms(frame.deliveredUs - frame.readUs)])));
    return {
      oneWayDelayMs: oneWayMs,
      samples,
      newConnectionPoll: {
        connectedMs: median(fresh.map((poll) => poll.connectedMs)),
        serverHasRequestMs: median(fresh.map((poll) => poll.serverHasRequestMs)),
        answerMs: median(fresh.map((poll) => poll.answerMs)),
        clientAnswerMs: median(times.newConnection.map((poll) => poll.answerMs)),
      },
      keepAlivePoll: {
        serverHasRequestMs: median(kept.map((poll) => poll.serverHasRequestMs)),
        answerMs: median(kept.map((poll) => poll.answerMs)),
        clientAnswerMs: median(times.keepAlive.answerMs),
      },
      websocketFrame: { onTheWireMs: onTheWireMs(frames), clientLatencyMs: median(times.websocket.latencyMs) },
      ...(times.websocketOverTls === undefined || framesOverTls.length === 0
        ? {}
        : {
            websocketFrameOverTls: {
              version: times.websocketOverTls.version,
              onTheWireMs: onTheWireMs(framesOverTls),
              clientLatencyMs: median(times.websocketOverTls.latencyMs),
            },
          }),
      newTlsConnectionPoll: newTlsConnectionPolls(packets, times.newTlsConnection, oneWayMs),
    };
  } finally {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await link.close();
    if (certificate !== undefined) await removeRunCertificate(certificate);
  }
}

/** The suite's "from 150 ms to 50 ms": measured where the netns link runs, else why not; a failure is kept, not thrown. */
export async function firstMessageFor(link: LinkChoice | undefined, log: (line: string) => void): Promise<NonNullable<Results['firstMessage']>> {
  if (link?.method !== 'netns') return { skipped: `it needs the netns link: ${link?.reason ?? 'no link was chosen'}` };
  log(
    `"from 150 ms to 50 ms": polls on new connections (plaintext, TLS 1.3, TLS 1.2) and keep-alive ones, WebSocket frames, ${FIRST_MESSAGE_ONE_WAY_MS} ms one way...`,
  );
  try {
    return await measureFirstMessage();
  } catch (error) {
    const failed = error instanceof Error ? error.message : String(error);
    log(`"from 150 ms to 50 ms" FAILED: ${failed}`);
    return { failed };
  }
}
