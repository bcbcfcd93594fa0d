/**
 * "From 150 ms to 50 ms" measured on the netns link, at a small one-way delay d to keep it short:
 * a poll on a new connection has the server holding the request after 3d; over TLS 1.3 after
 * one handshake round trip more, 5d, over TLS 1.2 after two, 7d, each counted on the trace.
 * Skipped (with the reason) where the netns method cannot run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { measureFirstMessage } from '../bench/link/first-message.ts';
import { linkNamespaces, netnsUnavailable } from '../bench/link/netns.ts';
import { liveRunCertificates } from '../bench/run-certificate.ts';

const unavailable = netnsUnavailable();
const skip = unavailable === undefined ? false : `the netns method cannot run here: ${unavailable}`;

/** Within the larger of 5 ms and 10% (the servers' and the client's own time on top of the path's). */
function near(measuredMs: number, expectedMs: number, what: string): void {
  assert.ok(Math.abs(measuredMs - expectedMs) <= Math.max(5, expectedMs * 0.1), `${what}: ${measuredMs.toFixed(2)} ms, expected ${expectedMs} ms`);
}

describe('"from 150 ms to 50 ms" on the netns link', { skip }, () => {
  const d = 20;

  it(`with d = ${d} ms: plaintext has the request at 3d; TLS 1.3 after 1 handshake round trip (5d), TLS 1.2 after 2 (7d)`, async () => {
    const measured = await measureFirstMessage(2, d);
    near(measured.newConnectionPoll.serverHasRequestMs, 3 * d, 'plaintext: the server has the request');
    const polls = measured.newTlsConnectionPoll ?? [];
    assert.deepEqual(
      polls.map((poll) => [poll.version, poll.handshakeRoundTrips]),
      [
        ['1.3', 1],
        ['1.2', 2],
      ],
    );
    for (const poll of polls) {
      const trips = poll.handshakeRoundTrips;
      near(poll.connectedMs, 2 * d, `TLS ${poll.version}: connected`);
      near(poll.serverHasRequestMs, (3 + 2 * trips) * d, `TLS ${poll.version}: the server has the request`);
      near(poll.answerMs, (4 + 2 * trips) * d, `TLS ${poll.version}: the answer at the client`);
      // the client's own timing of the answer's first byte agrees with the path's
      near(poll.clientAnswerMs, poll.answerMs, `TLS ${poll.version}: the answer as the client timed it`);
      assert.ok(poll.bytesBeforeRequest.up > 0 && poll.bytesBeforeRequest.down > poll.bytesBeforeRequest.up, `TLS ${poll.version}: the handshake's bytes`);
    }
    // a frame down an open WebSocket takes one way, over TLS as in plaintext
    near(measured.websocketFrame.onTheWireMs, d, 'a frame down an open WebSocket');
    assert.equal(measured.websocketFrameOverTls?.version, '1.3');
    near(measured.websocketFrameOverTls.onTheWireMs, d, 'a frame down an open WebSocket over TLS');
    near(measured.websocketFrameOverTls.clientLatencyMs, d, 'the same, as the client timed it');
    // what the measurement made is gone: its namespaces and its certificate
    assert.deepEqual(linkNamespaces(process.pid), []);
    assert.deepEqual(liveRunCertificates(), []);
  });
});
