/**
 * Pins the server and the driver to different cores with taskset, where the machine has two or
 * more cores and taskset is there, and checks that the pinning took effect.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Pinning } from './result.ts';

/** The CPU list a process is allowed on, as taskset reports it ("0", "1", "0-3"), or undefined. */
export function affinityOf(pid: number): string | undefined {
  try {
    const output = execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return /list:\s*(\S+)/.exec(output)?.[1];
  } catch {
    return undefined;
  }
}

export interface PinPlan {
  pinning: Pinning;
  /** Command prefix for server processes ([] when not pinning). */
  serverCommand: string[];
}

/** Pins this process (the driver, every thread) to core 0 and plans core 1 for servers. */
export function pinDriver(requested: boolean): PinPlan {
  const unpinned = (reason: string): PinPlan => ({
    pinning: { requested, applied: false, serverCores: 'any', driverCores: 'any', reason },
    serverCommand: [],
  });
  if (!requested) return unpinned('pinning was turned off (--no-pin)');
  const cores = os.availableParallelism();
  if (cores < 2) return unpinned(`the machine has ${cores} core: nothing to pin apart`);
  if (affinityOf(process.pid) === undefined) return unpinned('taskset is not available');
  const driverCores = '0';
  const serverCores = String(cores - 1);
  try {
    execFileSync('taskset', ['-a', '-cp', driverCores, String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    return unpinned(`taskset failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (affinityOf(process.pid) !== driverCores) return unpinned('taskset ran, but the driver is not on its core');
  return { pinning: { requested, applied: true, serverCores, driverCores }, serverCommand: ['taskset', '-c', serverCores] };
}

/** How many cores a taskset list names ("1", "0-3", "0,2"). */
export function coreCount(list: string): number {
  return list.split(',').reduce((sum, part) => {
    const [low, high] = part.split('-').map(Number);
    return sum + (high === undefined ? 1 : high - (low ?? 0) + 1);
  }, 0);
}
