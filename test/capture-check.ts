/**
 * What a run's bytes must be against an independent count (test/pcap.ts), shared by the capture
 * tests over plaintext, TLS and HTTP/2: the totals and their parts equal to the capture, the
 * payload equal to the messages the server counted at their size, and the server's own sockets
 * equal to the capture on the other end.
 */
import assert from 'node:assert/strict';
import { ECHO_PREFIX } from '../servers/contract.ts';
import type { CompletedRun, ScenarioName } from '../bench/result.ts';
import type { ServerProcess } from '../bench/server-process.ts';
import type { ByteSplit } from '../bench/wire.ts';
import { payloadBytes, type Capture } from './pcap.ts';

/** Stops the capture once the last segments have reached it, checks the run against it, and returns what it counted. */
export async function assertRunMatchesCapture(
  run: CompletedRun,
  capture: { capture: Capture; file: string },
  server: ServerProcess,
  scenario: ScenarioName,
  messageBytes: number,
): Promise<ReturnType<typeof payloadBytes>> {
  await new Promise((resolve) => setTimeout(resolve, 300)); // the last segments reach the capture
  assert.equal(await capture.capture.stop(), 0, 'tcpdump dropped packets: its count would be short');
  const captured = payloadBytes(capture.file, server.port);
  assert.ok(captured.segments > 0);
  assert.equal(run.messages.lost, 0);
  assert.deepEqual({ up: run.bytes.up.total, down: run.bytes.down.total }, { up: captured.up, down: captured.down });
  // the parts add up to what the capture saw, not only to the total they were counted with
  for (const direction of ['up', 'down'] as const) {
    const split: ByteSplit = run.bytes[direction];
    assert.equal(split.payload + split.headers + split.framing + split.setup + split.tls, captured[direction], `${direction}: the parts against the capture`);
  }
  // and the payload is the messages the server itself counted, at their size on the wire
  const stats = await server.stats();
  const replyBytes = scenario === 'echo' ? messageBytes + ECHO_PREFIX.length : messageBytes;
  assert.deepEqual(
    { up: run.bytes.up.payload, down: run.bytes.down.payload },
    { up: stats.messagesIn * messageBytes, down: stats.messagesOut * replyBytes },
    `payload against the server's ${stats.messagesIn} messages in and ${stats.messagesOut} out`,
  );
  // the server's sockets, on the other end, saw the same bytes the capture did
  assert.deepEqual({ up: stats.bytesRead, down: stats.bytesWritten }, { up: captured.up, down: captured.down });
  return captured;
}
