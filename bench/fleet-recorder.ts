/**
 * What a fleet records while it runs, whichever engine drives its clients: every message
 * received (routed to echo, push or broadcast accounting), latency in the window, delivery by
 * sequence number, and, at the end, the fleet's result in a form that merges across fleets.
 */
import { performance } from 'node:perf_hooks';
import { clockNowMs, decodeEchoSeq, decodeServerEvent, isEchoReply } from '../servers/contract.ts';
import type { ClientWire, PollCounts } from './clients/transport-client.ts';
import { countError } from './clients/transport-client.ts';
import { SequenceTracker, summarizeDelivery } from './delivery.ts';
import { encodeHistogram, newHistogram, recordMs } from './latency.ts';
import type { Delivery, RunConfig } from './result.ts';
import { addWireBytes, emptyWireBytes, type WireBytes } from './wire.ts';

/** The measured window, on the clockNowMs() clock every process on the host shares. */
export interface FleetWindow {
  startMs: number;
  endMs: number;
}

export interface FleetResult {
  clients: number;
  histogram: string;
  /** broadcast: for each event seq, the latest arrival among this fleet's clients (ms after it was sent). */
  broadcastLastClientMs: Record<number, number>;
  delivery: Delivery;
  messagesInWindow: number;
  wire: WireBytes;
  socketBytes: { up: number; down: number };
  connectionsOpened: number;
  polls: PollCounts;
  errors: Record<string, number>;
  eventLoopUtilization: number;
  /** How far into the measured window the clients' setup (push requests) still went on; 0: it was done before. */
  lateSetupMs: number;
  /** When this fleet injected its fault (clockNowMs), and for how long it lasted. */
  fault?: { atMs: number; durationMs: number };
  /** The first bytes of the first client's first connection, base64, when the plan asked for them. */
  sample?: { up: string; down: string };
  /** The header series of the first client's first connection, when the plan asked for it. */
  headerSeries?: { requests: number[]; responses: number[] };
}

/**
 * Measures this thread's event-loop utilization over the window: from the window's start (or
 * now, if it has begun) to stop().
 */
export function meterWindowUtilization(window: FleetWindow): { stop(): number } {
  let start = performance.eventLoopUtilization();
  const timer = setTimeout(() => (start = performance.eventLoopUtilization()), Math.max(0, window.startMs - clockNowMs()));
  return {
    stop() {
      clearTimeout(timer);
      return performance.eventLoopUtilization(start).utilization;
    },
  };
}

/** The three steps every fleet offers the engine. */
export interface FleetHandle {
  connect(): Promise<void>;
  /** Drives the scenario until the window ends. */
  run(window: FleetWindow): Promise<void>;
  /** Waits for what is still on its way, closes every client and sums up. */
  finish(broadcastEvents: number): Promise<FleetResult>;
  /** After a failure: closes every client (and the worker) without summing up. */
  abort(): Promise<void>;
}

/** What one client has sent and received. */
export class ClientRecord {
  readonly echoes = new SequenceTracker();
  readonly pushes = new SequenceTracker();
  readonly broadcasts = new SequenceTracker();
  /** echo: send time (or intended send time) of each message awaiting its reply, by seq. */
  readonly awaiting = new Map<number, number>();
  echoSent = 0;
  /** echo: sends that failed (the message never reached the server: counted as an error, not a loss). */
  echoFailed = 0;
  pushExpected = 0;
  /** push: when the client asked for its push (clockNowMs), to tell where the stream should be. */
  pushRequestedAtMs = 0;
}

export type Received = 'echo-reply' | 'duplicate' | 'event' | 'unexpected';

export class FleetRecorder {
  readonly errors = new Map<string, number>();
  window: FleetWindow = { startMs: Infinity, endMs: Infinity };
  private readonly histogram = newHistogram();
  private readonly broadcastLatest = new Map<number, number>();
  private messagesInWindow = 0;

  constructor(private readonly config: RunConfig) {}

  /** Stamps the client's next echo message; returns its seq. */
  nextEcho(record: ClientRecord, sentAtMs: number): number {
    record.echoSent += 1;
    record.awaiting.set(record.echoSent, sentAtMs);
    return record.echoSent;
  }

