/**
 * A new connection's timeline from the forwarder's trace, counting the round trips the client
 * makes before its request instead of assuming them: its payload packets up fall in flights (the
 * client sends one, then waits a round trip for the server's), and its request is in the last
 * flight the server answered with payload. Plaintext HTTP sends the request in flight 0; a TLS
 * handshake puts its own flights first (ClientHello; for TLS 1.2 the key exchange and Finished),
 * so the request's flight's index is the number of handshake round trips before it.
 */
import type { TracedPacket } from './netns.ts';

const SYN = 2;
const ACK = 16;

export interface RequestFlightTimeline {
  /** Flights the client sent before its request's, each answered by the server: 0 in plaintext. */
  handshakeRoundTrips: number;
  /** The SYN-ACK at the client, from the SYN entering the path. */
  connectedMs: number;
  /** The request's flight all in the server's namespace (its last packet delivered), from the SYN. */
  serverHasRequestMs: number;
  /**
   * The server's reply to the request's flight at the client (its first payload packet read after
   * the flight was delivered), from the SYN. Over TLS 1.3 the server sends its session tickets
   * when it reads the client's Finished, which comes in the request's flight: tickets and answer
   * leave together, and this is when the first of them arrived (the client's own timing,
   * application data only, tells the answer apart).
   */
  answerMs: number;
  /** TCP payload bytes before the request's flight: up, the earlier flights; down, what the server sent before the client sent its request. */
  bytesBeforeRequest: { up: number; down: number };
}

const ms = (us: number): number => us / 1000;

/** The client's payload packets in flights: a new flight wherever more than `gapUs` passed since the previous packet was read. */
export function upFlights(packets: readonly TracedPacket[], gapUs: number): TracedPacket[][] {
  const flights: TracedPacket[][] = [];
  let previous: TracedPacket | undefined;
  for (const packet of packets) {
    if (!packet.up || packet.payloadBytes === 0) continue;
    if (previous === undefined || packet.readUs - previous.readUs > gapUs) flights.push([]);
    flights.at(-1)!.push(packet);
    previous = packet;
  }
  return flights;
}

/**
 * The timeline of one new connection whose client sends its request after zero or more round
 * trips of handshake (`packets`: that connection's, in the order the forwarder read them), on a
 * path with `oneWayMs` each way: flights are told apart by a gap of more than one way (the
 * client waits a whole round trip between two; the packets of one leave within a few
 * milliseconds). A flight is answered when the server sends payload after it has the flight's
 * last packet and before the client's next flight; the request's flight is the last one answered.
 */
export function requestFlightTimeline(packets: readonly TracedPacket[], oneWayMs: number): RequestFlightTimeline {
  const syn = packets.find((packet) => packet.up && (packet.flags & (SYN | ACK)) === SYN);
  const synAck = packets.find((packet) => !packet.up && (packet.flags & (SYN | ACK)) === (SYN | ACK));
  if (syn === undefined || synAck?.deliveredUs === undefined) throw new Error('the trace lacks the handshake of a new connection');
  const flights = upFlights(packets, oneWayMs * 1000);
  const down = packets.filter((packet) => !packet.up && packet.payloadBytes > 0);
  const replies = flights.map((flight, index) => {
    const hadIt = flight.at(-1)!.deliveredUs;
    const next = flights[index + 1]?.[0]?.readUs ?? Number.POSITIVE_INFINITY;
    return hadIt === undefined ? undefined : down.find((packet) => packet.readUs >= hadIt && packet.readUs < next);
  });
  let index = replies.length - 1;
  while (index >= 0 && replies[index] === undefined) index -= 1;
  const flight = flights[index];
  const reply = replies[index];
  if (flight === undefined || reply?.deliveredUs === undefined) throw new Error('the trace lacks a request the server answered on a new connection');
  const hadRequestUs = flight.at(-1)!.deliveredUs!;
  const sum = (some: readonly TracedPacket[]): number => some.reduce((total, packet) => total + packet.payloadBytes, 0);
  return {
    handshakeRoundTrips: index,
    connectedMs: ms(synAck.deliveredUs - syn.readUs),
    serverHasRequestMs: ms(hadRequestUs - syn.readUs),
    answerMs: ms(reply.deliveredUs - syn.readUs),
    bytesBeforeRequest: { up: sum(flights.slice(0, index).flat()), down: sum(down.filter((packet) => packet.readUs < flight[0]!.readUs)) },
  };
}
