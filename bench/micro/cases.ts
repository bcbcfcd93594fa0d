/** Every micro-benchmark case, as data: the transports' code paths at each size. */
import { handshakeCases } from './handshake-case.ts';
import { httpCases } from './http-case.ts';
import type { MicroCase } from './micro-case.ts';
import { sseCases } from './sse-case.ts';
import { websocketCases } from './websocket-case.ts';
import type { Masker } from './ws-internals.ts';

/** The suite's message sizes: tiny, small and large (bench/scenarios.ts). */
export const DEFAULT_SIZES = [16, 1024, 64 * 1024];

/** The cases at these sizes; the masking ones are named after `masker`, the masking code of the process that runs them. */
export function microCases(sizes: number[], masker: Masker): MicroCase[] {
  return [...sizes.flatMap((size) => [...httpCases(size), ...sseCases(size), ...websocketCases(size, masker)]), ...handshakeCases()];
}
