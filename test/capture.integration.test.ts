/**
 * The driver's byte totals against an independent count: tcpdump captures each run on
 * loopback, and the TCP payload it saw must equal the run's totals to the byte, and the sum of
 * its parts; the payload part must equal the messages the server counted, at their size.
 */
import { after, describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROUTES, type TransportName } from '../servers/contract.ts';
import { runScenario } from '../bench/engine.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import type { RunConfig, ScenarioName } from '../bench/result.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { Capture, tcpdumpAvailable } from './pcap.ts';
import { assertRunMatchesCapture } from './capture-check.ts';

/** Each test's limit: a run that hangs fails its test instead of the suite. */
const TEST_TIMEOUT_MS = 60_000;

/** Every message's size: an echo reply is ECHO_PREFIX longer. */
const PAYLOAD_BYTES = 300;

const CASES: { transport: TransportName; scenario: ScenarioName; engine?: RunConfig['engine'] }[] = [
  { transport: 'short-poll', scenario: 'echo', engine: 'autocannon' },
  { transport: 'short-poll', scenario: 'push' },
  { transport: 'long-poll', scenario: 'echo' },
  { transport: 'sse', scenario: 'push' },
  { transport: 'websocket', scenario: 'echo' },
  { transport: 'tcp', scenario: 'push' },
];

function targetFor(transport: TransportName, port: number): string {
  if (transport === 'websocket') return `ws://127.0.0.1:${port}${ROUTES.websocket}`;
  if (transport === 'tcp') return `tcp://127.0.0.1:${port}`;
  return `http://127.0.0.1:${port}`;
}

describe('byte totals against a tcpdump capture', () => {
  const missing = tcpdumpAvailable();
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'wirecost-capture-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const { transport, scenario, engine } of CASES) {
    it(
      `${scenario} over ${transport}${engine === undefined ? '' : ` (${engine})`}: equal to the byte`,
      { skip: missing, timeout: TEST_TIMEOUT_MS },
      async () => {
        const server = await ServerProcess.start(transport);
        const file = path.join(dir, `${transport}-${scenario}.pcap`);
        const capture = await Capture.start(server.port, file);
        try {
          const config: RunConfig = {
            ...RUN_DEFAULTS,
            scenario,
            transport,
            clients: 3,
            payloadBytes: PAYLOAD_BYTES,
            warmupSeconds: 0.2,
            durationSeconds: 0.6,
            pushRatePerSecond: 20,
            pollIntervalMs: 50,
            engine: engine ?? 'wirecost',
            target: targetFor(transport, server.port),
          };
          const result = await runScenario(config, { serverCommand: [], localAddresses: [], emit: () => {} });
          assert.equal(result.state, 'completed', result.state === 'failed' ? result.error : '');
          if (result.state !== 'completed') return;
          await assertRunMatchesCapture(result, { capture, file }, server, scenario, PAYLOAD_BYTES);
        } finally {
          await capture.stop().catch(() => undefined);
          await server.stop();
        }
      },
    );
  }
});
