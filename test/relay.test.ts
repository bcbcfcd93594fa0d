/** The delaying relay: it delays, limits the rate, keeps the byte order; and the report judges the RTT series from the data. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DelayRelay, measureRelayOverhead } from '../bench/relay.ts';
import type { CompletedRun, Results } from '../bench/result.ts';
import { rttSection } from '../scripts/report/rtt-section.ts';

async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Sends `payload` through the relay to an echo server; resolves with what came back and how long it took. */
async function roundTrip(port: number, payload: Buffer): Promise<{ echoed: Buffer; elapsedMs: number }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = performance.now();
  const chunks: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= payload.length) resolve();
    });
    // written in pieces, as a client would
    for (let offset = 0; offset < payload.length; offset += 1000) socket.write(payload.subarray(offset, offset + 1000));
  });
  const elapsedMs = performance.now() - started;
  socket.destroy();
  return { echoed: Buffer.concat(chunks), elapsedMs };
}

describe('delaying relay', () => {
  it('adds at least the round-trip time and keeps every byte in order', async () => {
    const echo = await echoServer();
    const relay = await DelayRelay.start({ host: '127.0.0.1', port: echo.port }, { rttMs: 40, bandwidthBitsPerSecond: 0 });
    try {
      const payload = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
      const { echoed, elapsedMs } = await roundTrip(relay.port, payload);
      assert.ok(echoed.equals(payload), 'the bytes came back in order');
      assert.ok(elapsedMs >= 40, `a round trip took ${elapsedMs} ms`);
    } finally {
      await relay.close();
      await echo.close();
    }
  });

  it('limits each direction to its bandwidth', async () => {
    const echo = await echoServer();
    // 40,000 bytes at 1 Mbit/s: 320 ms up, and as long down, at the least
    const relay = await DelayRelay.start({ host: '127.0.0.1', port: echo.port }, { rttMs: 0, bandwidthBitsPerSecond: 1_000_000 });
    try {
      const { echoed, elapsedMs } = await roundTrip(relay.port, Buffer.alloc(40_000, 7));
      assert.equal(echoed.length, 40_000);
      assert.ok(elapsedMs >= 320, `40,000 bytes at 1 Mbit/s took ${elapsedMs} ms`);
    } finally {
      await relay.close();
      await echo.close();
    }
  });

  it('measures what a relay adds to a round trip: a known delay in full, none at RTT 0; and from how many round trips', async () => {
    // a relay that delays each round trip by 30 ms: the measurement must find them, less at
    // most one direct loopback round trip (far below the 3 ms of slack)
    const delayed = await measureRelayOverhead(20, { rttMs: 30, bandwidthBitsPerSecond: 0 });
    assert.ok(delayed.relayOverheadMs >= 27 && delayed.relayOverheadMs < 1000, `a relay with a 30 ms RTT measured as adding ${delayed.relayOverheadMs} ms`);
    assert.equal(delayed.relayOverheadSamples, 20);
    // at RTT 0 none of that delay: only the relay's own hop
    const { relayOverheadMs, relayOverheadSamples } = await measureRelayOverhead(50);
    assert.ok(
      Number.isFinite(relayOverheadMs) && relayOverheadMs < delayed.relayOverheadMs - 15,
      `RTT 0: ${relayOverheadMs} ms against ${delayed.relayOverheadMs} ms at RTT 30`,
    );
    assert.equal(relayOverheadSamples, 50);
  });
});

describe('latency against round-trip time, in the report', () => {
  const results = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
  const push = results.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10') as CompletedRun;

  /** `relayOverheadSamples` null: a run from before the count was recorded. */
  function withRtt(p50Ms: number, relayOverheadSamples: number | null = 200): Results {
    const slow: CompletedRun = {
      ...push,
      id: `${push.id}/rtt100ms`,
      config: { ...push.config, rttMs: 100, bandwidthBitsPerSecond: 0 },
      latencyMs: { ...push.latencyMs, p50: p50Ms },
      network: {
        method: 'relay',
        rttMs: 100,
        bandwidthBitsPerSecond: 0,
        relayOverheadMs: 0.02,
        ...(relayOverheadSamples === null ? {} : { relayOverheadSamples }),
      },
    };
    return { ...results, runs: [...results.runs, slow] };
  }

  it('says a WebSocket push takes half a round trip when the data show it', () => {
    const text = rttSection(withRtt(push.latencyMs.p50 + 50.5)) ?? '';
    assert.match(text, /\| websocket \| .* \| RTT 100 ms: holds \(p50 /);
    assert.match(text, /one packet on an open socket takes the 50 ms one way, as claimed/);
  });

  it('says it does not hold when the data say otherwise', () => {
    const text = rttSection(withRtt(push.latencyMs.p50 + 150)) ?? '';
    assert.match(text, /\| websocket \| .* \| RTT 100 ms: does not hold \(p50 /);
    assert.match(text, /not the 50 ms claimed/);
  });

  it("gives the relay's own cost with the number of round trips its run recorded, or says it was not recorded", () => {
    assert.match(
      rttSection(withRtt(push.latencyMs.p50 + 50.5, 37)) ?? '',
      /0\.020–0\.020 ms to a round trip at RTT 0 \(measured before each run that uses it: the median of 37 round trips through it less the median of as many direct\)/,
    );
    const older = rttSection(withRtt(push.latencyMs.p50 + 50.5, null)) ?? '';
    assert.match(older, /how many round trips was not recorded in this run\)/);
    assert.doesNotMatch(older, /200/);
  });

  it('leaves the section out when no run had a round-trip time', () => {
    assert.equal(rttSection(results), undefined);
  });
});
