/**
 * One micro-benchmark case: what it measures (its key) and how to set it up. A case's
 * setup returns the operation to time and a check that the operation does what it claims:
 * every case is checked once before it is timed, so a wrong setup fails instead of timing
 * something else.
 */
import { encodeEchoMessage } from '../../servers/contract.ts';
import { sizeLabel } from '../scenarios.ts';
import type { MicroCaseKey, MicroTransport } from './result.ts';

export interface PreparedOp {
  /** One operation; an async one resolves when the operation is over. */
  run: (() => void) | (() => Promise<void>);
  async: boolean;
  /** Runs the operation once and throws when its output is not what it should be. */
  check: () => Promise<void>;
  /** Frees what the setup made (zlib streams, an HTTP server). */
  close: () => void;
}

export interface MicroCase extends MicroCaseKey {
  /**
   * True for the WebSocket cases that mask or unmask: ws picks its masking code once, when
   * it is loaded, so these run once per masking implementation, each in its own process.
   */
  masking: boolean;
  prepare: () => Promise<PreparedOp>;
}

export function caseKey(transport: MicroTransport, operation: string, sizeBytes: number, variant = ''): MicroCaseKey {
  const parts = [transport, operation, sizeLabel(sizeBytes)];
  if (variant !== '') parts.push(variant.replace(/, /g, '-'));
  return { id: parts.join('/'), transport, operation, sizeBytes, variant };
}

/** The message every case carries: an echo message as the driver writes it, `sizeBytes` bytes of ASCII. */
export function testMessage(sizeBytes: number): string {
  return encodeEchoMessage(1, sizeBytes);
}

/** Throws when `actual` is not `expected`, naming what was compared. */
export function expectEqual(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    const show = (text: string): string => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
    throw new Error(`${what}: got ${show(actual)} (${actual.length} chars), expected ${show(expected)} (${expected.length} chars)`);
  }
}
