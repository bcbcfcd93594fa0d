/**
 * A fleet: the clients of one run (or one worker's share of them). It connects them, drives
 * the scenario until the measured window ends, drains what is still on its way, closes them,
 * and returns what it measured in a form that merges exactly with other fleets' results.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ECHO_PREFIX, clockNowMs, decodeEchoSeq, decodeServerEvent, encodeEchoMessage } from '../servers/contract.ts';
import { createClient } from './clients/index.ts';
import type { ClientOptions, TransportClient } from './clients/transport-client.ts';
import { countError } from './clients/transport-client.ts';
import { SequenceTracker, summarizeDelivery } from './delivery.ts';
import { encodeHistogram, newHistogram, recordMs } from './latency.ts';
import type { Delivery, RunConfig } from './result.ts';
import { addWireBytes, emptyWireBytes, type WireBytes } from './wire.ts';

export interface FleetPlan {
  config: RunConfig;
  client: ClientOptions;
  /** How many clients this fleet runs. */
  clients: number;
  /** Loopback source addresses to spread the clients over (several pass the ephemeral-port limit). */
  localAddresses: string[];
  /** Keep a sample of the first client's first connection, this many bytes each way (0: none). */
  captureBytes: number;
}

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
  polls: { total: number; empty: number };
  errors: Record<string, number>;
  eventLoopUtilization: number;
  /** The first bytes of the first client's first connection, base64, when the plan asked for them. */
  sample?: { up: string; down: string };
}

/** Connections opened at once while the fleet connects. */
const CONNECT_CONCURRENCY = 256;
/** The longest a fleet waits after the window for messages still on their way. */
const DRAIN_LIMIT_MS = 10_000;

/** What one client has sent and received. */
class ClientState {
  readonly echoes = new SequenceTracker();
  readonly pushes = new SequenceTracker();
  readonly broadcasts = new SequenceTracker();
  /** echo: send time of each message awaiting its reply, by seq. */
  readonly awaiting = new Map<number, number>();
  echoSent = 0;
  pushExpected = 0;

  constructor(readonly client: TransportClient) {}
}

export class Fleet {
  private readonly states: ClientState[] = [];
  private readonly histogram = newHistogram();
  private readonly broadcastLatest = new Map<number, number>();
  private readonly errors = new Map<string, number>();
  private window: FleetWindow = { startMs: Infinity, endMs: Infinity };
  private messagesInWindow = 0;
  private sending = false;
  /** Event-loop utilization of this thread over the window: near 1, the driver measured itself. */
  private windowUtilization = 0;

  constructor(private readonly plan: FleetPlan) {}

  private get config(): RunConfig {
    return this.plan.config;
  }

