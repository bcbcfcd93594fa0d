/** What a fleet's recorder counts as the window's throughput and latency (bench/fleet-recorder.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRecord, FleetRecorder } from '../bench/fleet-recorder.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import { EchoEncoder, echoReply, encodeServerEvent } from '../servers/contract.ts';
import { decodeHistogram } from '../bench/latency.ts';

const WINDOW = { startMs: 10_000, endMs: 11_000 };

describe('the window counts what was sent in it', () => {
  it("a push queued in the warm-up and received in the window is not the window's: no run reports more than it was offered", () => {
    const recorder = new FleetRecorder({ ...RUN_DEFAULTS, scenario: 'push', transport: 'short-poll' });
    recorder.window = WINDOW;
    const record = new ClientRecord();
    record.pushExpected = 4;
    // two sent in the warm-up, delivered by the first poll of the window; two sent in the window, one delivered after it
    const sentAt = [9_200, 9_700, 10_200, 10_900];
    const receivedAt = [10_100, 10_100, 10_600, 11_300];
    sentAt.forEach((sentAtMs, index) => recorder.receive(record, encodeServerEvent({ kind: 'push', seq: index + 1, sentAtMs }, 64), receivedAt[index]!));
    const result = recorder.summarize([record], [], 0, 0, 0);
    assert.equal(result.messagesInWindow, 2);
    const histogram = decodeHistogram(result.histogram);
    assert.equal(histogram.totalCount, 2);
    assert.ok(Math.abs(histogram.maxValue / 1000 - 400) < 1, 'the late one counts, with its 400 ms');
    assert.equal(result.delivery.received, 4, 'every arrival still counts for delivery');
  });

  it('an echo counts by the time its message was sent, from its bytes', () => {
    const recorder = new FleetRecorder({ ...RUN_DEFAULTS, scenario: 'echo', transport: 'websocket' });
    recorder.window = WINDOW;
    const record = new ClientRecord();
    const encoder = new EchoEncoder(32);
    const before = recorder.nextEcho(record, 9_990);
    const inside = recorder.nextEcho(record, 10_500);
    const reply = (seq: number): Buffer => Buffer.from(echoReply(encoder.encode(seq).toString('latin1')));
    assert.equal(recorder.receive(record, reply(before), 10_010), 'echo-reply');
    assert.equal(recorder.receive(record, reply(inside), 10_501), 'echo-reply');
    assert.equal(recorder.receive(record, reply(inside), 10_502), 'duplicate');
    const result = recorder.summarize([record], [], 0, 0, 0);
    assert.equal(result.messagesInWindow, 1);
    assert.equal(result.delivery.sent, 2, 'the clients sent two');
    assert.equal(result.delivery.duplicated, 1);
  });
});
