/**
 * Short-poll clients driven by autocannon, where it can express the behaviour:
 * - echo at full speed: each connection is one client that POSTs a message, then GETs its
 *   mailbox, again and again (closed loop, one message in flight);
 * - a fleet polling once a second (push, idle, broadcast with a 1,000 ms poll interval):
 *   autocannon's per-connection rate of one request per second.
 * Each connection gets its own client id through autocannon's setupClient hook, and its
 * socket is tapped from the first byte (see wire.ts), exactly as the wirecost clients' are.
 * Registration and push requests go through one shared HTTP session (setup bytes).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { ROUTES, clockNowMs, encodeEchoMessage, type PollResponse } from '../servers/contract.ts';
import { HttpSession } from './clients/http-session.ts';
import { cookieLine } from './clients/http-connection.ts';
import { countError, newClientWire, openTappedConnection, type ClientWire, type PollCounts } from './clients/transport-client.ts';
import { ClientRecord, FleetRecorder, meterWindowUtilization, type FleetHandle, type FleetResult, type FleetWindow } from './fleet-recorder.ts';
import { clientOptionsFor, pushCount, type FleetPlan } from './fleet.ts';
import { forEachConcurrently } from './concurrency.ts';
import type { RunConfig } from './result.ts';

/** Requests the shared session makes at once: registering thousands of clients one by one would take seconds. */
const SETUP_CONCURRENCY = 32;

/** After autocannon stops: the pause before each round of collecting polls, and the limit. */
const DRAIN_POLL_MS = 100;
const DRAIN_LIMIT_MS = 3_000;

/** The poll interval autocannon can keep: one request per connection per second. */
export const AUTOCANNON_POLL_INTERVAL_MS = 1000;

/** Whether autocannon can drive this run (see the header comment). */
export function autocannonCanDrive(config: RunConfig): boolean {
  if (config.transport !== 'short-poll' || config.target !== undefined || config.fault !== undefined) return false;
  // its sockets are its own: no TLS for the accountant to read, no HTTP/2
  if (config.tls !== undefined || config.http !== undefined) return false;
  // one autocannon, one process, one port: not a run spread over processes
  if ((config.driverProcesses ?? 1) > 1 || (config.serverProcesses ?? 1) > 1) return false;
  if (config.scenario === 'echo') return config.targetRatePerSecond === 0 && config.inFlight === 1;
  return config.pollIntervalMs === AUTOCANNON_POLL_INTERVAL_MS;
}

/** One autocannon connection: a short-poll client of its own. */
interface Member {
  id: string;
  localAddress?: string;
  record: ClientRecord;
  wire: ClientWire;
  polls: PollCounts;
  errors: Map<string, number>;
  lastId: number;
}

/** The parts of autocannon's Client this fleet relies on (autocannon 8 and 9, lib/httpClient.js). */
interface AutocannonClient {
  _connect(): void;
  destroy(): void;
  setRequests(requests: autocannon.Request[]): void;
  destroyed: boolean;
  reqsMade: number;
  responseMax: number | undefined;
  pipelinedRequests: { size(): number };
}

/** autocannon checks whether every client is done at each sample: often, so it ends on time. */
const STOP_CHECK_MS = 50;
/** How long a stopping client waits for the answer to its last request. */
const LAST_ANSWER_GRACE_MS = 2_000;

/**
 * Ends every client at the end of the window without cutting a request off: a client with a
 * request in flight ends once its answer is in (autocannon's own duration would destroy the
 * socket at once; the answer would cross the wire unread and its messages look lost).
 */
function endAfterAnswers(clients: AutocannonClient[]): void {
  for (const client of clients) {
    if (client.destroyed) continue;
    if (client.pipelinedRequests.size() === 0) client.destroy();
    else client.responseMax = client.reqsMade; // autocannon ends the client instead of sending another request
  }
  setTimeout(() => clients.forEach((client) => client.destroyed || client.destroy()), LAST_ANSWER_GRACE_MS).unref();
}

export class AutocannonFleet implements FleetHandle {
  private readonly recorder: FleetRecorder;
  private readonly session: HttpSession;
  private readonly sessionWire: ClientWire;
  private readonly members: Member[] = [];
  /** The cookie every request carries (--cookie-bytes), as autocannon takes headers. */
  private readonly cookieHeader: Record<string, string>;
  private windowUtilization = 0;
  /** How far into the measured window the push requests were still being made. */
  private lateSetupMs = 0;

  constructor(private readonly plan: FleetPlan) {
    this.recorder = new FleetRecorder(plan.config);
    const options = clientOptionsFor(plan, 0);
    this.sessionWire = newClientWire(options);
    this.session = new HttpSession(options, this.sessionWire, SETUP_CONCURRENCY);
    const cookie = cookieLine(plan.client.cookieBytes);
    this.cookieHeader = cookie === '' ? {} : { cookie: cookie.slice('Cookie: '.length, -2) };
  }

  private get config(): RunConfig {
    return this.plan.config;
  }

  async connect(): Promise<void> {
    const indexes = Array.from({ length: this.plan.clients }, (_, index) => index);
    await forEachConcurrently(indexes, SETUP_CONCURRENCY, async (index) => {
      const id = await this.session.register();
      const options = clientOptionsFor(this.plan, index + 1);
      this.members[index] = {
        id,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
        record: new ClientRecord(),
        wire: newClientWire(options),
        polls: { total: 0, empty: 0 },
        errors: new Map(),
        lastId: 0,
      };
    });
  }

