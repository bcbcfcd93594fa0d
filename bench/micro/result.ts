/**
 * The shape of micro.json: what `npm run bench:micro` measured, one entry per case. Plain
 * JSON with no machine details: the report that shows it says where it ran.
 *
 * Format 2 gives each case the median time per operation, the margin of that median and
 * whether the case is stable. Format 1, of older results, gave the mean and tinybench's margin
 * of the mean, and no verdict: upgradeMicroResults reads it as format 2.
 */

export const MICRO_SCHEMA_VERSION = 2;

/** A case is stable when its margin (95% confidence, relative to its ns/op) is under this many percent. */
export const MARGIN_TARGET_PERCENT = 5;

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
  /** 1e9 / nsPerOp. */
  opsPerSecond: number;
  /**
   * The median of the rounds' medians, a sample's time divided by opsPerSample (format 1: the
   * mean sample's, of one round).
   */
  nsPerOp: number;
  /** The mean sample's time divided by opsPerSample, over all rounds: with the machine's other work in it. */
  meanNsPerOp: number;
  /**
   * The wider of half the spread of the rounds' medians and the half-width of the 95% confidence
   * interval of the median of all samples (from their order statistics; the wider side),
   * relative to nsPerOp, in percent (format 1: tinybench's relative margin of error of the mean).
   */
  marginPercent: number;
  /**
   * True when marginPercent was still MARGIN_TARGET_PERCENT or more when the case's time ran
   * out: its figures are kept, and left out of every ratio and estimate.
   */
  unstable: boolean;
  /** nsPerOp divided by the cheapest stable case's nsPerOp: 1 for the cheapest; absent for an unstable case. */
  relativeToCheapest?: number;
  /** Timed samples, over all rounds; each sample times opsPerSample operations in a row. */
  samples: number;
  opsPerSample: number;
  /** Each round's median time per operation, in nanoseconds, in the order the rounds ran (format 1: one round). */
  roundNsPerOp: number[];
  /** Milliseconds the case was timed for, over all its rounds, warm-ups not counted. */
  timedMs: number;
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
  /** 1 for results upgraded from format 1. */
  schemaVersion: 1 | typeof MICRO_SCHEMA_VERSION;
  /**
   * The most each case is timed for, in milliseconds, over all its rounds; each round is
   * warmed up first (run, untimed): the first round for as long as it is timed, the next ones
   * for half as long (format 1: the time each
   * case was timed for, in one round).
   */
  timeMsPerCase: number;
  /** The margin under which a case is stable, in percent. */
  marginTargetPercent: number;
  /** Seed of the shuffled order the cases ran in, in each process (absent in format 1: table order). */
  orderSeed?: number;
  sizes: number[];
  cases: MicroCaseResult[];
  /** ws's masking thresholds, measured in the same run (absent from results made before it was). */
  wsMasking?: WsMaskingThresholds;
}

/** A completed case as format 1 recorded it: the mean, and tinybench's margin of the mean. */
interface CompletedMicroCaseV1 extends MicroCaseKey {
  state: 'completed';
  opsPerSecond: number;
  nsPerOp: number;
  relativeToCheapest: number;
  samples: number;
  opsPerSample: number;
  rmePercent: number;
}

/** micro.json as format 1 wrote it. */
export interface MicroResultsV1 {
  schemaVersion: 1;
  timeMsPerCase: number;
  sizes: number[];
  cases: (CompletedMicroCaseV1 | FailedMicroCase)[];
  wsMasking?: WsMaskingThresholds;
}

/** Each stable case's ns/op relative to the cheapest stable case's; an unstable one gets none. */
export function relativeToCheapest(cases: MicroCaseResult[]): MicroCaseResult[] {
  const cheapestNs = Math.min(...cases.map((result) => (result.state === 'completed' && !result.unstable ? result.nsPerOp : Infinity)));
  return cases.map((result) => {
    if (result.state !== 'completed') return result;
    const { relativeToCheapest: _old, ...rest } = result;
    return result.unstable ? rest : { ...rest, relativeToCheapest: result.nsPerOp / cheapestNs };
  });
}

/**
 * Results of either format as format 2: a format 1 case's margin is its margin of the mean,
 * and it is unstable when that is MARGIN_TARGET_PERCENT or more; the ratios are computed again
 * from the stable cases. schemaVersion stays 1, so that the report can say its figures are means.
 */
export function upgradeMicroResults(micro: MicroResults | MicroResultsV1): MicroResults {
  if ('marginTargetPercent' in micro) return micro;
  const cases = micro.cases.map((result): MicroCaseResult => {
    if (result.state !== 'completed') return result;
    const { rmePercent, relativeToCheapest: _old, ...rest } = result;
    return {
      ...rest,
      meanNsPerOp: result.nsPerOp,
      marginPercent: rmePercent,
      unstable: !(rmePercent < MARGIN_TARGET_PERCENT),
      roundNsPerOp: [result.nsPerOp],
      timedMs: micro.timeMsPerCase,
    };
  });
  return { ...micro, marginTargetPercent: MARGIN_TARGET_PERCENT, cases: relativeToCheapest(cases) };
}
