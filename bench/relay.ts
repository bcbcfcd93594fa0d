/**
 * A TCP relay that emulates a network link between the driver and a server, with no privileges:
 * each direction is delayed by half the round-trip time and limited to a rate, and bytes are
 * never reordered. TCP's own behaviour on a real link (slow start, delayed ACKs, loss) is not
 * emulated: the relay's sockets are on loopback; the netns link (bench/link/) emulates them.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { listenOn } from '../servers/listen.ts';

export interface LinkShape {
  /** Round-trip time added to the link; each direction gets half. */
  rttMs: number;
  /** Bits per second each direction may carry; 0: no limit. */
  bandwidthBitsPerSecond: number;
}

/** Bytes a direction may hold before it stops reading from its source (TCP backpressure does the rest). */
const QUEUE_LIMIT_BYTES = 4 * 1024 * 1024;

/** What every connection of a relay shares: a network cut holds every byte until it ends. */
interface LinkState {
  cutUntilMs: number;
}

/** One direction of one connection: chunks released in order, each at its due time. */
class DelayLine {
  private readonly queue: { dueMs: number; chunk: Buffer }[] = [];
  private queuedBytes = 0;
  /** When the link finishes sending what it was given so far (the rate limit). */
  private busyUntilMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private ending = false;

  constructor(
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
    private readonly shape: LinkShape,
    private readonly link: LinkState,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk));
    source.on('end', () => {
      this.ending = true;
      this.release();
    });
  }

  private push(chunk: Buffer): void {
    const now = performance.now();
    const transmitMs = this.shape.bandwidthBitsPerSecond > 0 ? (chunk.length * 8 * 1000) / this.shape.bandwidthBitsPerSecond : 0;
    this.busyUntilMs = Math.max(now, this.busyUntilMs) + transmitMs;
    this.queue.push({ dueMs: this.busyUntilMs + this.shape.rttMs / 2, chunk });
    this.queuedBytes += chunk.length;
    if (this.queuedBytes > QUEUE_LIMIT_BYTES) this.source.pause();
    this.release();
  }

  private release(): void {
    if (this.timer !== undefined) return;
    const now = performance.now();
    while (this.queue.length > 0 && this.releaseAtMs(this.queue[0]!.dueMs) <= now) {
      const { chunk } = this.queue.shift()!;
      this.queuedBytes -= chunk.length;
      if (!this.destination.destroyed) this.destination.write(chunk);
    }
    if (this.queuedBytes <= QUEUE_LIMIT_BYTES / 2 && this.source.isPaused()) this.source.resume();
    const next = this.queue[0];
    if (next !== undefined) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.release();
        },
        Math.max(0, this.releaseAtMs(next.dueMs) - now),
      );
    } else if (this.ending && !this.destination.destroyed) {
      this.destination.end();
    }
  }

  /** A chunk due during a network cut waits for its end. */
  private releaseAtMs(dueMs: number): number {
    return Math.max(dueMs, this.link.cutUntilMs);
  }

  /** Re-arms the timer after the link changed (a cut began). */
  reschedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.release();
  }

  destroy(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export class DelayRelay {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly lines = new Set<DelayLine>();
  private readonly link: LinkState = { cutUntilMs: 0 };

  private constructor(
    readonly target: { host: string; port: number },
    readonly shape: LinkShape,
  ) {
    this.server = net.createServer({ noDelay: true }, (client) => this.accept(client));
  }

  /** Listens on 127.0.0.1 (port 0) and relays every connection to `target`. */
  static async start(target: { host: string; port: number }, shape: LinkShape): Promise<DelayRelay> {
    const relay = new DelayRelay(target, shape);
    await listenOn(relay.server, 0, '127.0.0.1');
    return relay;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    }
    const lines = [new DelayLine(client, upstream, this.shape, this.link), new DelayLine(upstream, client, this.shape, this.link)];
    for (const line of lines) this.lines.add(line);
    const teardown = (): void => {
      for (const line of lines) {
        line.destroy();
        this.lines.delete(line);
      }
      client.destroy();
      upstream.destroy();
    };
    // a reset on one side resets the other, as a cable pulled at one end would
    client.once('error', teardown);
    upstream.once('error', teardown);
    client.once('close', () => upstream.destroyed || upstream.end());
    upstream.once('close', () => client.destroyed || client.end());
  }

  /** Cuts the link for `durationMs`: nothing passes either way; what arrives meanwhile is held, in order, and delivered after. */
  cut(durationMs: number): void {
    this.link.cutUntilMs = performance.now() + durationMs;
    for (const line of this.lines) line.reschedule();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const line of this.lines) line.destroy();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

/** Round trips timed each way (through the relay, and direct) to measure what the relay adds. */
export const RELAY_OVERHEAD_SAMPLES = 200;

/** NetworkEmulation's relayOverheadMs and relayOverheadSamples. */
export interface RelayOverhead {
  relayOverheadMs: number;
  /** Round trips timed through the relay, and as many direct. */
  relayOverheadSamples: number;
}

/**
 * What the relay itself adds at a round-trip time of 0: the median of `samples` round trips of
 * one small message to a local echo socket, through a relay with no delay, minus the same direct;
 * with the number of round trips timed each way. (`shape` gives the relay a delay instead, so
 * that the measurement can be checked against it.)
 */
export async function measureRelayOverhead(
  samples = RELAY_OVERHEAD_SAMPLES,
  shape: LinkShape = { rttMs: 0, bandwidthBitsPerSecond: 0 },
): Promise<RelayOverhead> {
  const echo = net.createServer({ noDelay: true }, (socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  const port = (echo.address() as net.AddressInfo).port;
  const relay = await DelayRelay.start({ host: '127.0.0.1', port }, shape);
  try {
    const direct = await medianRoundTrip(port, samples);
    const relayed = await medianRoundTrip(relay.port, samples);
    return { relayOverheadMs: Math.max(0, relayed.medianMs - direct.medianMs), relayOverheadSamples: Math.min(direct.count, relayed.count) };
  } finally {
    await relay.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  }
}

async function medianRoundTrip(port: number, samples: number): Promise<{ medianMs: number; count: number }> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve());
      socket.write('x');
    });
    times.push(performance.now() - started);
  }
  socket.destroy();
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)] ?? 0, count: times.length };
}
