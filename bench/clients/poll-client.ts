/**
 * Polling clients. Both register, send each message with POST /messages, and collect with
 * GET /messages?after=<last id>, which also acknowledges what they have:
 * - short-poll polls on a fixed schedule, every pollIntervalMs (0: again as soon as answered);
 * - long-poll polls again as soon as the held poll answers.
 */
import { ROUTES, clockNowMs, type PollResponse } from '../../servers/contract.ts';
import { HttpStatusError } from './http-session.ts';
import { HttpTransportClient } from './http-transport-client.ts';
import { countError } from './transport-client.ts';

const RETRY_AFTER_ERROR_MS = 100;
/** The answer to a poll that found nothing new (servers/poll-response.ts). */
const EMPTY_POLL = Buffer.from('{"messages":[]}', 'utf8');

abstract class PollClient extends HttpTransportClient {
  private lastId = 0;
  /**
   * Opened by start(): a client polls from the start of its run, not from its registration, so
   * that a run's first clients do not poll (short polling: on and on) while the last ones are
   * still registering: at 100,000 clients, their polls took the driver's whole core and the
   * registrations never ended.
   */
  private startGate: () => void = () => {};
  private readonly started = new Promise<void>((resolve) => (this.startGate = resolve));

  start(): void {
    this.startGate();
  }

  override async close(): Promise<void> {
    const closed = super.close();
    this.startGate(); // a client closed before its run started polls no more (closing is set)
    await closed;
  }

  /** How long to wait before the poll that follows one that started at `startedAtMs`. */
  protected abstract pauseMs(startedAtMs: number): number;

  protected forgetReceived(): void {
    this.lastId = 0;
  }

  protected async receive(started: () => void): Promise<void> {
    started();
    await this.started;
    return this.pollForever();
  }

  private async pollForever(): Promise<void> {
    while (!this.closing) {
      const startedAtMs = performance.now();
      try {
        await this.pollOnce();
      } catch (error) {
        if (this.closing) return;
        countError(this.errors, error);
        if (await this.comeBackIfForgotten(error).catch(() => false)) continue;
        await this.session.pause(RETRY_AFTER_ERROR_MS);
        continue;
      }
      const pause = this.pauseMs(startedAtMs);
      if (pause > 0) await this.session.pause(pause);
    }
  }

  private async pollOnce(): Promise<void> {
    const answer = await this.session.fetchBytes('GET', `${this.session.path(ROUTES.messages)}&after=${this.lastId}`);
    if (answer.status !== 200) throw new HttpStatusError(answer.status, answer.body.toString('utf8'), 'GET /messages');
    const receivedAtMs = clockNowMs();
    this.polls.total += 1;
    if (answer.body.equals(EMPTY_POLL)) {
      this.polls.empty += 1;
      return;
    }
    const { messages } = JSON.parse(answer.body.toString('utf8')) as PollResponse;
    if (messages.length === 0) this.polls.empty += 1;
    for (const message of messages) {
      if (message.id <= this.lastId) continue; // delivered again after a lost answer: already seen
      this.lastId = message.id;
      this.onMessage(message.data, receivedAtMs);
    }
  }
}

export class ShortPollClient extends PollClient {
  readonly transport = 'short-poll' as const;
  private phased = false;

  /**
   * Every pollIntervalMs from the start of the last poll; but once, after the first poll, a
   * random part of an interval: clients that connect together would otherwise poll in step with
   * each other and with the server's pushes, and every client would see the same wait.
   */
  protected pauseMs(startedAtMs: number): number {
    if (!this.phased) {
      this.phased = true;
      return Math.random() * this.options.pollIntervalMs;
    }
    return Math.max(0, startedAtMs + this.options.pollIntervalMs - performance.now());
  }
}

export class LongPollClient extends PollClient {
  readonly transport = 'long-poll' as const;

  protected pauseMs(): number {
    return 0;
  }
}
