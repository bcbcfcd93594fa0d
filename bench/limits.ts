/**
 * Limits of the machine that stop a large run, checked before the run starts so that it fails
 * with a message naming the limit instead of a stream of connection errors.
 */
import { readFileSync } from 'node:fs';
import type { TransportName } from '../servers/contract.ts';
import type { RunConfig } from './result.ts';

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

/** Why this run cannot hold its clients on this machine, or undefined when it can. */
export function runExceedsLimits(config: RunConfig, localAddresses: number): string | undefined {
  const connections = config.clients * (config.engine === 'autocannon' ? 1 : CONNECTIONS_PER_CLIENT[config.transport]);
  const files = openFilesLimit();
  if (files !== undefined && connections + FILES_BESIDES_SOCKETS > files) {
    return (
      `${config.clients} ${config.transport} clients keep up to ${connections} connections open, and the driver and the server may each ` +
      `open ${files} files (RLIMIT_NOFILE, "ulimit -n"): raise the limit (above the hard limit this needs CAP_SYS_RESOURCE) or run fewer clients`
    );
  }
  const ports = ephemeralPorts() * Math.max(1, localAddresses);
  if (connections > ports) {
    return (
      `${connections} connections to one server port need more local ports than ${Math.max(1, localAddresses)} source address(es) offer ` +
      `(${ports}, net.ipv4.ip_local_port_range): use --local-addresses to spread the clients over 127.0.0.x`
    );
  }
  return undefined;
}