  async connect(): Promise<void> {
    const addresses = this.plan.localAddresses;
    let next = 0;
    const connectOne = async (): Promise<void> => {
      while (next < this.plan.clients) {
        const index = next;
        next += 1;
        const localAddress = addresses.length === 0 ? undefined : addresses[index % addresses.length];
        const capture = index === 0 && this.plan.captureBytes > 0 ? { captureBytes: this.plan.captureBytes } : {};
        const client = createClient(this.config.transport, { ...this.plan.client, ...capture, ...(localAddress === undefined ? {} : { localAddress }) });
        const state = new ClientState(client);
        client.onMessage = (text, receivedAtMs) => this.receive(state, text, receivedAtMs);
        this.states.push(state);
        await client.connect();
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, this.plan.clients) }, connectOne));
  }

  /** Drives the scenario until the window ends. */
  async run(window: FleetWindow): Promise<void> {
    this.window = window;
    this.sending = true;
    const eluStart = performance.eventLoopUtilization();
    switch (this.config.scenario) {
      case 'echo':
        await (this.config.targetRatePerSecond > 0 ? this.echoOpenLoop() : this.echoClosedLoop());
        break;
      case 'push':
        await this.requestPushes();
        break;
      case 'idle':
      case 'broadcast':
        break;
    }
    await sleep(Math.max(0, window.endMs - clockNowMs()));
    this.sending = false;
    this.windowUtilization = performance.eventLoopUtilization(eluStart).utilization;
  }

  /** Waits for what is still on its way, closes every client and sums up. */
  async finish(broadcastEvents: number): Promise<FleetResult> {
    await this.drain(broadcastEvents);
    await Promise.all(this.states.map((state) => state.client.close().catch((error: unknown) => countError(this.errors, error))));
    return this.summarize(broadcastEvents);
  }

  private receive(state: ClientState, text: string, receivedAtMs: number): void {
    const inWindow = receivedAtMs >= this.window.startMs && receivedAtMs <= this.window.endMs;
    if (text.startsWith(ECHO_PREFIX) || this.config.scenario === 'echo') {
      const seq = decodeEchoSeq(text);
      const sentAtMs = seq === undefined ? undefined : state.awaiting.get(seq);
      if (seq === undefined) return countError(this.errors, new Error('a reply that quotes no message of this run'));
      state.echoes.record(seq);
      if (sentAtMs === undefined) return; // a duplicate: counted by the tracker
      state.awaiting.delete(seq);
      if (inWindow) {
        recordMs(this.histogram, receivedAtMs - sentAtMs);
        this.messagesInWindow += 1;
      }
      if (this.sending && this.config.targetRatePerSecond === 0) this.sendEcho(state);
      return;
    }
    const event = decodeServerEvent(text);
    if (event === undefined) return countError(this.errors, new Error('a message that is neither an echo nor a server event'));
    const latencyMs = receivedAtMs - event.sentAtMs;
    if (event.kind === 'push') state.pushes.record(event.seq);
    else {
      state.broadcasts.record(event.seq);
      this.broadcastLatest.set(event.seq, Math.max(this.broadcastLatest.get(event.seq) ?? 0, latencyMs));
    }
    if (inWindow) {
      recordMs(this.histogram, latencyMs);
      this.messagesInWindow += 1;
    }
  }

  /** Sends the client's next echo message, stamped now (closed loop) or at its intended time (open loop). */
  private sendEcho(state: ClientState, intendedAtMs = clockNowMs()): void {
    state.echoSent += 1;
    const seq = state.echoSent;
    state.awaiting.set(seq, intendedAtMs);
    state.client.send(encodeEchoMessage(seq, this.config.payloadBytes)).catch((error: unknown) => countError(this.errors, error));
  }

  private async echoClosedLoop(): Promise<void> {
    for (const state of this.states) for (let i = 0; i < this.config.inFlight; i++) this.sendEcho(state);
  }

  /**
   * Open loop: each client sends at its share of the target rate on a fixed schedule, and
   * latency counts from the intended send time, so a stalled server cannot hide its stall by
   * slowing the sender (coordinated omission corrected, as wrk2 does).
   */
  private async echoOpenLoop(): Promise<void> {
    const perClientIntervalMs = (1000 * this.states.length) / this.config.targetRatePerSecond;
    const startMs = clockNowMs();
    const sent = new Array<number>(this.states.length).fill(0);
    while (this.sending && clockNowMs() < this.window.endMs) {
      const now = clockNowMs();
      this.states.forEach((state, index) => {
        // clients are spread evenly over one interval so that they do not all send at once
        const offsetMs = (perClientIntervalMs * index) / this.states.length;
        let count = sent[index] ?? 0;
        while (startMs + offsetMs + count * perClientIntervalMs <= now) {
          this.sendEcho(state, startMs + offsetMs + count * perClientIntervalMs);
          count += 1;
        }
        sent[index] = count;
      });
      await sleep(1);
    }
  }

  private async requestPushes(): Promise<void> {
    const seconds = (this.window.endMs - clockNowMs()) / 1000;
    const count = Math.max(1, Math.ceil(seconds * this.config.pushRatePerSecond));
    await Promise.all(
      this.states.map(async (state) => {
        state.pushExpected = count;
        await state.client.requestPush({ ratePerSecond: this.config.pushRatePerSecond, sizeBytes: this.config.payloadBytes, count });
      }),
    );
  }

  private outstanding(broadcastEvents: number): number {
    let missing = 0;
    for (const state of this.states) {
      missing += state.awaiting.size;
      missing += state.pushes.lost(state.pushExpected);
      missing += state.broadcasts.lost(broadcastEvents);
    }
    return missing;
  }

  private async drain(broadcastEvents: number): Promise<void> {
    const limitMs = Math.min(DRAIN_LIMIT_MS, Math.max(2_000, 3 * this.config.pollIntervalMs));
    const deadline = performance.now() + limitMs;
    while (this.outstanding(broadcastEvents) > 0 && performance.now() < deadline) await sleep(20);
  }

  private summarize(broadcastEvents: number): FleetResult {
    const wire = emptyWireBytes();
    const socketBytes = { up: 0, down: 0 };
    const polls = { total: 0, empty: 0 };
    let connectionsOpened = 0;
    for (const { client } of this.states) {
      addWireBytes(wire, client.wire.bytes);
      socketBytes.up += client.wire.socketBytes.up;
      socketBytes.down += client.wire.socketBytes.down;
      connectionsOpened += client.wire.connectionsOpened;
      polls.total += client.polls.total;
      polls.empty += client.polls.empty;
      for (const [message, count] of client.errors) this.errors.set(message, (this.errors.get(message) ?? 0) + count);
    }
    const trackers = this.states.flatMap((state) => {
      switch (this.config.scenario) {
        case 'echo':
          return [{ tracker: state.echoes, expected: state.echoSent }];
        case 'push':
          return [{ tracker: state.pushes, expected: state.pushExpected }];
        case 'broadcast':
          return [{ tracker: state.broadcasts, expected: broadcastEvents }];
        case 'idle':
          return [];
      }
    });
    const sent =
      this.config.scenario === 'echo' ? this.states.reduce((sum, state) => sum + state.echoSent, 0) : trackers.reduce((sum, t) => sum + t.expected, 0);
    const capture = this.states[0]?.client.wire.capture;
    return {
      ...(capture === undefined ? {} : { sample: { up: capture.bytes('up').toString('base64'), down: capture.bytes('down').toString('base64') } }),
      clients: this.states.length,
      histogram: encodeHistogram(this.histogram),
      broadcastLastClientMs: Object.fromEntries(this.broadcastLatest),
      delivery: summarizeDelivery(trackers, sent),
      messagesInWindow: this.messagesInWindow,
      wire,
      socketBytes,
      connectionsOpened,
      polls,
      errors: Object.fromEntries(this.errors),
      eventLoopUtilization: this.windowUtilization,
    };
  }
}
