import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker, summarizeDelivery, withSent } from '../bench/delivery.ts';

describe('delivery accounting', () => {
  it('counts a perfect stream as all received', () => {
    const tracker = new SequenceTracker();
    for (let seq = 1; seq <= 100; seq++) tracker.record(seq);
    assert.deepEqual(summarizeDelivery([{ tracker, expected: 100 }], 100), {
      expected: 100,
      sent: 100,
      received: 100,
      lost: 0,
      missing: 0,
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

describe('loss is what was sent and never arrived', () => {
  // a client expected 10 (seqs 1..10) and received 1..6: 4 missing
  const tracker = new SequenceTracker();
  for (let seq = 1; seq <= 6; seq++) tracker.record(seq);
  const fleet = summarizeDelivery([{ tracker, expected: 10 }], 0);

  it('a sender that sent 8 of the 10 expected: 2 lost, 4 missing', () => {
    const delivery = withSent(fleet, 8);
    assert.equal(delivery.sent, 8);
    assert.equal(delivery.expected, 10);
    assert.equal(delivery.lost, 2);
    assert.equal(delivery.missing, 4);
  });

  it('a sender nobody counted: no sent figure, and loss is what is missing', () => {
    const delivery = withSent(fleet, undefined);
    assert.equal('sent' in delivery, false);
    assert.equal(delivery.lost, 4);
    assert.equal(delivery.missing, 4);
  });
});