  /** Accounts for one message a client received. */
  receive(record: ClientRecord, message: string | Buffer, receivedAtMs: number): Received {
    if (this.config.scenario === 'echo' || isEchoReply(message)) {
      const seq = decodeEchoSeq(message);
      if (seq === undefined) {
        countError(this.errors, new Error('a reply that quotes no message of this run'));
        return 'unexpected';
      }
      record.echoes.record(seq);
      const sentAtMs = record.awaiting.get(seq);
      if (sentAtMs === undefined) return 'duplicate'; // counted by the tracker
      record.awaiting.delete(seq);
      if (this.sentInWindow(sentAtMs)) this.inWindow(receivedAtMs - sentAtMs);
      return 'echo-reply';
    }
    const event = decodeServerEvent(message);
    if (event === undefined) {
      countError(this.errors, new Error('a message that is neither an echo nor a server event'));
      return 'unexpected';
    }
    const latencyMs = receivedAtMs - event.sentAtMs;
    if (event.kind === 'push') record.pushes.record(event.seq);
    else {
      record.broadcasts.record(event.seq);
      this.broadcastLatest.set(event.seq, Math.max(this.broadcastLatest.get(event.seq) ?? 0, latencyMs));
    }
    if (this.sentInWindow(event.sentAtMs)) this.inWindow(latencyMs);
    return 'event';
  }

  /**
   * Throughput and latency count the messages sent in the window (that arrived, then or later):
   * counting arrivals would credit the window with what the warm-up queued.
   */
  private sentInWindow(sentAtMs: number): boolean {
    return sentAtMs >= this.window.startMs && sentAtMs <= this.window.endMs;
  }

  private inWindow(latencyMs: number): void {
    recordMs(this.histogram, latencyMs);
    this.messagesInWindow += 1;
  }

  /** Messages still owed to the clients: awaited echo replies, pushes and broadcasts not yet in. */
  outstanding(records: ClientRecord[], broadcastEvents: number): number {
    let missing = 0;
    for (const record of records) {
      missing += record.awaiting.size;
      missing += record.pushes.lost(record.pushExpected);
      missing += record.broadcasts.lost(broadcastEvents);
    }
    return missing;
  }

  summarize(
    records: ClientRecord[],
    clients: { wire: ClientWire; polls: PollCounts; errors: Map<string, number> }[],
    broadcastEvents: number,
    eventLoopUtilization: number,
    lateSetupMs: number,
    fault?: { atMs: number; durationMs: number },
  ): FleetResult {
    const wire = emptyWireBytes();
    const socketBytes = { up: 0, down: 0 };
    const polls = { total: 0, empty: 0 };
    let connectionsOpened = 0;
    for (const client of clients) {
      addWireBytes(wire, client.wire.bytes);
      socketBytes.up += client.wire.socketBytes.up;
      socketBytes.down += client.wire.socketBytes.down;
      connectionsOpened += client.wire.connectionsOpened;
      polls.total += client.polls.total;
      polls.empty += client.polls.empty;
      for (const [message, count] of client.errors) this.errors.set(message, (this.errors.get(message) ?? 0) + count);
    }
    const trackers = records.flatMap((record) => {
      switch (this.config.scenario) {
        case 'echo':
          return [{ tracker: record.echoes, expected: record.echoSent }];
        case 'push':
          return [{ tracker: record.pushes, expected: record.pushExpected }];
        case 'broadcast':
          return [{ tracker: record.broadcasts, expected: broadcastEvents }];
        case 'idle':
          return [];
      }
    });
    // what the clients sent; a push's or a broadcast's is the server's to count (the engine reads its counters)
    const sent = this.config.scenario === 'echo' ? records.reduce((sum, record) => sum + record.echoSent - record.echoFailed, 0) : 0;
    const capture = clients[0]?.wire.capture;
    const headerSeries = clients[0]?.wire.headerSeries;
    return {
      ...(headerSeries === undefined ? {} : { headerSeries }),
      ...(capture === undefined ? {} : { sample: { up: capture.bytes('up').toString('base64'), down: capture.bytes('down').toString('base64') } }),
      clients: records.length,
      histogram: encodeHistogram(this.histogram),
      broadcastLastClientMs: Object.fromEntries(this.broadcastLatest),
      delivery: summarizeDelivery(trackers, sent),
      messagesInWindow: this.messagesInWindow,
      wire,
      socketBytes,
      connectionsOpened,
      polls,
      errors: Object.fromEntries(this.errors),
      eventLoopUtilization,
      lateSetupMs,
      ...(fault === undefined ? {} : { fault }),
    };
  }
}
