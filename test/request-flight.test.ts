/**
 * A new connection's round trips before its request, counted on the forwarder's trace: the
 * packets of three connections as the forwarder recorded them at d = 50 ms one way (a plaintext
 * poll, and polls over TLS 1.3 and TLS 1.2), times in ms from the SYN.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TracedPacket } from '../bench/link/netns.ts';
import { requestFlightTimeline, upFlights } from '../bench/link/request-flight.ts';

const CLIENT_PORT = 42_000;
const SERVER_PORT = 8082;

type Row = [direction: 'up' | 'down', readMs: number, deliveredMs: number | undefined, flags: number, payloadBytes: number];

function trace(rows: Row[]): TracedPacket[] {
  return rows.map(([direction, readMs, deliveredMs, flags, payloadBytes]) => {
    const up = direction === 'up';
    return {
      up,
      readUs: Math.round(readMs * 1000),
      deliveredUs: deliveredMs === undefined ? undefined : Math.round(deliveredMs * 1000),
      flags,
      payloadBytes,
      sourcePort: up ? CLIENT_PORT : SERVER_PORT,
      destinationPort: up ? SERVER_PORT : CLIENT_PORT,
    };
  });
}

// SYN, SYN-ACK, ACK; the request; the answer with FIN; teardown
const PLAINTEXT = trace([
  ['up', 0.0, 50.12, 2, 0],
  ['down', 50.13, 100.25, 18, 0],
  ['up', 100.25, 150.4, 16, 0],
  ['up', 100.54, 150.62, 24, 139],
  ['down', 150.63, 200.74, 16, 0],
  ['down', 151.96, 202.01, 24, 142],
  ['down', 152.85, 202.88, 17, 0],
  ['up', 202.01, 252.1, 16, 0],
  ['up', 202.54, 252.59, 17, 0],
  ['up', 202.88, 252.94, 16, 0],
  ['down', 252.59, 302.74, 16, 0],
]);

// ClientHello; the server's flight (ServerHello to Finished); the client's Finished and the request in one segment;
// the session tickets and the answer (738 B), close_notify (24 B), FIN
const TLS_1_3 = trace([
  ['up', 0.0, 50.17, 2, 0],
  ['down', 50.17, 100.35, 18, 0],
  ['up', 100.36, 150.53, 16, 0],
  ['up', 100.67, 150.77, 24, 240],
  ['down', 150.78, 200.9, 16, 0],
  ['down', 151.62, 201.71, 24, 843],
  ['up', 201.72, 251.84, 16, 0],
  ['up', 202.95, 253.02, 24, 241],
  ['down', 254.2, 304.36, 24, 738],
  ['down', 254.32, 304.36, 24, 24],
  ['down', 254.41, 304.46, 17, 0],
  ['up', 304.45, 354.58, 16, 0],
  ['up', 304.86, 354.95, 17, 0],
  ['down', 354.95, 405.08, 16, 0],
]);

// ClientHello; ServerHello to ServerHelloDone; the key exchange, ChangeCipherSpec and Finished; the server's session
// ticket, ChangeCipherSpec and Finished; the request; the answer, close_notify, FIN; the client's RST
const TLS_1_2 = trace([
  ['up', 0.0, 50.11, 2, 0],
  ['down', 50.11, 100.23, 18, 0],
  ['up', 100.23, 150.36, 16, 0],
  ['up', 100.45, 150.52, 24, 259],
  ['down', 150.53, 200.63, 16, 0],
  ['down', 151.21, 201.27, 24, 684],
  ['up', 201.27, 251.36, 16, 0],
  ['up', 202.01, 252.05, 24, 93],
  ['down', 252.6, 302.72, 24, 274],
  ['up', 303.52, 353.63, 24, 168],
  ['down', 354.61, 404.71, 24, 171],
  ['down', 354.75, 404.79, 24, 31],
  ['down', 354.84, 404.88, 17, 0],
  ['up', 405.06, 455.18, 20, 0],
]);

const D = 50;

describe('the round trips before a new connection’s request, from the trace', () => {
  it('groups the client’s payload packets in flights, a gap of more than one way apart', () => {
    assert.deepEqual(
      upFlights(TLS_1_2, D * 1000).map((flight) => flight.map((packet) => packet.payloadBytes)),
      [[259], [93], [168]],
    );
    assert.deepEqual(
      upFlights(TLS_1_3, D * 1000).map((flight) => flight.map((packet) => packet.payloadBytes)),
      [[240], [241]],
    );
    // within one flight: two packets a millisecond apart stay together
    const split = trace([
      ['up', 100, 150, 24, 60],
      ['up', 101, 151, 24, 180],
      ['up', 300, 350, 24, 10],
    ]);
    assert.deepEqual(
      upFlights(split, D * 1000).map((flight) => flight.length),
      [2, 1],
    );
  });

  it('plaintext: the request in the first flight, no handshake round trip', () => {
    const timeline = requestFlightTimeline(PLAINTEXT, D);
    assert.equal(timeline.handshakeRoundTrips, 0);
    assert.equal(timeline.connectedMs, 100.25);
    assert.equal(timeline.serverHasRequestMs, 150.62);
    assert.equal(timeline.answerMs, 202.01);
    assert.deepEqual(timeline.bytesBeforeRequest, { up: 0, down: 0 });
  });

  it('TLS 1.3: one round trip, the request with the Finished; the answer is the reply to that flight, the tickets with it', () => {
    const timeline = requestFlightTimeline(TLS_1_3, D);
    assert.equal(timeline.handshakeRoundTrips, 1);
    assert.equal(timeline.connectedMs, 100.35);
    assert.equal(timeline.serverHasRequestMs, 253.02);
    assert.equal(timeline.answerMs, 304.36);
    assert.deepEqual(timeline.bytesBeforeRequest, { up: 240, down: 843 });
  });

  it('TLS 1.2: two round trips; the server’s reply to the second (its Finished) is not taken for the answer', () => {
    const timeline = requestFlightTimeline(TLS_1_2, D);
    assert.equal(timeline.handshakeRoundTrips, 2);
    assert.equal(timeline.serverHasRequestMs, 353.63);
    assert.equal(timeline.answerMs, 404.71);
    assert.deepEqual(timeline.bytesBeforeRequest, { up: 259 + 93, down: 684 + 274 });
  });

  it('a flight the server did not answer is not the request’s (a close_notify after the answer, say)', () => {
    const withClose = [...TLS_1_3, ...trace([['up', 305, 355, 24, 24]])].sort((a, b) => a.readUs - b.readUs);
    const timeline = requestFlightTimeline(withClose, D);
    assert.equal(timeline.handshakeRoundTrips, 1);
    assert.equal(timeline.answerMs, 304.36);
  });

  it('refuses a trace without a handshake or without an answered request', () => {
    assert.throws(() => requestFlightTimeline(TLS_1_3.slice(2), D), /lacks the handshake/);
    assert.throws(() => requestFlightTimeline(TLS_1_3.slice(0, 5), D), /lacks a request the server answered/);
  });
});
