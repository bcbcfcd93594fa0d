/**
 * Limits of the machine that stop a large run, checked before the run starts so that it fails
 * with a message naming the limit instead of a stream of connection errors.
 */
import { readFileSync } from 'node:fs';
import type { TransportName } from '../servers/contract.ts';
import type { RunConfig } from './result.ts';
import { portPerWorker } from '../servers/cluster.ts';

/** The most TCP connections one client of each transport keeps open (a held poll or stream, and a send). */
const CONNECTIONS_PER_CLIENT: Record<TransportName, number> = { 'short-poll': 2, 'long-poll': 2, sse: 2, websocket: 1, tcp: 1 };
/** Files a process keeps besides its sockets: stdio, IPC, the event loop's own. */
const FILES_BESIDES_SOCKETS = 64;
/** Local ports Linux hands out to one source address for one destination (net.ipv4.ip_local_port_range). */
const DEFAULT_EPHEMERAL_PORTS = 28_232;

/** The soft limit on open files of this process (RLIMIT_NOFILE), from /proc; undefined off Linux. */
export function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

function ephemeralPorts(): number {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined ? high - low + 1 : DEFAULT_EPHEMERAL_PORTS;
  } catch {
    return DEFAULT_EPHEMERAL_PORTS;
  }
}

/** The connections a run's clients keep open at most. */
export function connectionsOf(config: RunConfig): number {
  return config.clients * (config.engine === 'autocannon' ? 1 : CONNECTIONS_PER_CLIENT[config.transport]);
}

/**
 * A server of several processes sharing a port: each worker is given room for this much more than
 * an even share (the default hand-out, round robin, is even; `--cluster-scheduling none` is not).
 */
const UNEVEN_SPREAD = 1.25;

/**
 * Driver processes a run takes by default: enough that none needs more open files than one
 * process may have, and never more than the cores the driver has (a run that needs more says so,
 * and --driver-processes asks for them).
 */
export function defaultDriverProcesses(config: RunConfig, driverCores: number): number {
  const files = openFilesLimit();
  if (files === undefined) return 1;
  const needed = Math.ceil(connectionsOf(config) / Math.max(1, files - FILES_BESIDES_SOCKETS));
  return Math.max(1, Math.min(needed, driverCores));
}

/**
 * The processes a run needs so that none opens more files than the limit allows: its clients'
 * connections over driver processes, and over server processes with room for an uneven spread.
 * Where the limit cannot be read, one of each.
 */
export function processesNeeded(config: RunConfig): { driverProcesses: number; serverProcesses: number } {
  const files = openFilesLimit();
  if (files === undefined) return { driverProcesses: 1, serverProcesses: 1 };
  const room = files - FILES_BESIDES_SOCKETS;
  const connections = connectionsOf(config);
  const driverProcesses = Math.ceil(connections / room);
  // a port per worker (the HTTP transports) spreads the clients evenly; a shared port, as the kernel wakes the workers
  const spread = portPerWorker(config.transport) ? 1 : UNEVEN_SPREAD;
  const serverProcesses = connections <= room ? 1 : Math.ceil((connections * spread) / room);
  return { driverProcesses, serverProcesses };
}

export interface ProcessLayout {
  /** Source addresses the clients of one driver process spread over. */
  localAddresses: number;
  driverProcesses: number;
  serverProcesses: number;
}

/** Why this run cannot hold its clients on this machine, or undefined when it can. */
export function runExceedsLimits(config: RunConfig, layout: ProcessLayout): string | undefined {
  const connections = connectionsOf(config);
  const files = openFilesLimit();
  if (files !== undefined) {
    const perDriver = Math.ceil(connections / layout.driverProcesses);
    const spread = portPerWorker(config.transport) ? 1 : UNEVEN_SPREAD;
    const perServer = layout.serverProcesses > 1 ? Math.ceil((connections / layout.serverProcesses) * spread) : connections;
    const room = files - FILES_BESIDES_SOCKETS;
    if (perDriver > room || (config.target === undefined && perServer > room)) {
      const driversNeeded = Math.ceil(connections / room);
      const serversNeeded = Math.ceil((connections * spread) / room);
      return (
        `${config.clients} ${config.transport} clients keep up to ${connections} connections open, and one process may open ${files} files ` +
        `(RLIMIT_NOFILE, "ulimit -n"; above the hard limit this needs CAP_SYS_RESOURCE): spread them with --driver-processes ${driversNeeded}` +
        `${config.target === undefined ? ` --server-processes ${serversNeeded}` : ''}, or run fewer clients`
      );
    }
  }
  const perDriverConnections = Math.ceil(connections / layout.driverProcesses);
  const ports = ephemeralPorts() * Math.max(1, layout.localAddresses);
  if (perDriverConnections > ports) {
    return (
      `${perDriverConnections} connections to one server port need more local ports than ${Math.max(1, layout.localAddresses)} source address(es) offer ` +
      `(${ports}, net.ipv4.ip_local_port_range): use --local-addresses to spread the clients over 127.0.0.x, or --driver-processes (each takes its own)`
    );
  }
  return undefined;
}
