/**
 * A client's bounded queue of messages, used by the HTTP transports.
 *
 * Messages get increasing ids from 1. A message stays in the mailbox until the client
 * acknowledges it (a poll's `after=<id>`, an SSE resume's Last-Event-ID), so a client that
 * vanishes after a response was written and comes back loses nothing.
 *
 * The mailbox holds at most `capacity` messages and `capacityBytes` bytes. When a new message
 * does not fit, the oldest messages already delivered once (but not acknowledged: an SSE
 * stream acknowledges only when it resumes) make room; the count of those is kept, and a client
 * that later asks for one of them again is told of the gap (acknowledge returns false). If the undelivered
 * messages alone fill the mailbox, the new one is refused with ContractError('mailbox-full').
 * Nothing is dropped silently.
 */
import { ContractError, type MailboxMessage } from './contract.ts';

interface Stored extends MailboxMessage {
  bytes: number;
}

export class Mailbox {
  private messages: Stored[] = [];
  private bytes = 0;
  private nextId = 1;
  /** Highest id written to the client at least once. */
  private deliveredUpTo = 0;
  /** Highest id evicted after delivery without an acknowledgement. */
  private evictedUpTo = 0;
  /** Delivered messages evicted to make room, in all. */
  evictedDelivered = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly capacity: number,
    readonly capacityBytes: number,
  ) {}

  get size(): number {
    return this.messages.length;
  }

  /** Queues a message and tells the subscribers. */
  enqueue(data: string): MailboxMessage {
    const bytes = Buffer.byteLength(data, 'utf8');
    while (this.messages.length >= this.capacity || (this.messages.length > 0 && this.bytes + bytes > this.capacityBytes)) {
      const oldest = this.messages[0];
      if (oldest === undefined || oldest.id > this.deliveredUpTo) {
        throw new ContractError(
          'mailbox-full',
          `mailbox full: ${this.messages.length} messages (${this.bytes} bytes) wait for this client; the limits are ${this.capacity} messages and ${this.capacityBytes} bytes`,
        );
      }
      this.messages.shift();
      this.bytes -= oldest.bytes;
      this.evictedUpTo = oldest.id;
      this.evictedDelivered += 1;
    }
    const message: Stored = { id: this.nextId, data, bytes };
    this.nextId += 1;
    this.messages.push(message);
    this.bytes += bytes;
    for (const listener of [...this.listeners]) listener();
    return { id: message.id, data };
  }

  /**
   * Drops every message up to and including `id`: the client has them. Returns false when the
   * client resumes from a point older than the mailbox still holds (a gap: see above).
   */
  acknowledge(id: number): boolean {
    let drop = 0;
    for (const message of this.messages) {
      if (message.id > id) break;
      this.bytes -= message.bytes;
      drop += 1;
    }
    if (drop > 0) this.messages.splice(0, drop);
    return id >= this.evictedUpTo;
  }

  /** Messages after `id`, without removing them. */
  pendingAfter(id: number): MailboxMessage[] {
    const pending: MailboxMessage[] = [];
    for (const message of this.messages) if (message.id > id) pending.push({ id: message.id, data: message.data });
    return pending;
  }

  /** Records that messages up to `id` were written to the client. */
  markDelivered(id: number): void {
    if (id > this.deliveredUpTo) this.deliveredUpTo = id;
  }

  /** Calls `listener` after each enqueue; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
