/**
 * The live Kaazing table of the scale profile (scripts/report/kaazing-live.ts) and the rule that
 * ends a rate ladder (bench/capacity.ts's sustained).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sustained } from '../bench/capacity.ts';
import { kaazingLiveSection } from '../scripts/report/kaazing-live.ts';
import type { CompletedRun, Results } from '../bench/result.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;
const base = fixture.runs.find((run): run is CompletedRun => run.state === 'completed' && run.scenario === 'push' && run.transport === 'websocket')!;

/** A made-up live Kaazing run: `clients` WebSocket clients asked `rate` messages a second each, `delivered` a second in all. */
function live(clients: number, rate: number, delivered: number, extra: Partial<CompletedRun> = {}): CompletedRun {
  return {
    ...base,
    id: `push/websocket/16B/c${clients}/r${rate}`,
    clients,
    config: { ...base.config, clients, pushRatePerSecond: rate, payloadBytes: 16, group: 'kaazing' },
    messages: { expected: 1000, sent: 1000, received: 1000, lost: 0, missing: 0, duplicated: 0, reordered: 0, clientsWithLoss: 0 },
    // 200 set-up bytes, then 1,000 messages of 16 B payload and 2 B framing down, 2,000 B of framing up
    bytes: {
      up: { total: 2100, payload: 0, headers: 0, framing: 2000, setup: 100, tls: 0 },
      down: { total: 18100, payload: 16000, headers: 0, framing: 2000, setup: 100, tls: 0 },
    },
    throughput: { messagesPerSecond: delivered, measuredSeconds: 4, messagesInWindow: delivered * 4, offeredPerSecond: clients * rate },
    server: {
      ...base.server,
      peakRssBytes: 1000 * 1024 * 1024,
      rssBeforeClientsBytes: 300 * 1024 * 1024,
      window: { cpuCores: 0.8, eventLoopUtilization: 0.7 },
    },
    bound: { side: 'none', reason: 'test' },
    ...extra,
  };
}

describe('a rate ladder', () => {
  it('ends at the first run that delivered what it asked, lost nothing, and was not driver-bound', () => {
    assert.equal(sustained(live(100_000, 0.5, 49_000)), true);
    assert.equal(sustained(live(100_000, 1, 83_000)), false, 'delivered 83% of what it asked');
    assert.equal(sustained(live(100_000, 0.5, 50_000, { bound: { side: 'driver', reason: 'x' } })), false, 'the driver measured itself');
    const lossy = live(100_000, 0.5, 50_000);
    assert.equal(sustained({ ...lossy, messages: { ...lossy.messages, lost: 3 } }), false, 'a run that lost messages');
  });
});

describe('the live Kaazing table', () => {
  it('is left out without a live run beyond the default suite’s 1,000 clients', () => {
    assert.equal(kaazingLiveSection({ ...fixture, runs: [live(1000, 1, 1000)] }), undefined);
  });

  it('gives bytes per message after set-up, the bandwidth at the rate delivered and at one a second, and memory per connection, and marks an unsustained rate', () => {
    const results: Results = { ...fixture, runs: [live(100_000, 1, 83_000), live(100_000, 0.5, 50_000)] };
    const section = kaazingLiveSection(results) ?? '';
    const rows = section.split('\n').filter((line) => line.startsWith('| `push/websocket'));
    assert.equal(rows.length, 2);
    const cells = (row: string): string[] => row.split('|').map((cell) => cell.trim());
    const unsustained = cells(rows[0]!);
    // (2,100 + 18,100 − 200) / 1,000 = 20 B a message; headers + framing 4 B
    assert.equal(unsustained[6], '20.0');
    assert.equal(unsustained[7], '4.0');
    // 20 B × 83,000 a second × 8 / 2^20 = 12.7 Mbit/s; at one a second per client: 20 × 100,000 × 8 / 2^20 = 15.3
    assert.equal(unsustained[8], '12.7');
    assert.equal(unsustained[9], '15.3');
    assert.equal(unsustained[10], '3.05');
    assert.match(unsustained[5]!, /83,000 of 100,000 \(83\.0%\): NOT sustained/);
    // (1,000 − 300) MiB / 100,000 clients = 7,340 B a connection
    assert.equal(unsustained[13], '7,340');
    assert.match(cells(rows[1]!)[5]!, /50,000 of 50,000 \(100\.0%\): sustained/);
    assert.match(section, /Not sustained: `push\/websocket\/16B\/c100000\/r1`/);
  });
});