  async run(window: FleetWindow): Promise<void> {
    this.recorder.window = window;
    const utilization = meterWindowUtilization(window);
    if (this.config.scenario === 'push') {
      const count = pushCount(this.config, window);
      await forEachConcurrently(this.members, SETUP_CONCURRENCY, async (member) => {
        member.record.pushExpected = count;
        await this.session.requestPush({ ratePerSecond: this.config.pushRatePerSecond, sizeBytes: this.config.payloadBytes, count }, member.id);
      });
      this.lateSetupMs = Math.max(0, clockNowMs() - window.startMs);
    }
    let next = 0;
    const echo = this.config.scenario === 'echo';
    const clients: AutocannonClient[] = [];
    const windowEnd = setTimeout(() => endAfterAnswers(clients), Math.max(0, window.endMs - clockNowMs()));
    await autocannon({
      url: `http://${this.plan.client.host}:${this.plan.client.port}`,
      connections: this.members.length,
      // the window's end ends the clients (endAfterAnswers); this duration only bounds a stuck run
      duration: (window.endMs - clockNowMs()) / 1000 + LAST_ANSWER_GRACE_MS / 1000 + 5,
      pipelining: 1,
      sampleInt: STOP_CHECK_MS,
      ...(echo ? {} : { connectionRate: 1000 / AUTOCANNON_POLL_INTERVAL_MS }),
      setupClient: (client) => {
        const member = this.members[next];
        next += 1;
        if (member === undefined) throw new Error('autocannon opened more connections than there are clients');
        clients.push(client as unknown as AutocannonClient);
        this.tap(client as unknown as AutocannonClient, member);
        (client as unknown as AutocannonClient).setRequests(echo ? [this.echoRequest(member), this.pollRequest(member)] : [this.pollRequest(member)]);
      },
    });
    clearTimeout(windowEnd);
    this.windowUtilization = utilization.stop();
  }

  /** autocannon ends its own clients at its duration; what is left to close is the shared session. */
  async abort(): Promise<void> {
    await this.session.close();
  }

  async finish(broadcastEvents: number): Promise<FleetResult> {
    // autocannon has stopped: polls from the shared session collect what is still in the mailboxes
    const records = this.members.map((member) => member.record);
    const deadline = performance.now() + DRAIN_LIMIT_MS;
    do {
      await sleep(DRAIN_POLL_MS);
      await forEachConcurrently(this.members, SETUP_CONCURRENCY, (member) => this.pollOnce(member).catch((error: unknown) => countError(member.errors, error)));
    } while (this.recorder.outstanding(records, broadcastEvents) > 0 && performance.now() < deadline);
    await this.session.close();
    const clients = this.members.map((member) => ({ wire: member.wire, polls: member.polls, errors: member.errors }));
    return this.recorder.summarize(
      this.members.map((member) => member.record),
      [{ wire: this.sessionWire, polls: { total: 0, empty: 0 }, errors: new Map() }, ...clients],
      broadcastEvents,
      this.windowUtilization,
      this.lateSetupMs,
    );
  }

  /** Every connection autocannon opens for this member goes through the tap, from its first byte. */
  private tap(client: AutocannonClient, member: Member): void {
    const connect = client._connect.bind(client);
    client._connect = () => {
      const original = net.connect;
      // autocannon calls net.connect(port, host) inside _connect and writes at once: hand it a tapped socket
      net.connect = ((port: number, host: string) => {
        net.connect = original;
        return openTappedConnection(member.wire, 'http', {
          port,
          host,
          noDelay: true,
          ...(member.localAddress === undefined ? {} : { localAddress: member.localAddress }),
        });
      }) as typeof net.connect;
      try {
        connect();
      } finally {
        net.connect = original;
      }
    };
  }

  private echoRequest(member: Member): autocannon.Request {
    return {
      method: 'POST',
      setupRequest: (request) => {
        const seq = this.recorder.nextEcho(member.record, clockNowMs());
        return {
          ...request,
          method: 'POST',
          path: `${ROUTES.messages}?client=${member.id}`,
          headers: { 'content-type': 'text/plain; charset=utf-8', ...this.cookieHeader },
          body: encodeEchoMessage(seq, this.config.payloadBytes),
        };
      },
      onResponse: (status, body) => {
        if (status === 202) return;
        member.record.echoFailed += 1;
        countError(member.errors, new Error(`POST /messages answered ${status}: ${body.slice(0, 200)}`));
      },
    };
  }

  private pollRequest(member: Member): autocannon.Request {
    return {
      method: 'GET',
      setupRequest: (request) => ({
        ...request,
        method: 'GET',
        path: `${ROUTES.messages}?client=${member.id}&after=${member.lastId}`,
        headers: { ...this.cookieHeader },
        body: '',
      }),
      onResponse: (status, body) => this.polled(member, status, body, clockNowMs()),
    };
  }

  private async pollOnce(member: Member): Promise<void> {
    const answer = await this.session.request('GET', `${ROUTES.messages}?client=${member.id}&after=${member.lastId}`);
    this.polled(member, answer.status, answer.body, clockNowMs());
  }

  private polled(member: Member, status: number, body: string, receivedAtMs: number): void {
    if (status !== 200) {
      countError(member.errors, new Error(`GET /messages answered ${status}: ${body.slice(0, 200)}`));
      return;
    }
    const { messages } = JSON.parse(body) as PollResponse;
    member.polls.total += 1;
    if (messages.length === 0) member.polls.empty += 1;
    for (const message of messages) {
      if (message.id <= member.lastId) continue;
      member.lastId = message.id;
      this.recorder.receive(member.record, message.data, receivedAtMs);
    }
  }
}
