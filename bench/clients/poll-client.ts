/**
 * Polling clients. Both register, send each message with POST /messages, and collect with
 * GET /messages?after=<last id>, which also acknowledges what they have:
 * - short-poll polls on a fixed schedule, every pollIntervalMs (0: again as soon as answered);
 * - long-poll polls again as soon as the held poll answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ROUTES, clockNowMs, type BroadcastRequest, type PollResponse, type PushRequest, type TransportName } from '../../servers/contract.ts';
import { HttpSession, HttpStatusError } from './http-session.ts';
import {
  countError,
  newClientWire,
  type ClientWire,
  type ClientOptions,
  type MessageListener,
  type PollCounts,
  type TransportClient,
} from './transport-client.ts';

const RETRY_AFTER_ERROR_MS = 100;

abstract class PollClient implements TransportClient {
  abstract readonly transport: TransportName;
  readonly wire: ClientWire;
  readonly polls: PollCounts = { total: 0, empty: 0 };
  readonly errors = new Map<string, number>();
  onMessage: MessageListener = () => {};
  protected readonly session: HttpSession;
  private lastId = 0;
  private closed = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(protected readonly options: ClientOptions) {
    this.wire = newClientWire(options);
    this.session = new HttpSession(options, this.wire);
  }

  /** How long to wait before the poll that follows one that started at `startedAtMs`. */
  protected abstract pauseMs(startedAtMs: number): number;

  async connect(): Promise<void> {
    this.session.clientId = await this.session.register();
    this.loop = this.pollForever();
  }

  send(message: string): Promise<void> {
    return this.session.send(message);
  }

  requestPush(request: PushRequest): Promise<void> {
    return this.session.requestPush(request);
  }

  requestBroadcast(request: BroadcastRequest): Promise<void> {
    return this.session.requestBroadcast(request);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.session.close();
    await this.loop;
  }

  private async pollForever(): Promise<void> {
    while (!this.closed) {
      const startedAtMs = performance.now();
      try {
        await this.pollOnce();
      } catch (error) {
        if (this.closed) return;
        countError(this.errors, error);
        await sleep(RETRY_AFTER_ERROR_MS, undefined, { signal: this.session.signal }).catch(() => undefined);
        continue;
      }
      const pause = this.pauseMs(startedAtMs);
      if (pause > 0) await sleep(pause, undefined, { signal: this.session.signal }).catch(() => undefined);
    }
  }

  private async pollOnce(): Promise<void> {
    const answer = await this.session.request('GET', this.session.path(ROUTES.messages, { after: this.lastId }));
    if (answer.status !== 200) throw new HttpStatusError(answer.status, answer.body, 'GET /messages');
    const receivedAtMs = clockNowMs();
    const { messages } = JSON.parse(answer.body) as PollResponse;
    this.polls.total += 1;
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
