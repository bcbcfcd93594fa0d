/**
 * A fleet of wirecost clients: the clients of one run (or one worker's share of them). It
 * connects them, drives the scenario until the measured window ends, drains what is still on
 * its way, closes them, and returns what it measured (see fleet-recorder.ts).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EchoEncoder, clockNowMs } from '../servers/contract.ts';
import { createClient } from './clients/index.ts';
import type { ClientOptions, TransportClient } from './clients/transport-client.ts';
import { SENT, countError } from './clients/transport-client.ts';
import { ClientRecord, FleetRecorder, meterWindowUtilization, type FleetHandle, type FleetResult, type FleetWindow } from './fleet-recorder.ts';
import type { RunConfig } from './result.ts';
import { HTTP_LOCAL_PORTS } from './clients/http-connection.ts';

export interface FleetPlan {
  config: RunConfig;
  client: ClientOptions;
  /** How many clients this fleet runs. */
  clients: number;
  /** Loopback source addresses to spread the clients over (several pass the ephemeral-port limit). */
  localAddresses: string[];
  /** Keep a sample of the first client's first connection, this many bytes each way (0: none). */
  captureBytes: number;
  /** Keep the header series of the first client's first connection (the run's first fleet: CompletedRun.headerSeries). */
  headerSeries?: boolean;
  /** A server with a port per worker: client i of the run goes to ports[i mod n] (sticky placement); absent: client.port. */
  ports?: number[];
  /** The run's number of this fleet's first client (a shard's or a worker's share starts there). */
  firstClient?: number;
  /** This process's number of the fleet's first client (its worker threads' fleets follow one another). */
  processClient?: number;
}

/**
 * The local ports the clients of one source address are given (ClientOptions.localPort), from
 * 10,000 up, mostly below the kernel's own range (32,768 on); a WebSocket or TCP client whose port
 * is taken gives way to the kernel's choice.
 */
const LOCAL_PORT_FIRST = 10_000;
const LOCAL_PORT_LAST = 60_999;
/** Local ports each client is given: one connection (WebSocket, TCP) or HTTP_LOCAL_PORTS (a poll or a stream, and a send). */
function localPortsPerClient(transport: string): number {
  return transport === 'websocket' || transport === 'tcp' ? 1 : HTTP_LOCAL_PORTS;
}

/** Connections opened at once while a run's clients connect, over all its driver processes (each shard its share). */
const CONNECT_CONCURRENCY = 256;
/** The longest a fleet waits after the window for messages still on their way. */
const DRAIN_LIMIT_MS = 10_000;
const DRAIN_MS_PER_CLIENT = 0.5;
/**
 * More on a link that loses packets: TCP sends a lost segment again after its retransmission
 * timeout, which doubles each time the same segment is lost again (200 ms and more, then 400, 800,
 * 1,600 ms), so a last message can be seconds late without being lost (at 5% loss a 2 s drain
 * counted one such message of 560 lost).
 */
const LOSSY_LINK_DRAIN_MS = 4_000;

/** Waits until nothing is owed to the clients, or the drain limit for this run passes. */
export async function drain(recorder: FleetRecorder, records: ClientRecord[], config: RunConfig, broadcastEvents: number): Promise<void> {
  // many clients' last messages take longer to come in: half a millisecond each
  const limitMs =
    Math.min(DRAIN_LIMIT_MS, Math.max(2_000, 3 * config.pollIntervalMs, config.clients * DRAIN_MS_PER_CLIENT)) +
    ((config.lossPercent ?? 0) > 0 ? LOSSY_LINK_DRAIN_MS : 0);
  const deadline = performance.now() + limitMs;
  while (recorder.outstanding(records, broadcastEvents) > 0 && performance.now() < deadline) await sleep(20);
}

