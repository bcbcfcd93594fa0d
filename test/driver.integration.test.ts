/** The driver's known answers: frame and header bytes, delivery accounting, every scenario on every transport. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import { TRANSPORTS, encodeServerEvent, clockNowMs } from '../servers/contract.ts';
import { createClient } from '../bench/clients/index.ts';
import { runScenario } from '../bench/engine.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import { RELAY_OVERHEAD_SAMPLES } from '../bench/relay.ts';
import { SCENARIOS, type CompletedRun, type RunConfig, type RunResult } from '../bench/result.ts';
import { emptyWireBytes, addWireBytes, type WireBytes } from '../bench/wire.ts';
import { clientOptions, withServer, RecordingClient, waitFor } from './helpers.ts';

/** Each test's limit: a run that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 60_000;

function completed(result: RunResult): CompletedRun {
  assert.equal(result.state, 'completed', result.state === 'failed' ? result.error : '');
  return result as CompletedRun;
}

/** The bytes a client moved between two snapshots. */
function delta(after: WireBytes, before: WireBytes): WireBytes {
  const result = emptyWireBytes();
  addWireBytes(result, after);
  for (const direction of ['up', 'down'] as const)
    for (const kind of ['total', 'payload', 'headers', 'framing', 'setup'] as const) result[direction][kind] -= before[direction][kind];
  return result;
}

function snapshot(bytes: WireBytes): WireBytes {
  const copy = emptyWireBytes();
  addWireBytes(copy, bytes);
  return copy;
}

const context = { serverCommand: [], localAddresses: [], emit: () => {} };

describe('known answers', () => {
  for (const [size, upHeader, downHeader] of [
    [10, 6, 2],
    [126, 8, 4],
    [65_536, 14, 10],
  ] as const) {
    it(`a ${size}-byte WebSocket message costs ${upHeader} bytes of framing up; its reply ${downHeader} down`, { timeout: TEST_TIMEOUT_MS }, async () => {
      await withServer('websocket', [], async (server) => {
        const client = createClient('websocket', clientOptions(server));
        const recording = new RecordingClient(client);
        await client.connect();
        const before = snapshot(client.wire.bytes);
        await client.send('m'.repeat(size));
        await recording.waitFor(1);
        const moved = delta(client.wire.bytes, before);
        const replyBytes = size + 'Received:  '.length;
        assert.deepEqual(moved.up, { total: upHeader + size, payload: size, headers: 0, framing: upHeader, setup: 0, tls: 0 });
        // the reply is 11 bytes longer than the message: 21 bytes (2-byte header), 137 (4), 65,547 (10)
        assert.deepEqual(moved.down, { total: downHeader + replyBytes, payload: replyBytes, headers: 0, framing: downHeader, setup: 0, tls: 0 });
        await client.close();
      });
    });
  }

  it("a short-poll round trip's header bytes equal the heads of the raw request and response", { timeout: TEST_TIMEOUT_MS }, async () => {
    await withServer('short-poll', [], async (server) => {
      const client = createClient('short-poll', clientOptions(server, { pollIntervalMs: 60_000, captureBytes: 1 << 16 }));
      await client.connect(); // registers
      client.start?.(); // and polls once (empty)
      await new Promise((resolve) => setTimeout(resolve, 100));
      const capture = client.wire.capture!;
      const up = capture.bytes('up').toString('latin1');
      const down = capture.bytes('down').toString('latin1');
      // on the one keep-alive connection: POST /clients (setup), then GET /messages (headers)
      const requests = up.split(/(?=POST |GET )/);
      const responses = down.split(/(?=HTTP\/1\.1 )/);
      assert.equal(requests.length, 2);
      assert.equal(responses.length, 2);
      const head = (message: string): number => message.indexOf('\r\n\r\n') + 4;
      assert.match(requests[1]!, /^GET \/messages\?client=[\w-]+&after=0 HTTP\/1\.1\r\n/);
      assert.equal(client.wire.bytes.up.headers, head(requests[1]!));
      assert.equal(client.wire.bytes.up.setup, requests[0]!.length);
      assert.equal(client.wire.bytes.down.headers, head(responses[1]!));
      assert.equal(client.wire.bytes.down.framing, responses[1]!.length - head(responses[1]!), 'the empty list {"messages":[]} is all framing');
      assert.equal(client.wire.bytes.down.setup, responses[0]!.length);
      await client.close();
    });
  });
});

