import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker, summarizeDelivery } from '../bench/delivery.ts';

describe('delivery accounting', () => {
  it('counts a perfect stream as all received', () => {
    const tracker = new SequenceTracker();
    for (let seq = 1; seq <= 100; seq++) tracker.record(seq);
    assert.deepEqual(summarizeDelivery([{ tracker, expected: 100 }], 100), {
      expected: 100,
      sent: 100,
      received: 100,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      clientsWithLoss: 0,
    });
  });

  it('counts losses, duplicates and reorderings', () => {
    const tracker = new SequenceTracker();
    for (const seq of [1, 2, 4, 3, 3, 6, 1, 8]) tracker.record(seq);
    assert.equal(tracker.received, 6);
    assert.equal(tracker.duplicated, 2);
    assert.equal(tracker.reordered, 1);
    assert.equal(tracker.lost(8), 2); // 5 and 7
    assert.equal(tracker.lost(10), 4); // and 9, 10 never came
    const summary = summarizeDelivery(
      [
        { tracker, expected: 8 },
        { tracker: new SequenceTracker(), expected: 0 },
      ],
      8,
    );
    assert.equal(summary.clientsWithLoss, 1);
  });
});