/** The options of a fleet's client number `index`: its source address, and the sample for the first. */
export function clientOptionsFor(plan: FleetPlan, index: number): ClientOptions {
  const numbered = (plan.processClient ?? 0) + index;
  const localAddress = plan.localAddresses.length === 0 ? undefined : plan.localAddresses[numbered % plan.localAddresses.length];
  const ports = plan.ports ?? [];
  const port = ports.length > 1 ? ports[((plan.firstClient ?? 0) + index) % ports.length] : undefined;
  const ofAddress = Math.floor(numbered / Math.max(1, plan.localAddresses.length));
  const perClient = localPortsPerClient(plan.config.transport);
  const firstPort = LOCAL_PORT_FIRST + ofAddress * perClient;
  // autocannon opens its own sockets: no port is chosen for them
  const localPort = localAddress !== undefined && plan.config.engine === 'wirecost' && firstPort + perClient - 1 <= LOCAL_PORT_LAST ? firstPort : undefined;
  return {
    ...plan.client,
    ...(port === undefined ? {} : { port }),
    ...(localPort === undefined ? {} : { localPort }),
    ...(index === 0 && plan.captureBytes > 0 ? { captureBytes: plan.captureBytes } : {}),
    ...(index === 0 && plan.headerSeries === true ? { headerSeries: true } : {}),
    ...(localAddress === undefined ? {} : { localAddress }),
  };
}

export class Fleet implements FleetHandle {
  private readonly clients: TransportClient[] = [];
  private readonly records: ClientRecord[] = [];
  private readonly recorder: FleetRecorder;
  private sending = false;
  /** Event-loop utilization of this thread over the window: near 1, the driver measured itself. */
  private windowUtilization = 0;
  /** How far into the measured window the push requests were still being made. */
  private lateSetupMs = 0;
  private fault: { atMs: number; durationMs: number } | undefined;
  /** Every echo message of this fleet is written into one buffer: send() keeps none (TransportClient). */
  private readonly echoes: EchoEncoder;

  constructor(private readonly plan: FleetPlan) {
    this.recorder = new FleetRecorder(plan.config);
    this.echoes = new EchoEncoder(plan.config.payloadBytes);
  }

  private get config(): RunConfig {
    return this.plan.config;
  }

  async connect(): Promise<void> {
    let next = 0;
    const connectSome = async (): Promise<void> => {
      while (next < this.plan.clients) {
        const client = createClient(this.config.transport, clientOptionsFor(this.plan, next));
        next += 1;
        const record = new ClientRecord();
        client.onMessage = (text, receivedAtMs) => {
          const received = this.recorder.receive(record, text, receivedAtMs);
          if (received === 'echo-reply' && this.sending && this.config.targetRatePerSecond === 0) this.sendEcho(client, record);
        };
        client.onReconnected = () => this.resumePush(client, record);
        this.clients.push(client);
        this.records.push(record);
        await client.connect();
      }
    };
    const concurrency = Math.max(16, Math.floor(CONNECT_CONCURRENCY / (this.config.shard?.count ?? 1)));
    await Promise.all(Array.from({ length: Math.min(concurrency, this.plan.clients) }, connectSome));
  }

  async run(window: FleetWindow): Promise<void> {
    this.recorder.window = window;
    this.sending = true;
    for (const client of this.clients) client.start?.();
    const utilization = meterWindowUtilization(window);
    switch (this.config.scenario) {
      case 'echo':
        if (this.config.targetRatePerSecond > 0) await this.echoOpenLoop(window);
        else this.clients.forEach((client, index) => this.echoClosedLoop(client, this.records[index]!));
        break;
      case 'push':
        await this.requestPushes(window);
        this.lateSetupMs = Math.max(0, clockNowMs() - window.startMs);
        break;
      case 'idle':
      case 'broadcast':
        break;
    }
    const faultTimer = setTimeout(() => this.injectFault(), Math.max(0, (window.startMs + window.endMs) / 2 - clockNowMs()));
    await sleep(Math.max(0, window.endMs - clockNowMs()));
    clearTimeout(faultTimer);
    this.endFault();
    this.sending = false;
    this.windowUtilization = utilization.stop();
  }

  async abort(): Promise<void> {
    this.sending = false;
    await Promise.allSettled(this.clients.map((client) => client.close()));
  }

  async finish(broadcastEvents: number): Promise<FleetResult> {
    await drain(this.recorder, this.records, this.config, broadcastEvents);
    await Promise.all(this.clients.map((client) => client.close().catch((error: unknown) => countError(this.recorder.errors, error))));
    return this.recorder.summarize(this.records, this.clients, broadcastEvents, this.windowUtilization, this.lateSetupMs, this.fault);
  }

