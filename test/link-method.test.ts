/** Which link carries a run, and why; the relay refuses what only the netns link can do. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseLink, linkMethodFor, pathShapeOf, type LinkChoice } from '../bench/link/index.ts';
import { runScenario } from '../bench/engine.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import type { RunConfig } from '../bench/result.ts';

const config = (overrides: Partial<RunConfig>): RunConfig => ({ ...RUN_DEFAULTS, scenario: 'echo', transport: 'websocket', ...overrides });
const netns: LinkChoice = { method: 'netns', reason: 'root, /dev/net/tun and ip are present' };
const relay: LinkChoice = { method: 'relay', reason: 'the netns method cannot run here (not root)' };

describe('choosing the link', () => {
  it('carries a run with nothing to shape directly, a shaped one by the method chosen, and says why', () => {
    assert.equal(linkMethodFor(config({}), netns).method, 'direct');
    assert.deepEqual(linkMethodFor(config({ rttMs: 20 }), netns), { method: 'netns', reason: netns.reason });
    assert.deepEqual(linkMethodFor(config({ rttMs: 20 }), relay), { method: 'relay', reason: relay.reason });
    assert.equal(linkMethodFor(config({ fault: 'network-cut' }), relay).method, 'relay');
    // a series carried on the link at RTT 0 is, where netns runs; the relay at 0 would only add its own cost
    assert.equal(linkMethodFor(config({ emulateLink: true }), netns).method, 'netns');
    assert.equal(linkMethodFor(config({ emulateLink: true }), relay).method, 'direct');
    assert.match(linkMethodFor(config({ rttMs: 20, target: 'ws://127.0.0.1:1/' }), netns).reason, /--target/);
    assert.equal(linkMethodFor(config({ emulateLink: true, target: 'ws://127.0.0.1:1/' }), netns).method, 'direct');
  });

  it('shapes the path from the run: half the RTT each way, 100 ms of queue at the rate unless told, loss and its seed', () => {
    const shape = pathShapeOf(config({ rttMs: 40, bandwidthBitsPerSecond: 10e6, lossPercent: 1 }));
    assert.deepEqual(shape.up, { delayMs: 20, rateBitsPerSecond: 10e6, queueBytes: 125_000, lossPercent: 1, jitterMs: 0 });
    assert.deepEqual(shape.down, shape.up);
    assert.equal(shape.seed, 1);
    assert.equal(pathShapeOf(config({ bandwidthBitsPerSecond: 10e6, queueBytes: 64 * 1024, seed: 5 })).up.queueBytes, 64 * 1024);
  });

  it('takes the relay when asked, and refuses loss without the netns link', async () => {
    assert.deepEqual(await chooseLink('relay'), { method: 'relay', reason: 'asked for with --link relay' });
    const result = await runScenario(config({ rttMs: 20, lossPercent: 1 }), { serverCommand: [], localAddresses: [], emit: () => {}, link: relay });
    assert.equal(result.state, 'failed');
    assert.match(result.state === 'failed' ? result.error : '', /need the netns link.*not root/);
  });
});
