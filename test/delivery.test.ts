import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SequenceTracker, addDelivery, summarizeDelivery, withSent } from '../bench/delivery.ts';

describe('delivery accounting', () => {
  it('counts a perfect stream as all received', () => {
    const tracker = new SequenceTracker();
    for (let seq = 1; seq <= 100; seq++) tracker.record(seq);
    // sent is the caller's count, carried as given (withSent replaces it): only what the trackers say is checked here
    const { sent: _sent, ...counted } = summarizeDelivery([{ tracker, expected: 100 }], 100);
    assert.deepEqual(counted, { expected: 100, received: 100, lost: 0, missing: 0, duplicated: 0, reordered: 0, clientsWithLoss: 0 });
  });

  it('sums clients: what each should have had, received, missed, repeated and reordered', () => {
    // three clients, their arrivals written out: the counts below are read off by hand
    const arrivals = [
      { seqs: [1, 2, 3, 4, 5], expected: 5 }, // all of them
      { seqs: [2, 1, 1, 5], expected: 6 }, // 1 late, 1 again, 3 4 6 never
      { seqs: [], expected: 2 }, // nothing
    ];
    const clients = arrivals.map(({ seqs, expected }) => {
      const tracker = new SequenceTracker();
      for (const seq of seqs) tracker.record(seq);
      return { tracker, expected };
    });
    const { sent: _sent, ...counted } = summarizeDelivery(clients, 13);
    assert.deepEqual(counted, { expected: 13, received: 8, lost: 5, missing: 5, duplicated: 1, reordered: 1, clientsWithLoss: 2 });
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

describe("workers' deliveries added up", () => {
  it('field by field, what was sent among them', () => {
    const into = { expected: 10, sent: 12, received: 9, lost: 1, missing: 3, duplicated: 2, reordered: 3, clientsWithLoss: 1 };
    addDelivery(into, { expected: 5, sent: 7, received: 5, lost: 0, missing: 1, duplicated: 1, reordered: 0, clientsWithLoss: 0 });
    assert.deepEqual(into, { expected: 15, sent: 19, received: 14, lost: 1, missing: 4, duplicated: 3, reordered: 3, clientsWithLoss: 1 });
  });

  it('with no sent figure once one worker has none: a part of a count is no count', () => {
    const into = { expected: 10, sent: 12, received: 9, lost: 1, missing: 1, duplicated: 0, reordered: 0, clientsWithLoss: 1 };
    addDelivery(into, { expected: 5, received: 5, lost: 0, duplicated: 0, reordered: 0, clientsWithLoss: 0 });
    assert.equal('sent' in into, false);
    assert.equal(into.missing, 1);
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
