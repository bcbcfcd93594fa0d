/**
 * The netns link against physics: with a one-way delay d, a TCP connect takes 2d and an HTTP
 * request on a new connection 4d; a direction that loses everything lets nothing through; at a
 * rate r, a bulk transfer takes size / r; the queue drops what does not fit; loss follows its
 * seed; jitter never reorders. Skipped (with the reason) where the method cannot run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLink, NO_SHAPE, netnsUnavailable, symmetricPath, type PathShape } from '../bench/link/netns.ts';
import { netnsServerArgs } from '../bench/link/index.ts';
import { probe, probeOk } from '../bench/link/probe.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { runScenario } from '../bench/engine.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import type { CompletedRun } from '../bench/result.ts';

const unavailable = netnsUnavailable();
const skip = unavailable === undefined ? false : `the netns method cannot run here: ${unavailable}`;

async function withLink<T>(shape: PathShape, use: (link: NetnsLink) => Promise<T>): Promise<T> {
  const link = await NetnsLink.start(shape);
  try {
    return await use(link);
  } finally {
    await link.close();
  }
}

function within(measuredMs: number, expectedMs: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(measuredMs - expectedMs) <= expectedMs * tolerance,
    `${what}: ${measuredMs.toFixed(2)} ms, expected ${expectedMs} ms ± ${tolerance * 100}%`,
  );
}

describe('the netns link against physics', { skip }, () => {
  const d = 25;

  it(`with a one-way delay of ${d} ms: TCP connect takes 2d, an HTTP request on a new connection 4d`, async () => {
    await withLink(symmetricPath({ delayMs: d }), async (link) => {
      const connect = await probeOk('connect', link, { count: 5 });
      within(connect.medianUs / 1000, 2 * d, 0.1, 'connect');
      const server = await ServerProcess.start('short-poll', {
        host: link.serverAddress,
        pinCommand: link.inNamespace('server'),
        args: netnsServerArgs(link.serverAddress),
      });
      try {
        const http = await probeOk('http', link, { count: 3, port: server.port, path: '/stats' });
        within(http.connectMedianUs / 1000, 2 * d, 0.1, 'the HTTP request’s connect');
        within(http.responseMedianUs / 1000, 4 * d, 0.1, 'the HTTP response on a new connection');
      } finally {
        await server.stop();
      }
    });
  });

  it('with 100% loss in one direction, nothing gets through', async () => {
    const lossy = { ...NO_SHAPE, lossPercent: 100 };
    await withLink({ up: lossy, down: { ...NO_SHAPE }, seed: 1 }, async (link) => {
      const flood = await probeOk('flood', link, { packets: 1000 });
      assert.equal(flood.received, 0);
      const connect = await probe('connect', link, { count: 1, 'timeout-ms': 500 });
      assert.ok('error' in connect, 'no connection is made');
      const stats = await link.stats();
      assert.equal(stats.up.delivered, 0);
      assert.equal(stats.up.droppedLoss, stats.up.packets);
      assert.ok(stats.up.packets >= 1001);
    });
    await withLink({ up: { ...NO_SHAPE }, down: lossy, seed: 1 }, async (link) => {
      const connect = await probe('connect', link, { count: 1, 'timeout-ms': 500 });
      assert.ok('error' in connect, 'the SYN goes, the SYN-ACK never comes back');
      const stats = await link.stats();
      assert.ok(stats.up.delivered >= 1, 'the SYN went through');
      assert.equal(stats.down.delivered, 0);
      assert.ok(stats.down.droppedLoss >= 1);
    });
  });

  it('at a rate r, a bulk transfer takes size / r', async () => {
    const rate = 16e6;
    const bytes = 1_000_000;
    await withLink(symmetricPath({ delayMs: 1, rateBitsPerSecond: rate, queueBytes: 200_000 }), async (link) => {
      const bulk = await probeOk('bulk', link, { bytes });
      within(bulk.totalUs / 1000, ((bytes * 8) / rate) * 1000, 0.1, 'the transfer');
      const stats = await link.stats();
      // IP bytes over the rate: the transfer's headers are part of what the link carries
      assert.ok(stats.down.ipBytes > bytes && stats.down.ipBytes < bytes * 1.06, `${stats.down.ipBytes} IP bytes for ${bytes} bytes`);
    });
  });

  it('a full queue drops what does not fit (drop-tail), and never holds more than its size', async () => {
    const queueBytes = 10_000;
    await withLink(symmetricPath({ rateBitsPerSecond: 1e6, queueBytes }), async (link) => {
      const flood = await probeOk('flood', link, { packets: 2000, 'drain-ms': 300 });
      const stats = await link.stats();
      assert.ok(stats.up.droppedQueue > 0, 'the queue overflowed');
      assert.equal(flood.received, stats.up.delivered);
      assert.equal(stats.up.droppedQueue + stats.up.delivered, stats.up.packets);
      assert.ok(stats.up.maxBacklogBytes <= queueBytes, `held at most ${stats.up.maxBacklogBytes} bytes`);
      assert.ok(stats.up.queueWaitUsMax / 1000 <= ((queueBytes * 8) / 1e6) * 1000 + 1, `waited at most ${stats.up.queueWaitUsMax} µs`);
    });
  });

  it('loss follows its seed: the same seed loses the same packets, and about the share asked for', async () => {
    const received = async (seed: number): Promise<number> =>
      withLink(symmetricPath({ lossPercent: 20 }, seed), async (link) => (await probeOk('flood', link, { packets: 4000 })).received);
    const first = await received(7);
    assert.equal(await received(7), first);
    assert.notEqual(await received(8), first);
    assert.ok(Math.abs(first / 4000 - 0.8) < 0.03, `${first} of 4000 arrived at 20% loss`);
  });

  it('jitter varies the delay and never reorders', async () => {
    await withLink(symmetricPath({ delayMs: 5, jitterMs: 4 }), async (link) => {
      const flood = await probeOk('flood', link, { packets: 3000, 'drain-ms': 100 });
      assert.equal(flood.received, 3000);
      assert.equal(flood.reordered, 0);
      const rtt = await probeOk('rtt', link, { count: 50 });
      assert.ok(rtt.maxUs - rtt.minUs > 1000, `round trips from ${rtt.minUs} to ${rtt.maxUs} µs`);
      assert.ok(rtt.minUs >= 2000, 'never less than the delay less the jitter, each way');
    });
  });

  it('carries a run: clients and server in their namespaces, every packet counted, the payload the driver counted', async () => {
    const result = await runScenario(
      { ...RUN_DEFAULTS, scenario: 'echo', transport: 'tcp', clients: 2, rttMs: 10, warmupSeconds: 0.2, durationSeconds: 0.5 },
      { serverCommand: [], localAddresses: [], emit: () => {}, link: { method: 'netns', reason: 'the test asks for it' } },
    );
    assert.equal(result.state, 'completed', result.state === 'failed' ? result.error : '');
    const run = result as CompletedRun;
    assert.equal(run.network.method, 'netns');
    assert.equal(run.network.reason, 'the test asks for it');
    assert.ok(run.target.includes('100.64.0.2'), run.target);
    assert.equal(run.messages.lost, 0);
    assert.ok(run.latencyMs.p50 >= 10, `p50 ${run.latencyMs.p50} ms at RTT 10 ms`);
    const wire = run.onTheWire!;
    assert.equal(wire.up.tcpPayloadBytes, run.bytes.up.total, 'the link carried the payload the driver sent');
    assert.equal(wire.down.tcpPayloadBytes, run.bytes.down.total, 'and the payload it received');
    assert.equal(wire.up.syn, run.connections.opened, 'one SYN per connection');
    assert.equal(wire.down.syn, run.connections.opened, 'one SYN-ACK per connection');
    assert.ok(wire.up.fin >= 1 && wire.down.fin >= 1, 'the teardown was counted');
    assert.ok(wire.up.ipBytes > wire.up.tcpPayloadBytes + 40 * wire.up.packets - 1, 'IP and TCP headers are in the IP bytes');
    assert.equal(wire.up.retransmittedSegments + wire.down.retransmittedSegments, 0);
    assert.equal(wire.unintendedDrops, 0);
    assert.ok(run.driver.cpuSeconds > 0);
  });
});
