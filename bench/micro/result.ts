/**
 * The shape of micro.json: what `npm run bench:micro` measured, one entry per case. Plain
 * JSON with no machine details: the report that shows it says where it ran.
 */

export const MICRO_SCHEMA_VERSION = 1;

/** The code paths measured: HTTP (the three HTTP transports), SSE, WebSocket and its handshake. */
export const MICRO_TRANSPORTS = ['http', 'sse', 'websocket', 'handshake'] as const;
export type MicroTransport = (typeof MICRO_TRANSPORTS)[number];

/** What sets a case apart: the transport, the operation, the size and the variant. */
export interface MicroCaseKey {
  /** transport/operation/size/variant, e.g. "websocket/decode/1KiB/masked-bufferutil". */
  id: string;
  transport: MicroTransport;
  /** e.g. "request", "encode", "decode", "accept": see OPERATION_TEXT in cases.ts. */
  operation: string;
  /** Bytes of the message the operation carries (the handshake: the Sec-WebSocket-Key's 24). */
  sizeBytes: number;
  /** e.g. "masked, bufferutil", "unmasked, deflate"; "" when the operation has one form. */
  variant: string;
}

export interface CompletedMicroCase extends MicroCaseKey {
  state: 'completed';
  opsPerSecond: number;
  nsPerOp: number;
  /** nsPerOp divided by the cheapest completed case's nsPerOp: 1 for the cheapest. */
  relativeToCheapest: number;
  /** Timed samples; each sample times opsPerSample operations in a row. */
  samples: number;
  opsPerSample: number;
  /** Relative margin of error of the mean time per sample, in percent (95% confidence). */
  rmePercent: number;
}

/** A case that threw while it was set up, checked or timed: kept, with its error. */
export interface FailedMicroCase extends MicroCaseKey {
  state: 'failed';
  error: string;
}

export type MicroCaseResult = CompletedMicroCase | FailedMicroCase;

/**
 * Where ws stops masking in JavaScript in the process that ran the cases without a masker of
 * their own (bench/micro/ws-masking.ts): measured, for the ws version named.
 */
export interface WsMaskingThresholds {
  /** The version of the ws that was probed. */
  wsVersion: string;
  /** The masking code ws loaded in that process; with "js" there is no native code and no threshold. */
  masker: 'node' | 'bufferutil' | 'js';
  /** The shortest payload ws masked with the native code; absent when it never did up to probedUpToBytes. */
  nativeMaskFromBytes?: number;
  /** The shortest payload ws unmasked with the native code; absent when it never did up to probedUpToBytes. */
  nativeUnmaskFromBytes?: number;
  /** Payloads of 1 to this many bytes were probed. */
  probedUpToBytes: number;
}

export interface MicroResults {
  schemaVersion: typeof MICRO_SCHEMA_VERSION;
  /** Time budget of each case, in milliseconds (tinybench's `time`). */
  timeMsPerCase: number;
  sizes: number[];
  cases: MicroCaseResult[];
  /** ws's masking thresholds, measured in the same run (absent from results made before it was). */
  wsMasking?: WsMaskingThresholds;
}
