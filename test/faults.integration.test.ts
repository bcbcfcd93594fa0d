/** Faults halfway through a window: clients dropped come back, a cut link only delays, a slow consumer's losses are all counted. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../bench/engine.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import { FAULT_CUT_MS, type CompletedRun, type FaultKind, type RunConfig } from '../bench/result.ts';
import type { TransportName } from '../servers/contract.ts';
import { faultOutcome } from '../scripts/report/faults-section.ts';

/** Each test's limit: a run that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 60_000;

const context = { serverCommand: [], localAddresses: [], emit: () => {} };

async function faultRun(transport: TransportName, fault: FaultKind, overrides: Partial<RunConfig> = {}): Promise<CompletedRun> {
  const config: RunConfig = {
    ...RUN_DEFAULTS,
    scenario: 'push',
    transport,
    fault,
    clients: 4,
    pushRatePerSecond: 20,
    pollIntervalMs: 50,
    warmupSeconds: 0.3,
    durationSeconds: 2,
    ...overrides,
  };
  const result = await runScenario(config, context);
  assert.equal(result.state, 'completed', result.state === 'failed' ? result.error : '');
  return result as CompletedRun;
}

describe('faults', () => {
  for (const transport of ['long-poll', 'sse'] as const) {
    it(`${transport} clients whose connections are dropped come back and lose nothing`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const run = await faultRun(transport, 'client-kill');
      assert.equal(run.fault?.kind, 'client-kill');
      assert.ok(run.fault !== undefined && run.fault.atMs > 0 && run.fault.atMs < 2000);
      assert.ok(run.connections.perClient > 1, 'the clients reconnected');
      assert.equal(run.messages.lost, 0);
      assert.equal(run.messages.duplicated, 0);
      assert.equal(run.messages.received, run.messages.expected);
      assert.equal(faultOutcome(run), 'nothing lost');
    });
  }

  it('a cut link delays WebSocket pushes and loses none', { timeout: TEST_TIMEOUT_MS }, async () => {
    const run = await faultRun('websocket', 'network-cut');
    assert.equal(run.network.method, 'relay');
    assert.deepEqual([run.fault?.kind, run.fault?.durationMs], ['network-cut', FAULT_CUT_MS]);
    assert.equal(run.messages.lost, 0);
    assert.ok(run.latencyMs.max >= FAULT_CUT_MS * 0.8, `the longest wait was ${run.latencyMs.max} ms`);
  });

  it(
    'a WebSocket client that stops reading: the server bounds its buffer, and every message the client lost the server counted',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const run = await faultRun('websocket', 'slow-consumer', { clients: 2, payloadBytes: 16 * 1024, pushRatePerSecond: 500 });
      const dropped = run.server.counters['errors.dropped-slow-consumer'] ?? 0;
      assert.ok(dropped > 0, 'the server dropped messages for the slow client');
      assert.equal(run.messages.lost, dropped);
      assert.equal(run.messages.clientsWithLoss, 1, 'only the slow client lost messages');
      assert.match(faultOutcome(run), /lost, every one counted by the server$/);
    },
  );
});

describe('a server killed and restarted', () => {
  for (const transport of ['long-poll', 'websocket'] as const) {
    it(
      `${transport}: the clients come back on their own and count what the server would have sent while it was down`,
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const run = await faultRun(transport, 'server-restart');
        assert.equal(run.fault?.kind, 'server-restart');
        assert.ok(run.fault !== undefined && run.fault.durationMs > 0);
        const gap = (run.clients * run.config.pushRatePerSecond * run.fault.durationMs) / 1000;
        const missing = run.messages.missing ?? -1;
        assert.ok(missing > 0, 'the messages of the gap are missing');
        assert.ok(missing <= gap + 2 * run.clients, `missing ${missing}, the gap explains ${gap}`);
        assert.ok(run.messages.lost <= missing, 'what was sent and lost is part of what is missing');
        assert.equal(run.messages.duplicated, 0);
        assert.equal(run.messages.reordered, 0);
        assert.ok(run.messages.received > run.messages.expected / 2, 'pushes went on after the restart');
        assert.match(faultOutcome(run), /missing, never sent while the server was down/);
        assert.ok(run.server.cpuSeconds > 0);
      },
    );
  }
});