describe('delivery accounting', () => {
  it('catches a server that drops, duplicates and reorders', { timeout: TEST_TIMEOUT_MS }, async () => {
    // A faulty WebSocket server: asked for 8 pushes, it sends 1 2 2 4 3 6 8 (5 and 7 never).
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    wss.on('connection', (ws) => {
      ws.on('message', (_data, isBinary) => {
        if (!isBinary) return;
        for (const seq of [1, 2, 2, 4, 3, 6, 8]) ws.send(encodeServerEvent({ kind: 'push', seq, sentAtMs: clockNowMs() }, 32));
      });
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    try {
      const config: RunConfig = {
        ...RUN_DEFAULTS,
        scenario: 'push',
        transport: 'websocket',
        clients: 1,
        warmupSeconds: 0,
        durationSeconds: 0.8,
        pushRatePerSecond: 10,
        payloadBytes: 32,
        target: `ws://127.0.0.1:${port}/`,
      };
      const run = completed(await runScenario(config, context));
      assert.equal(run.messages.expected, 8);
      assert.equal(run.messages.received, 6);
      assert.equal(run.messages.lost, 2);
      assert.equal(run.messages.duplicated, 1);
      assert.equal(run.messages.reordered, 1);
      assert.equal(run.messages.clientsWithLoss, 1);
      assert.ok(run.warnings.some((warning) => /2 messages LOST/.test(warning)));
    } finally {
      wss.close();
    }
  });
});

describe('a run that fails after its clients connected', () => {
  /**
   * A WebSocket server that lets the first `accepted` clients in and refuses the next with a
   * 503: the run fails while connecting, with clients already connected. It counts the
   * connections still open.
   */
  async function refusingServer(accepted: number): Promise<{ port: number; open: () => number; close: () => Promise<void> }> {
    let upgrades = 0;
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (_info, callback) => {
        upgrades += 1;
        if (upgrades <= accepted) callback(true);
        else callback(false, 503);
      },
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    return {
      port: (wss.address() as { port: number }).port,
      open: () => wss.clients.size,
      close: () => {
        for (const client of wss.clients) client.terminate(); // ws waits for every connection before it closes
        return new Promise<void>((resolve) => wss.close(() => resolve()));
      },
    };
  }

  for (const workers of [1, 2]) {
    it(`ends every client it had connected${workers > 1 ? ', in every worker thread' : ''}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const server = await refusingServer(3);
      const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      const timersBefore = timers();
      try {
        const config: RunConfig = {
          ...RUN_DEFAULTS,
          scenario: 'idle',
          transport: 'websocket',
          clients: 4,
          workers,
          warmupSeconds: 0,
          durationSeconds: 0.5,
          target: `ws://127.0.0.1:${server.port}/`,
        };
        const result = await runScenario(config, context);
        assert.equal(result.state, 'failed');
        assert.match(result.state === 'failed' ? result.error : '', /503/);
        // the clients let in were closed (a worker ended takes its connections with it): none is left open on the server
        await waitFor(() => server.open() === 0, { timeoutMs: 5_000, what: 'the connections open on the server to close' });
        // and the run left no timer behind: one would keep the bench's process alive after it
        await waitFor(() => timers() <= timersBefore, { timeoutMs: 5_000, what: `the run's timers to end (${timers()} against ${timersBefore})` });
      } finally {
        await server.close();
      }
    });
  }
});

