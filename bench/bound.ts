/**
 * Which side was the limit of a run: the one rule the engine applies to every run and the
 * report only reads. A figure is the server's (or the transport's) only when the server was the
 * limit; a run whose driver was saturated measured the driver.
 */
import type { RunBound } from './result.ts';

/** An event loop this busy (or a process this close to a whole core) had no room left. */
export const SATURATED = 0.9;

/** A run that delivered less than this share of the messages a second it asked for says so (the engine warns, the report marks the row). */
export const DELIVERED_SHORT = 0.9;

/** Errors that say the machine ran out of something (open files, local ports), not a side. */
const MACHINE_LIMIT_ERRORS = /\b(EMFILE|ENFILE|EADDRNOTAVAIL|ENOBUFS)\b/;

export interface BoundInput {
  /** The busiest driver thread's event-loop utilization over the measured window. */
  driverEventLoopUtilization: number;
  /** The server's over the same window (undefined: a server the suite did not start). */
  serverEventLoopUtilization?: number;
  /** The server's CPU over the window, in cores. */
  serverCpuCores?: number;
  /**
   * A server of several processes: the cores they share. Its busiest worker's event loop may have
   * room while the workers together fill their cores, so it is saturated when either is.
   */
  serverCores?: number;
  /** The emulated link's rate (0: none) and the busier direction's share of it over the run. */
  link: { bandwidthBitsPerSecond: number; utilization: number };
  /** Error messages the clients met, with counts. */
  clientErrors: Record<string, number>;
}

const percent = (fraction: number): string => `${Math.round(fraction * 100)}%`;

export function decideBound(input: BoundInput): RunBound {
  const machine = Object.keys(input.clientErrors).find((message) => MACHINE_LIMIT_ERRORS.test(message));
  if (machine !== undefined) return { side: 'machine', reason: `the clients met a machine limit: ${machine}` };
  const serverBusy =
    input.serverCores !== undefined
      ? `the server's busiest worker's event loop was ${percent(input.serverEventLoopUtilization ?? 0)} busy and its workers used ${(input.serverCpuCores ?? 0).toFixed(2)} of ${input.serverCores} core${input.serverCores === 1 ? '' : 's'}`
      : input.serverEventLoopUtilization !== undefined
        ? `the server's event loop was ${percent(input.serverEventLoopUtilization)} busy`
        : input.serverCpuCores !== undefined
          ? `the server used ${input.serverCpuCores.toFixed(2)} core`
          : "the server's load was not measured";
  if (input.driverEventLoopUtilization >= SATURATED) {
    return { side: 'driver', reason: `the driver's event loop was ${percent(input.driverEventLoopUtilization)} busy (${serverBusy})` };
  }
  if (input.link.bandwidthBitsPerSecond > 0 && input.link.utilization >= SATURATED) {
    return { side: 'link', reason: `the emulated link carried ${percent(input.link.utilization)} of its rate` };
  }
  const coresFull = input.serverCores !== undefined && (input.serverCpuCores ?? 0) >= SATURATED * input.serverCores;
  const serverSaturated =
    coresFull || (input.serverEventLoopUtilization !== undefined ? input.serverEventLoopUtilization >= SATURATED : (input.serverCpuCores ?? 0) >= SATURATED);
  if (serverSaturated) return { side: 'server', reason: `${serverBusy}; the driver's ${percent(input.driverEventLoopUtilization)}` };
  return {
    side: 'none',
    reason: `no side was saturated (${serverBusy}, the driver's ${percent(input.driverEventLoopUtilization)}): the scenario set the pace`,
  };
}