  /** The run's client-side fault, halfway through the window (the relay's network cut is the engine's). */
  private injectFault(): void {
    const atMs = clockNowMs();
    if (this.config.fault === 'client-kill') {
      for (const client of this.clients) client.interrupt();
      this.fault = { atMs, durationMs: 0 };
    } else if (this.config.fault === 'slow-consumer') {
      this.clients[0]?.pauseReading(true);
      this.fault = { atMs, durationMs: 0 };
    }
  }

  /** At the window's end a slow consumer reads again, so the drain collects what the server kept for it. */
  private endFault(): void {
    if (this.config.fault !== 'slow-consumer' || this.fault === undefined) return;
    this.clients[0]?.pauseReading(false);
    this.fault.durationMs = clockNowMs() - this.fault.atMs;
  }

  /** Sends the client's next echo message, stamped now (closed loop) or at its intended time (open loop). */
  private sendEcho(client: TransportClient, record: ClientRecord, intendedAtMs = clockNowMs()): void {
    const seq = this.recorder.nextEcho(record, intendedAtMs);
    const sent = client.send(this.echoes.encode(seq));
    if (sent === SENT) return;
    sent.catch((error: unknown) => {
      record.echoFailed += 1;
      countError(this.recorder.errors, error);
    });
  }

  /** Closed loop: each client keeps inFlight messages out; each reply sends the next. */
  private echoClosedLoop(client: TransportClient, record: ClientRecord): void {
    for (let i = 0; i < this.config.inFlight; i++) this.sendEcho(client, record);
  }

  /**
   * Open loop: each client sends at its share of the target rate on a fixed schedule, and
   * latency counts from the intended send time, so a stalled server cannot hide its stall by
   * slowing the sender (coordinated omission corrected, as wrk2 does).
   */
  private async echoOpenLoop(window: FleetWindow): Promise<void> {
    const count = this.clients.length;
    const perClientIntervalMs = (1000 * count) / this.config.targetRatePerSecond;
    const startMs = clockNowMs();
    const sent = new Array<number>(count).fill(0);
    while (this.sending && clockNowMs() < window.endMs) {
      const now = clockNowMs();
      for (let index = 0; index < count; index++) {
        // clients are spread evenly over one interval so that they do not all send at once
        const firstMs = startMs + (perClientIntervalMs * index) / count;
        while (firstMs + (sent[index] ?? 0) * perClientIntervalMs <= now) {
          this.sendEcho(this.clients[index]!, this.records[index]!, firstMs + (sent[index] ?? 0) * perClientIntervalMs);
          sent[index] = (sent[index] ?? 0) + 1;
        }
      }
      await sleep(1);
    }
  }

  /**
   * A client that came back after losing its server asks for the rest of its push, numbered
   * from where the stream would be now: what the server would have sent meanwhile stays
   * missing, and is counted lost.
   */
  private resumePush(client: TransportClient, record: ClientRecord): void {
    if (this.config.scenario !== 'push' || record.pushRequestedAtMs === 0) return;
    const firstSeq = Math.floor(((clockNowMs() - record.pushRequestedAtMs) / 1000) * this.config.pushRatePerSecond) + 1;
    const count = record.pushExpected - firstSeq + 1;
    if (count < 1) return;
    client
      .requestPush({ ratePerSecond: this.config.pushRatePerSecond, sizeBytes: this.config.payloadBytes, count, firstSeq })
      .catch((error: unknown) => countError(this.recorder.errors, error));
  }

  private async requestPushes(window: FleetWindow): Promise<void> {
    // a window set beforehand (a shard's --start-at) starts its pushes a warm-up before it, as every run does
    await sleep(Math.max(0, window.startMs - this.config.warmupSeconds * 1000 - clockNowMs()));
    const count = pushCount(this.config, window);
    await Promise.all(
      this.clients.map(async (client, index) => {
        this.records[index]!.pushExpected = count;
        this.records[index]!.pushRequestedAtMs = clockNowMs();
        await client.requestPush({ ratePerSecond: this.config.pushRatePerSecond, sizeBytes: this.config.payloadBytes, count });
      }),
    );
  }
}

/**
 * Messages each client asks to be pushed: enough for the warm-up and the window, the same number
 * in every run of the same config (and in every shard of it), whenever the request is made.
 */
export function pushCount(config: RunConfig, window: FleetWindow): number {
  return Math.max(1, Math.ceil(((config.warmupSeconds * 1000 + (window.endMs - window.startMs)) / 1000) * config.pushRatePerSecond));
}
