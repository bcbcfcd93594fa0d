import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Mailbox } from '../servers/mailbox.ts';

describe('mailbox', () => {
  it('keeps messages until they are acknowledged', () => {
    const mailbox = new Mailbox(10, 1000);
    mailbox.enqueue('a');
    mailbox.enqueue('b');
    assert.deepEqual(mailbox.pendingAfter(0), [
      { id: 1, data: 'a' },
      { id: 2, data: 'b' },
    ]);
    assert.equal(mailbox.acknowledge(1), true);
    assert.deepEqual(mailbox.pendingAfter(0), [{ id: 2, data: 'b' }]);
    assert.equal(mailbox.size, 1);
  });

  it('refuses a message when undelivered ones fill it, by count or by bytes', () => {
    const byCount = new Mailbox(2, 1000);
    byCount.enqueue('a');
    byCount.enqueue('b');
    assert.throws(() => byCount.enqueue('c'), { code: 'mailbox-full' });
    assert.equal(byCount.size, 2);
    const byBytes = new Mailbox(100, 4);
    byBytes.enqueue('éé');
    assert.throws(() => byBytes.enqueue('x'), /4 bytes/);
  });

  it('makes room by evicting delivered messages, counts them, and reports a resume into the gap', () => {
    const mailbox = new Mailbox(2, 1000);
    mailbox.enqueue('a');
    mailbox.enqueue('b');
    mailbox.markDelivered(2);
    mailbox.enqueue('c');
    assert.equal(mailbox.evictedDelivered, 1);
    assert.deepEqual(
      mailbox.pendingAfter(0).map((m) => m.id),
      [2, 3],
    );
    assert.equal(mailbox.acknowledge(0), false, 'message 1 is gone: a resume from 0 has a gap');
    assert.equal(mailbox.acknowledge(2), true);
  });

  it('tells subscribers of each message until they unsubscribe', () => {
    const mailbox = new Mailbox(10, 1000);
    let calls = 0;
    const stop = mailbox.subscribe(() => (calls += 1));
    mailbox.enqueue('a');
    stop();
    mailbox.enqueue('b');
    assert.equal(calls, 1);
  });
});