describe('every scenario on every transport', () => {
  for (const transport of TRANSPORTS) {
    for (const scenario of SCENARIOS) {
      it(`${scenario} over ${transport}`, { timeout: TEST_TIMEOUT_MS }, async () => {
        const config: RunConfig = {
          ...RUN_DEFAULTS,
          scenario,
          transport,
          clients: 3,
          payloadBytes: 100,
          warmupSeconds: 0.2,
          durationSeconds: 0.5,
          pushRatePerSecond: 20,
          pollIntervalMs: 50,
          broadcastEvents: 2,
        };
        const run = completed(await runScenario(config, context));
        assert.deepEqual(run.socketBytes, { up: run.bytes.up.total, down: run.bytes.down.total });
        assert.equal(run.messages.lost + run.messages.duplicated + run.messages.reordered, 0, JSON.stringify(run.messages));
        // sent is counted where the messages come from: the server's events, the broadcasts' reach, the clients' sends
        if (scenario === 'push') assert.equal(run.messages.sent, run.server.counters.eventsCreated);
        if (scenario === 'broadcast') assert.equal(run.messages.sent, config.clients * (run.server.counters.eventsCreated ?? 0));
        if (scenario === 'echo') assert.equal(run.messages.sent, run.server.counters.messagesIn);
        if (scenario !== 'idle') {
          assert.ok(run.messages.received > 0);
          assert.equal(run.messages.received, run.messages.expected);
          assert.ok(run.latencyMs.count > 0 && run.latencyMs.p50 > 0);
        }
        if (scenario === 'broadcast') assert.equal(run.messages.expected, 2 * 3);
        assert.ok(run.server.cpuSeconds > 0);
        assert.ok(run.connections.perClient >= 1);
        if (transport === 'websocket' || transport === 'tcp') assert.equal(run.connections.perClient, 1);
      });
    }
  }

  it('spreads clients over worker threads and merges their results exactly', { timeout: TEST_TIMEOUT_MS }, async () => {
    const config: RunConfig = {
      ...RUN_DEFAULTS,
      scenario: 'push',
      transport: 'websocket',
      clients: 4,
      workers: 2,
      warmupSeconds: 0.2,
      durationSeconds: 0.5,
      pushRatePerSecond: 20,
    };
    const run = completed(await runScenario(config, context));
    assert.equal(run.connections.opened, 4);
    assert.equal(run.messages.lost, 0);
    assert.equal(run.messages.received, run.messages.expected);
    assert.equal(run.latencyMs.count, run.throughput.messagesInWindow);
    assert.deepEqual(run.socketBytes, { up: run.bytes.up.total, down: run.bytes.down.total });
  });
});

describe('real networks and scale, briefly', () => {
  it('runs push through the relay at RTT 20 ms: WebSocket delivers in about half a round trip', { timeout: TEST_TIMEOUT_MS }, async () => {
    const config: RunConfig = {
      ...RUN_DEFAULTS,
      scenario: 'push',
      transport: 'websocket',
      clients: 5,
      rttMs: 20,
      warmupSeconds: 0.3,
      durationSeconds: 1,
      pushRatePerSecond: 20,
    };
    const run = completed(await runScenario(config, context));
    assert.equal(run.network.method, 'relay');
    // the relay's own cost is measured on a link without the run's delay: far less than its 20 ms
    const overheadMs = run.network.relayOverheadMs;
    assert.ok(overheadMs !== undefined && Number.isFinite(overheadMs) && overheadMs < config.rttMs / 2, `relay overhead ${overheadMs} ms`);
    assert.equal(run.network.relayOverheadSamples, RELAY_OVERHEAD_SAMPLES);
    assert.match(run.target, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    assert.equal(run.messages.lost, 0);
    // one way is 10 ms: no push can arrive sooner
    assert.ok(run.latencyMs.p50 >= 10, `p50 ${run.latencyMs.p50} ms`);
  });

  it('holds 1,000 WebSocket clients, each pushed a message a second', { timeout: TEST_TIMEOUT_MS }, async () => {
    const config: RunConfig = {
      ...RUN_DEFAULTS,
      scenario: 'push',
      transport: 'websocket',
      clients: 1000,
      payloadBytes: 16,
      pushRatePerSecond: 1,
      warmupSeconds: 0.5,
      durationSeconds: 2,
    };
    const run = completed(await runScenario(config, context));
    assert.equal(run.connections.opened, 1000);
    assert.equal(run.messages.lost, 0);
    assert.equal(run.messages.received, run.messages.expected);
  });
});
