/**
 * Shared by the byte accounting tests: feeding a conversation to a ConnectionAccountant in
 * pieces of any size, checking after every piece that the split balances, and the expected
 * splits written as their parts.
 */
import assert from 'node:assert/strict';
import {
  ConnectionAccountant,
  emptyWireBytes,
  type AccountantOptions,
  type ByteSplit,
  type Direction,
  type WireBytes,
  type WireProtocol,
} from '../bench/wire.ts';

/** Bytes one way, or (TLS) a line of the client's key log given to the accountant at that point. */
export type Step = readonly [Direction, Buffer | string] | readonly ['keylog', string];

export const BYTE_KINDS = ['payload', 'headers', 'framing', 'setup', 'tls'] as const;

export function bytesOf(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function latin1Bytes(text: string): number {
  return Buffer.byteLength(text, 'latin1');
}

/**
 * Against a count kept outside wire.ts (the bytes the test fed, or the socket's own counters):
 * the total and the sum of the parts are each that count, and no part is below zero.
 */
export function assertBalanced(wire: WireBytes, fedBytes: Record<Direction, number>): void {
  for (const direction of ['up', 'down'] as const) {
    const split = wire[direction];
    assert.equal(split.total, fedBytes[direction], `${direction}: total is the bytes fed`);
    const parts = BYTE_KINDS.reduce((sum, kind) => sum + split[kind], 0);
    assert.equal(parts, fedBytes[direction], `${direction}: the parts add up to the bytes fed`);
    for (const kind of BYTE_KINDS) assert.ok(split[kind] >= 0, `${direction}.${kind} >= 0`);
  }
}

/** Feeds a conversation, each step cut into pieces of at most `pieceBytes`, checking the invariant after every piece. */
export function account(protocol: WireProtocol, steps: readonly Step[], pieceBytes = Number.POSITIVE_INFINITY, options: AccountantOptions = {}): WireBytes {
  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant(protocol, wire, options);
  const fedBytes = { up: 0, down: 0 };
  for (const [direction, data] of steps) {
    if (direction === 'keylog') {
      accountant.keylog(data);
      assertBalanced(wire, fedBytes);
      continue;
    }
    const bytes = bytesOf(data);
    for (let start = 0; start < bytes.length; start += pieceBytes) {
      const piece = bytes.subarray(start, start + pieceBytes);
      if (direction === 'up') accountant.written(piece);
      else accountant.read(piece);
      fedBytes[direction] += piece.length;
      assertBalanced(wire, fedBytes);
    }
  }
  assert.deepEqual(accountant.seen, fedBytes);
  assert.equal(accountant.tlsProblem, undefined, 'every TLS record was read');
  return wire;
}

/** The same split whatever the chunking: whole steps, then pieces of 1, 2, 3, 5 and 64 bytes. */
export function accountAnyChunking(protocol: WireProtocol, steps: readonly Step[], options: AccountantOptions = {}): WireBytes {
  const whole = account(protocol, steps, Number.POSITIVE_INFINITY, options);
  for (const pieceBytes of [1, 2, 3, 5, 64]) {
    assert.deepEqual(account(protocol, steps, pieceBytes, options), whole, `pieces of ${pieceBytes} bytes`);
  }
  return whole;
}

/** A split from its parts (any left out are 0); the total is their sum. */
export function split(parts: Partial<Omit<ByteSplit, 'total'>>): ByteSplit {
  const payload = parts.payload ?? 0;
  const headers = parts.headers ?? 0;
  const framing = parts.framing ?? 0;
  const setup = parts.setup ?? 0;
  const tls = parts.tls ?? 0;
  return { total: payload + headers + framing + setup + tls, payload, headers, framing, setup, tls };
}

/** A chunked body of these pieces, then the last chunk. */
export function chunked(pieces: readonly Buffer[]): { body: Buffer; framingBytes: number } {
  const parts = pieces.flatMap((piece) => [Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]);
  const body = Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
  const dataBytes = pieces.reduce((sum, piece) => sum + piece.length, 0);
  return { body, framingBytes: body.length - dataBytes };
}

/** Cuts bytes at these offsets. */
export function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const bounds = [0, ...offsets, bytes.length];
  return bounds.slice(1).map((end, index) => bytes.subarray(bounds[index], end));
}

/** The header of a TCP transport frame: 4-byte big-endian length, top bit for control. */
export function tcpHeader(payloadBytes: number, control = false): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE((control ? 0x8000_0000 : 0) + payloadBytes, 0);
  return header;
}

export function tcpFrame(payload: Buffer | string, control = false): Buffer {
  const data = bytesOf(payload);
  return Buffer.concat([tcpHeader(data.length, control), data]);
}
