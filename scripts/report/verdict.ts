/** What the report says about each of the textbook's claims. */
import type { CompletedRun } from '../../bench/result.ts';
import { isDriverBound } from './run-bound.ts';

export type Verdict =
  | 'supported'
  | 'supported with a nuance'
  | 'contradicted'
  | 'not measured in this run'
  /** The claim's arithmetic holds, but the run has no live exchange to check it against. */
  | 'supported by the computation; the live check was not made';

export interface ClaimVerdict {
  /**
   * Its number among the textbook's claims ("3"); a claim judged for HTTP/1.1 and for HTTP/2 has
   * two verdicts of one number. Absent: its place in the list gives it.
   */
  number?: string;
  /** The claim as the textbook makes it (and, where it is judged per protocol, which one this verdict is for). */
  claim: string;
  /** Where the claim is judged per HTTP version: the one this verdict is for. */
  judgedFor?: string;
  verdict: Verdict;
  /** The comparison of this run's figures that decides it, short enough for a table cell (markdown). */
  figure: string;
  /** The rest of the figures it rests on, one item each, for a list under the table (markdown). */
  evidence?: string[];
  /** What the items of `evidence` have in common (the formula of their figures), said once before them. */
  evidenceLead?: string;
  /** How the figures decide it, thresholds included (markdown). */
  rule: string;
  /** The runs the verdict uses that were driver-bound: it rests on figures of the driver, not the server. */
  driverBoundRuns?: string[];
}

/** The verdict, with the runs it uses that were driver-bound named (each run once, in the order given). */
export function restingOn(verdict: ClaimVerdict, runs: readonly CompletedRun[]): ClaimVerdict {
  const driverBound = [...new Set(runs.filter(isDriverBound).map((run) => run.id))];
  return driverBound.length === 0 ? verdict : { ...verdict, driverBoundRuns: driverBound };
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
