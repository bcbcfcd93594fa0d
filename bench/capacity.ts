/**
 * A capacity ramp: the same push run at more and more clients, per transport. One rule says
 * when a ramp stops and what its end means; the command line stops on it and the report labels
 * with it. Only a step that broke the latency bound while the server was the limit makes a
 * capacity; a ramp that a saturated driver or a machine limit stopped says so, and one that
 * reached its last step says the capacity is at least that.
 */
import type { RunResult } from './result.ts';
import { DELIVERED_SHORT } from './bound.ts';

/**
 * How a ramp ended:
 * - capacity: the step after the last good one broke the bound with the server as the limit;
 * - driver: a step's driver was saturated (the driver's limit, not the server's);
 * - machine: a machine limit (open files, local ports) refused or broke a step;
 * - latency: a step broke the bound with no side saturated (the transport's own delay, a poll interval say);
 * - link: a step's emulated link was full;
 * - failed: a step failed for another reason;
 * - ramp-ended: every step stayed under the bound.
 */
export type RampEnd = 'capacity' | 'driver' | 'machine' | 'latency' | 'link' | 'failed' | 'ramp-ended';

export interface RampOutcome {
  end: RampEnd;
  /** The most clients a step held under the bound with no side saturated or the server as the limit; undefined when none did. */
  heldClients?: number;
  /** The step that ended the ramp (absent for ramp-ended). */
  stoppedAtClients?: number;
  /** One line for a reader: "capacity 2,000 clients", "driver-bound at 5,000 clients", "at least 10,000 (the ramp ended)". */
  text: string;
}

/** A run refused before it started for a limit of the machine (bench/limits.ts's wording). */
const MACHINE_LIMIT_MESSAGE = /\b(open files|local ports|RLIMIT_NOFILE|EMFILE|EADDRNOTAVAIL)\b/i;

const count = (clients: number): string => clients.toLocaleString('en-US');

/** Why a step ends its ramp, or undefined when the ramp goes on. */
export function stepEnd(step: RunResult, latencyBoundMs: number): Exclude<RampEnd, 'ramp-ended'> | undefined {
  if (step.state === 'failed') return MACHINE_LIMIT_MESSAGE.test(step.error) ? 'machine' : 'failed';
  const side = step.bound?.side ?? (step.driver.saturated ? 'driver' : 'none');
  if (side === 'driver' || side === 'machine' || side === 'link') return side;
  if (step.latencyMs.p99 <= latencyBoundMs) return undefined;
  return side === 'server' ? 'capacity' : 'latency';
}

/** The outcome of one transport's ramp, from its steps in the order they ran (fewest clients first). */
export function rampOutcome(steps: RunResult[], latencyBoundMs: number): RampOutcome {
  let held: number | undefined;
  for (const step of steps) {
    const end = stepEnd(step, latencyBoundMs);
    const clients = step.config.clients;
    if (end === undefined) {
      held = clients;
      continue;
    }
    const before = held === undefined ? 'no step held' : `${count(held)} clients held`;
    const texts: Record<typeof end, string> = {
      capacity: held === undefined ? `capacity under ${count(clients)} clients (the first step broke the bound)` : `capacity ${count(held)} clients`,
      driver: `driver-bound at ${count(clients)} clients (${before}): the server's capacity is not known`,
      machine: `machine limit at ${count(clients)} clients (${before})`,
      latency: `over the bound at ${count(clients)} clients with no side saturated (${before})`,
      link: `link-bound at ${count(clients)} clients (${before})`,
      failed: `failed at ${count(clients)} clients (${before})`,
    };
    return { end, ...(held === undefined ? {} : { heldClients: held }), stoppedAtClients: clients, text: texts[end] };
  }
  return { end: 'ramp-ended', ...(held === undefined ? {} : { heldClients: held }), text: `at least ${count(held ?? 0)} clients (the ramp ended)` };
}

/**
 * Whether a run sustained the rate it asked for: it completed, delivered at least DELIVERED_SHORT
 * of the messages a second it asked, lost none, and neither its driver nor a machine limit was
 * its bound (a driver-bound run measured the driver). A rate ladder stops at the first such run.
 */
export function sustained(run: RunResult): boolean {
  if (run.state !== 'completed') return false;
  if (run.bound?.side === 'driver' || run.bound?.side === 'machine') return false;
  const offered = run.throughput.offeredPerSecond;
  if (offered === undefined || offered === 0) return false;
  return run.throughput.messagesPerSecond >= DELIVERED_SHORT * offered && run.messages.lost === 0;
}
