import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMITS,
  ContractError,
  decodeEchoSeq,
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
