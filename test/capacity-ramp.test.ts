/** When a capacity ramp stops, and what its end is called (bench/capacity.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rampOutcome, stepEnd } from '../bench/capacity.ts';
import type { BoundSide, CompletedRun, FailedRun, RunResult } from '../bench/result.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import { runExceedsLimits } from '../bench/limits.ts';

const BOUND_MS = 500;

function step(clients: number, p99: number, side: BoundSide): RunResult {
  const config = { ...RUN_DEFAULTS, scenario: 'push' as const, transport: 'websocket' as const, clients, group: 'capacity' as const };
  return {
    state: 'completed',
    id: `push/websocket/1KiB/c${clients}`,
    config,
    latencyMs: { count: 1, p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, mean: p99 / 2 },
    driver: { cpuSeconds: 1, peakRssBytes: 1, saturated: side === 'driver', eventLoopUtilization: side === 'driver' ? 0.99 : 0.2 },
    bound: { side, reason: 'test' },
  } as unknown as CompletedRun;
}

function failed(clients: number, error: string): FailedRun {
  return {
    state: 'failed',
    id: `c${clients}`,
    scenario: 'push',
    transport: 'websocket',
    config: { ...RUN_DEFAULTS, scenario: 'push', transport: 'websocket', clients },
    error,
  };
}

describe('a capacity ramp', () => {
  it('goes on while a step stays under the bound with no side saturated or the server as the limit', () => {
    assert.equal(stepEnd(step(500, 20, 'none'), BOUND_MS), undefined);
    assert.equal(stepEnd(step(500, 20, 'server'), BOUND_MS), undefined);
  });

  it('has a capacity only where a step broke the bound with the server as the limit', () => {
    const outcome = rampOutcome([step(500, 20, 'none'), step(1000, 40, 'server'), step(2000, 900, 'server')], BOUND_MS);
    assert.deepEqual(outcome, { end: 'capacity', heldClients: 1000, stoppedAtClients: 2000, text: 'capacity 1,000 clients' });
  });

  it('ends driver-bound when the driver saturated, whatever the latency: never a capacity', () => {
    for (const p99 of [20, 900]) {
      const outcome = rampOutcome([step(500, 20, 'none'), step(1000, p99, 'driver')], BOUND_MS);
      assert.equal(outcome.end, 'driver');
      assert.equal(outcome.heldClients, 500);
      assert.match(outcome.text, /^driver-bound at 1,000 clients/);
      assert.doesNotMatch(outcome.text, /^capacity/);
    }
  });

  it("takes a run the machine's limits refused (bench/limits.ts, as worded there) for a machine limit", () => {
    const config = { ...RUN_DEFAULTS, scenario: 'push' as const, transport: 'websocket' as const, clients: 10_000_000 };
    const refusal = runExceedsLimits(config, { localAddresses: 1, driverProcesses: 1, serverProcesses: 1 });
    assert.ok(refusal !== undefined, 'ten million clients exceed this machine');
    assert.equal(stepEnd(failed(config.clients, refusal), BOUND_MS), 'machine');
  });

  it('names a machine limit, a bound broken with no side saturated, and a ramp that reached its last step', () => {
    const limit = failed(5000, 'needs 10,064 open files; this process may open 20,000 (ulimit -n) ...');
    assert.equal(rampOutcome([step(2000, 30, 'none'), limit], BOUND_MS).end, 'machine');
    assert.equal(rampOutcome([step(2000, 30, 'none'), failed(5000, 'the server printed no ready line')], BOUND_MS).end, 'failed');
    assert.equal(rampOutcome([step(500, 800, 'none')], BOUND_MS).end, 'latency');
    const ended = rampOutcome([step(500, 20, 'none'), step(10_000, 60, 'server')], BOUND_MS);
    assert.deepEqual(ended, { end: 'ramp-ended', heldClients: 10_000, text: 'at least 10,000 clients (the ramp ended)' });
  });
});
