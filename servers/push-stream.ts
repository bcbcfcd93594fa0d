/**
 * Paces a push stream: `count` messages at `ratePerSecond`, the first at once and message i at
 * start + i / rate (the first in a microtask, so the caller holds the stream by then). Above 1,000 messages/s a timer tick sends every message that is due.
 */
import { performance } from 'node:perf_hooks';
import { ContractError, clockNowMs, encodeServerEvent, type PushRequest } from './contract.ts';
import type { ServerMetrics } from './metrics.ts';

export interface PushStream {
  stop(): void;
}

export function startPushStream(request: PushRequest, send: () => void, onDone: () => void = () => {}): PushStream {
  const startMs = performance.now();
  const intervalMs = 1000 / request.ratePerSecond;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const tick = (): void => {
    timer = undefined;
    const due = Math.min(request.count, Math.floor((performance.now() - startMs) / intervalMs) + 1);
    while (sent < due && !stopped) {
      send();
      sent += 1;
    }
    if (stopped) return;
    if (sent >= request.count) {
      stopped = true;
      onDone();
      return;
    }
    timer = setTimeout(tick, Math.max(0, startMs + sent * intervalMs - performance.now()));
  };

  queueMicrotask(tick); // the caller holds the stream before the first message goes out
  return {
    stop(): void {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** A client that can receive pushes: its push sequence and its running streams. */
export interface PushTarget {
  pushSeq: number;
  readonly pushStreams: Set<PushStream>;
}

/**
 * Starts a push of server events to one client: each gets the client's next sequence number,
 * the send time, and is counted as created before `deliver` takes it. A client may run at most
 * `maxStreams` pushes at once (each holds a timer): one more is ContractError('too-many-pushes').
 */
export function startPushEvents(target: PushTarget, request: PushRequest, metrics: ServerMetrics, maxStreams: number, deliver: (text: string) => void): void {
  if (target.pushStreams.size >= maxStreams) {
    throw new ContractError('too-many-pushes', `this client already runs ${target.pushStreams.size} pushes, the most allowed; wait for one to end`);
  }
  if (request.firstSeq !== undefined) target.pushSeq = request.firstSeq - 1;
  const stream = startPushStream(
    request,
    () => {
      target.pushSeq += 1;
      metrics.counters.eventsCreated += 1;
      deliver(encodeServerEvent({ kind: 'push', seq: target.pushSeq, sentAtMs: clockNowMs() }, request.sizeBytes));
    },
    () => target.pushStreams.delete(stream),
  );
  target.pushStreams.add(stream);
}

export function stopPushEvents(target: PushTarget): void {
  for (const stream of target.pushStreams) stream.stop();
  target.pushStreams.clear();
}

/** Numbers and stamps a server's broadcasts. */
export class BroadcastSequence {
  private seq = 0;

  constructor(private readonly metrics: ServerMetrics) {}

  next(sizeBytes: number): string {
    this.seq += 1;
    this.metrics.counters.eventsCreated += 1;
    return encodeServerEvent({ kind: 'broadcast', seq: this.seq, sentAtMs: clockNowMs() }, sizeBytes);
  }
}
