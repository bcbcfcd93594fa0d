/** What the report says about each of the textbook's claims. */

export type Verdict =
  | 'supported'
  | 'supported with a nuance'
  | 'contradicted'
  | 'not measured in this run'
  /** The claim's arithmetic holds, but the run has no live exchange to check it against. */
  | 'supported by the computation; the live check was not made';

export interface ClaimVerdict {
  /** The claim as the textbook makes it. */
  claim: string;
  verdict: Verdict;
  /** The figures of this run that decide it (markdown). */
  figure: string;
  /** How the figures decide it, thresholds included (markdown). */
  rule: string;
}

export function notMeasured(claim: string, rule: string, missing: string): ClaimVerdict {
  return { claim, verdict: 'not measured in this run', figure: missing, rule };
}

/** Supported when every test holds, contradicted when none does, a nuance in between. */
export function verdictOf(tests: readonly boolean[]): Verdict {
  if (tests.every(Boolean)) return 'supported';
  if (!tests.some(Boolean)) return 'contradicted';
  return 'supported with a nuance';
}
