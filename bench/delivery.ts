/**
 * Delivery accounting by sequence number, per client: every message expected is received once,
 * in order; what is missing, repeated or out of order is counted, never dropped unnoticed.
 * In-order arrivals cost no memory: only messages ahead of a gap are remembered.
 */
import type { Delivery } from './result.ts';

export class SequenceTracker {
  /** Every seq up to this one has arrived. */
  private contiguous = 0;
  /** Arrived seqs beyond a gap. */
  private readonly ahead = new Set<number>();
  private highest = 0;
  received = 0;
  duplicated = 0;
  reordered = 0;

  /** Records an arrival; seqs count from 1. */
  record(seq: number): void {
    if (seq <= this.contiguous || this.ahead.has(seq)) {
      this.duplicated += 1;
      return;
    }
    this.received += 1;
    if (seq < this.highest) this.reordered += 1;
    else this.highest = seq;
    if (seq === this.contiguous + 1) {
      this.contiguous = seq;
      while (this.ahead.delete(this.contiguous + 1)) this.contiguous += 1;
    } else {
      this.ahead.add(seq);
    }
  }

  /** Seqs from 1 to `expected` that never arrived. */
  lost(expected: number): number {
    let arrivedWithin = Math.min(this.contiguous, expected);
    for (const seq of this.ahead) if (seq <= expected) arrivedWithin += 1;
    return expected - arrivedWithin;
  }
}

/**
 * A run's delivery once the sender's own count is known (undefined: nobody counted): loss is
 * what was sent and never arrived, not what was expected and never arrived.
 */
export function withSent(delivery: Delivery, sent: number | undefined): Delivery {
  const { sent: _fleetCount, ...rest } = delivery;
  const missing = delivery.missing ?? delivery.lost;
  if (sent === undefined) return { ...rest, lost: missing, missing };
  return { ...rest, sent, lost: Math.max(0, sent - delivery.received), missing };
}

/** Sums per-client trackers into a Delivery, given how many messages each client should have had. */
export function summarizeDelivery(clients: { tracker: SequenceTracker; expected: number }[], sent: number): Delivery {
  const delivery: Delivery = { expected: 0, sent, received: 0, lost: 0, missing: 0, duplicated: 0, reordered: 0, clientsWithLoss: 0 };
  for (const { tracker, expected } of clients) {
    const lost = tracker.lost(expected);
    delivery.expected += expected;
    delivery.received += tracker.received;
    delivery.lost += lost;
    delivery.missing = (delivery.missing ?? 0) + lost;
    delivery.duplicated += tracker.duplicated;
    delivery.reordered += tracker.reordered;
    if (lost > 0) delivery.clientsWithLoss += 1;
  }
  return delivery;
}

export function addDelivery(into: Delivery, from: Delivery): void {
  into.expected += from.expected;
  if (from.sent === undefined) delete into.sent;
  else if (into.sent !== undefined) into.sent += from.sent;
  into.received += from.received;
  into.lost += from.lost;
  into.missing = (into.missing ?? 0) + (from.missing ?? from.lost);
  into.duplicated += from.duplicated;
  into.reordered += from.reordered;
  into.clientsWithLoss += from.clientsWithLoss;
}
