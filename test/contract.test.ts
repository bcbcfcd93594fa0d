import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMITS,
  ContractError,
  EchoEncoder,
  decodeEchoSeq,
  isEchoReply,
  decodeServerEvent,
  echoReply,
  encodeEchoMessage,
  encodeServerEvent,
  parseControlRequest,
} from '../servers/contract.ts';

describe('contract', () => {
  it('echoes with two spaces, as the textbook does', () => {
    assert.equal(echoReply('hi'), 'Received:  hi');
  });

  it('encodes server events at the requested size and decodes them back', () => {
    const text = encodeServerEvent({ kind: 'push', seq: 17, sentAtMs: 1764102011123.457 }, 64);
    assert.equal(Buffer.byteLength(text), 64);
    assert.ok(text.startsWith('push 17 1764102011123.457 x'));
    assert.deepEqual(decodeServerEvent(text), { kind: 'push', seq: 17, sentAtMs: 1764102011123.457 });
  });

  it('gives the bare envelope when the size asked is smaller', () => {
    const text = encodeServerEvent({ kind: 'broadcast', seq: 1, sentAtMs: 5 }, 4);
    assert.equal(text, 'broadcast 1 5.000');
    assert.deepEqual(decodeServerEvent(text), { kind: 'broadcast', seq: 1, sentAtMs: 5 });
    assert.equal(decodeServerEvent('Received:  push 1 2'), undefined);
  });

  it('numbers echo messages so a reply from any echo server can be matched', () => {
    const message = encodeEchoMessage(42, 16);
    assert.equal(message, '42 xxxxxxxxxxxxx');
    assert.equal(decodeEchoSeq(echoReply(message)), 42);
    assert.equal(decodeEchoSeq(message), 42);
    assert.equal(encodeEchoMessage(12345, 2), '12345');
    assert.equal(decodeEchoSeq('Received:  nothing'), undefined);
  });

  it("reads envelopes from a message's UTF-8 bytes as from its text, padding unread", () => {
    const event = encodeServerEvent({ kind: 'push', seq: 17, sentAtMs: 1764102011123.457 }, 64);
    const bytes = Buffer.from(`--${event}`, 'utf8').subarray(2); // a view into a larger buffer, as a socket's read gives
    assert.deepEqual(decodeServerEvent(bytes), { kind: 'push', seq: 17, sentAtMs: 1764102011123.457 });
    assert.deepEqual(decodeServerEvent(Buffer.from('broadcast 3 12 é')), { kind: 'broadcast', seq: 3, sentAtMs: 12 });
    for (const bad of ['push 1', 'push 1 ', 'push x 2', 'push 1 2.', 'push 1 2x', 'pushy 1 2', 'Received:  push 1 2']) {
      assert.equal(decodeServerEvent(Buffer.from(bad)), undefined, bad);
      assert.equal(decodeServerEvent(bad), undefined, bad);
    }
    assert.equal(decodeEchoSeq(Buffer.from('Received:  42 xx')), 42);
    assert.equal(decodeEchoSeq(Buffer.from('42')), 42);
    assert.equal(decodeEchoSeq(Buffer.from('Received:  42x')), undefined);
    assert.equal(isEchoReply(Buffer.from('Received:  1')), true);
    assert.equal(isEchoReply(Buffer.from('Received: 1')), false);
  });

  it('encodes echo messages into one buffer, the same bytes as the text, whatever the seq before', () => {
    const encoder = new EchoEncoder(16);
    for (const seq of [123456, 7, 1000, 99, 123456789012345]) {
      assert.equal(encoder.encode(seq).toString('latin1'), encodeEchoMessage(seq, 16), String(seq));
    }
    assert.equal(new EchoEncoder(3).encode(12345).toString('latin1'), '12345');
  });

  it('parses control requests and refuses bad ones clearly', () => {
    assert.deepEqual(parseControlRequest('{"op":"push","ratePerSecond":10,"sizeBytes":16,"count":5}', DEFAULT_LIMITS), {
      op: 'push',
      ratePerSecond: 10,
      sizeBytes: 16,
      count: 5,
    });
    assert.deepEqual(parseControlRequest('{"op":"broadcast","sizeBytes":0}', DEFAULT_LIMITS), { op: 'broadcast', sizeBytes: 0 });
    assert.throws(
      () => parseControlRequest('nope', DEFAULT_LIMITS),
      (error: ContractError) => error.code === 'bad-request' && /JSON/.test(error.message),
    );
    assert.throws(() => parseControlRequest('[1]', DEFAULT_LIMITS), /JSON object/);
    assert.throws(() => parseControlRequest('{"op":"dance"}', DEFAULT_LIMITS), /op must be/);
    assert.throws(
      () => parseControlRequest('{"op":"push","ratePerSecond":10,"sizeBytes":1e9,"count":5}', DEFAULT_LIMITS),
      /sizeBytes must be an integer from 0 to 65536/,
    );
    assert.throws(() => parseControlRequest('{"op":"push","ratePerSecond":10,"sizeBytes":1,"count":0}', DEFAULT_LIMITS), /count/);
  });
});
