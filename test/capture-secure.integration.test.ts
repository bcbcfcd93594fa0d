/**
 * Runs over TLS and HTTP/2 against an independent count, as test/capture.integration.test.ts does
 * for plaintext: tcpdump captures each run on loopback, and the ciphertext it saw must equal the
 * run's totals to the byte, and the sum of their parts (TLS's own included); the payload part is
 * the messages the server counted, at their size, read out of the records; the server's sockets
 * saw the same bytes. The runs go through the engine as a --target over TLS does, with --ca.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROUTES, type TransportName } from '../servers/contract.ts';
import { runScenario } from '../bench/engine.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import type { RunConfig, ScenarioName } from '../bench/result.ts';
import { ServerProcess } from '../bench/server-process.ts';
import { createTlsCertificate, removeTlsCertificate, type TlsCertificate } from '../bench/tls-certificate.ts';
import { Capture, tcpdumpAvailable } from './pcap.ts';
import { assertRunMatchesCapture } from './capture-check.ts';

const TEST_TIMEOUT_MS = 60_000;
const PAYLOAD_BYTES = 300;

interface Case {
  transport: TransportName;
  scenario: ScenarioName;
  tls: '1.2' | '1.3';
  http?: '2';
}

const CASES: Case[] = [
  { transport: 'websocket', scenario: 'echo', tls: '1.3' },
  { transport: 'tcp', scenario: 'push', tls: '1.3' },
  { transport: 'short-poll', scenario: 'push', tls: '1.2' },
  { transport: 'sse', scenario: 'echo', tls: '1.3' },
  { transport: 'short-poll', scenario: 'push', tls: '1.3', http: '2' },
  { transport: 'long-poll', scenario: 'echo', tls: '1.3', http: '2' },
  { transport: 'sse', scenario: 'push', tls: '1.3', http: '2' },
];

function targetFor(transport: TransportName, port: number): string {
  if (transport === 'websocket') return `wss://127.0.0.1:${port}${ROUTES.websocket}`;
  if (transport === 'tcp') return `tls://127.0.0.1:${port}`;
  return `https://127.0.0.1:${port}`;
}

describe('byte totals over TLS and HTTP/2 against a tcpdump capture', () => {
  const missing = tcpdumpAvailable();
  let dir = '';
  let certificate: TlsCertificate | undefined;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wirecost-capture-secure-'));
    if (missing === undefined) certificate = await createTlsCertificate();
  });
  after(async () => {
    if (certificate !== undefined) await removeTlsCertificate(certificate);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const { transport, scenario, tls, http } of CASES) {
    const name = `${scenario} over ${transport}, ${http === '2' ? 'HTTP/2 over ' : ''}TLS ${tls}`;
    it(`${name}: equal to the byte`, { skip: missing, timeout: TEST_TIMEOUT_MS }, async () => {
      const server = await ServerProcess.start(transport, {
        tls: { certPath: certificate!.certPath, keyPath: certificate!.keyPath, version: tls },
        ...(http === undefined ? {} : { http }),
      });
      const file = path.join(dir, `${transport}-${scenario}-${tls}-${http ?? '1.1'}.pcap`);
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
          targetRatePerSecond: scenario === 'echo' ? 60 : 0,
          tls,
          ...(http === undefined ? {} : { http }),
          target: targetFor(transport, server.port),
        };
        const result = await runScenario(config, {
          serverCommand: [],
          localAddresses: [],
          emit: () => {},
          ca: { pem: certificate!.certPem, path: certificate!.certPath },
        });
        assert.equal(result.state, 'completed', result.state === 'failed' ? result.error : '');
        if (result.state !== 'completed') return;
        await assertRunMatchesCapture(result, { capture, file }, server, scenario, PAYLOAD_BYTES);
        assert.ok(result.messages.received > 0);
        for (const direction of ['up', 'down'] as const) assert.ok(result.bytes[direction].tls > 0, `${direction}: TLS's own bytes`);
        if (http === '2') assert.equal(result.connections.perClient, 1, 'one HTTP/2 connection a client');
      } finally {
        await capture.stop().catch(() => undefined);
        await server.stop();
      }
    });
  }
});
