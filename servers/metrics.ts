/** The counters a server keeps: connections, requests, messages, errors and socket bytes. */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ErrorCause, ServerCounters, ServerStats, TransportName } from './contract.ts';

const ERROR_CAUSES: readonly ErrorCause[] = [
  'bad-request',
  'too-large',
  'unknown-client',
  'mailbox-full',
  'not-found',
  'method-not-allowed',
  'too-many-clients',
  'too-many-pushes',
  'origin-not-allowed',
  'internal',
  'socket',
  'dropped-slow-consumer',
  'closed-slow-consumer',
  'resume-gap',
  'timeout',
  'too-many-connections',
];

/** Every counter at zero. */
export function emptyServerCounters(): ServerCounters {
  return {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    requests: 0,
    messagesIn: 0,
    messagesOut: 0,
    eventsCreated: 0,
    evictedDelivered: 0,
    errors: Object.fromEntries(ERROR_CAUSES.map((cause) => [cause, 0])) as Record<ErrorCause, number>,
    writesBackpressured: 0,
    bytesRead: 0,
    bytesWritten: 0,
  };
}

export class ServerMetrics {
  readonly counters: ServerCounters = emptyServerCounters();
  private readonly openSockets = new Set<Socket>();

  constructor(readonly transport: TransportName) {}

  /** Counts a newly accepted connection and, once it closes, the bytes it carried. */
  trackSocket(socket: Socket): void {
    this.counters.connectionsAccepted += 1;
    this.counters.connectionsOpen += 1;
    this.openSockets.add(socket);
    socket.once('close', () => {
      this.openSockets.delete(socket);
      this.counters.connectionsOpen -= 1;
      this.counters.bytesRead += socket.bytesRead;
      this.counters.bytesWritten += socket.bytesWritten;
    });
  }

  error(cause: ErrorCause, count = 1): void {
    this.counters.errors[cause] += count;
  }

  /** Every socket still open, for a graceful stop. */
  sockets(): Iterable<Socket> {
    return this.openSockets;
  }

  snapshot(clients: number): ServerStats {
    let bytesRead = this.counters.bytesRead;
    let bytesWritten = this.counters.bytesWritten;
    for (const socket of this.openSockets) {
      bytesRead += socket.bytesRead;
      bytesWritten += socket.bytesWritten;
    }
    const cpu = process.cpuUsage();
    const usage = process.resourceUsage();
    const loop = performance.eventLoopUtilization();
    return {
      ...this.counters,
      errors: { ...this.counters.errors },
      bytesRead,
      bytesWritten,
      transport: this.transport,
      pid: process.pid,
      clients,
      cpuUserMicros: cpu.user,
      cpuSystemMicros: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      maxRssBytes: usage.maxRSS * 1024,
      eventLoopActiveMs: loop.active,
      eventLoopIdleMs: loop.idle,
    };
  }
}
