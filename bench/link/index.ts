/**
 * Which method carries a run's link, and why: netns (the kernel's TCP over an emulated path,
 * bench/link/netns.ts) where it can run (root, /dev/net/tun, iproute2's ip, a C compiler), the
 * delaying relay (bench/relay.ts) otherwise; direct loopback for a run with nothing to shape.
 * Also what the forwarder itself costs, and a run's counters as results.json keeps them.
 */
import { execFileSync } from 'node:child_process';
import type { ForwarderCost, LinkMethod, OnTheWire, RunConfig, WireDirection } from '../result.ts';
import { NetnsLink, netnsUnavailable, symmetricPath, type DirectionCounters, type ForwarderStats, type NamespaceCounters, type PathShape } from './netns.ts';
import { probeOk } from './probe.ts';

export const LINK_REQUESTS = ['auto', 'netns', 'relay'] as const;
export type LinkRequest = (typeof LINK_REQUESTS)[number];

/** The method a bench's shaped runs use, why, and (netns) what the forwarder costs. */
export interface LinkChoice {
  method: 'netns' | 'relay';
  reason: string;
  cost?: ForwarderCost;
}

/** The queue in front of a rate when the run names none: this long at the rate. */
export const DEFAULT_QUEUE_MS = 100;
/** The loss generator's seed when the run names none. */
export const DEFAULT_SEED = 1;

/** Does the run ask for anything only an emulated link gives (a delay, a rate, loss, jitter, a cut)? */
export function shaped(config: RunConfig): boolean {
  return config.rttMs > 0 || config.bandwidthBitsPerSecond > 0 || (config.lossPercent ?? 0) > 0 || (config.jitterMs ?? 0) > 0 || config.fault === 'network-cut';
}

/** Does the run go over an emulated link where one can be had (anything shaped, or a series carried on it at RTT 0)? */
export function wantsLink(config: RunConfig): boolean {
  return shaped(config) || config.emulateLink === true;
}

/** Does the run need the netns method (the relay cannot do it): loss, jitter, a queue, or a series only the netns link measures (loss, the Kaazing case's queue)? */
export function needsNetns(config: RunConfig): boolean {
  return (
    (config.lossPercent ?? 0) > 0 || (config.jitterMs ?? 0) > 0 || config.queueBytes !== undefined || config.group === 'loss' || config.group === 'kaazing-link'
  );
}

/** The method that carries one run, and why. */
export function linkMethodFor(config: RunConfig, choice: LinkChoice | undefined): { method: LinkMethod; reason: string } {
  const netns = choice?.method === 'netns';
  // a server the suite did not start is outside the namespaces: the relay shapes its link, if anything does
  const outside = config.target !== undefined;
  if (!shaped(config) && !(netns && !outside && config.emulateLink === true)) return { method: 'direct', reason: 'nothing to emulate: loopback as it is' };
  if (outside) return { method: 'relay', reason: 'a server the suite did not start (--target) is outside the namespaces' };
  if (netns) return { method: 'netns', reason: choice.reason };
  return { method: 'relay', reason: choice?.reason ?? 'no netns link was set up for this run' };
}

/** The emulated path a netns run asks for: half the RTT each way, the rate and its queue, loss, jitter. */
export function pathShapeOf(config: RunConfig): PathShape {
  const rate = config.bandwidthBitsPerSecond;
  const queueBytes = config.queueBytes ?? (rate > 0 ? Math.max(3000, Math.round((rate / 8) * (DEFAULT_QUEUE_MS / 1000))) : 0);
  return symmetricPath(
    { delayMs: config.rttMs / 2, rateBitsPerSecond: rate, queueBytes, lossPercent: config.lossPercent ?? 0, jitterMs: config.jitterMs ?? 0 },
    config.seed ?? DEFAULT_SEED,
  );
}

/**
 * The server's port in its namespace: fixed, since nothing else listens there, so that the
 * server can allow its own origin (a page it served would have it: the WebSocket clients send
 * it, and the server allows only loopback pages unless told).
 */
export const NETNS_SERVER_PORT = 8080;

/** Options for a server in the netns link's server namespace. */
export function netnsServerArgs(serverAddress: string): string[] {
  // the origin of a page it would serve, in plaintext or over TLS (a run with --tls)
  const origin = `${serverAddress}:${NETNS_SERVER_PORT}`;
  return ['--port', String(NETNS_SERVER_PORT), '--allow-origin', `http://${origin},https://${origin}`];
}

/** Round trips timed each way, in each of ROUNDS alternating rounds, for the forwarder's added latency. */
const COST_ROUND_TRIPS = 1000;
const COST_ROUNDS = 3;
/** How long the packet-rate flood lasts. */
const FLOOD_MS = 300;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * What the forwarder costs here, with nothing shaped: the median round trip through it against
 * the same over a veth pair between the same two namespaces (the kernel's own path), in
 * alternating rounds; and the packets per second it moves when one sender floods it.
 */
export async function measureForwarderCost(): Promise<ForwarderCost> {
  const link = await NetnsLink.start(symmetricPath({}));
  try {
    const veth = `wcv${process.pid}`;
    const ip = (args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
    ip(['-n', link.clientNamespace, 'link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`, 'netns', link.serverNamespace]);
    ip(['-n', link.clientNamespace, 'addr', 'add', '100.64.0.5/30', 'dev', `${veth}a`]);
    ip(['-n', link.serverNamespace, 'addr', 'add', '100.64.0.6/30', 'dev', `${veth}b`]);
    ip(['-n', link.clientNamespace, 'link', 'set', `${veth}a`, 'up']);
    ip(['-n', link.serverNamespace, 'link', 'set', `${veth}b`, 'up']);
    const through: number[] = [];
    const direct: number[] = [];
    for (let round = 0; round < COST_ROUNDS; round++) {
      through.push((await probeOk('rtt', link, { count: COST_ROUND_TRIPS })).medianUs);
      direct.push((await probeOk('rtt', link, { count: COST_ROUND_TRIPS }, '100.64.0.6')).medianUs);
    }
    const flood = await probeOk('flood', link, { ms: FLOOD_MS });
    const forwarderRoundTripUs = median(through);
    const vethRoundTripUs = median(direct);
    return {
      addedRoundTripUs: Math.max(0, forwarderRoundTripUs - vethRoundTripUs),
      forwarderRoundTripUs,
      vethRoundTripUs,
      roundTrips: COST_ROUND_TRIPS * COST_ROUNDS,
      packetsPerSecond: flood.packetsPerSecond,
      deliveredShare: flood.sent > 0 ? flood.received / flood.sent : 0,
    };
  } finally {
    await link.close();
  }
}

/**
 * The method for a bench's shaped runs: `relay` as asked; `netns` as asked (an error where it
 * cannot run); `auto`: netns where it can run, else the relay, with the reason either way.
 * Choosing netns sets up a link once and measures the forwarder's cost with it.
 */
export async function chooseLink(request: LinkRequest): Promise<LinkChoice> {
  if (request === 'relay') return { method: 'relay', reason: 'asked for with --link relay' };
  let unavailable = netnsUnavailable();
  let cost: ForwarderCost | undefined;
  if (unavailable === undefined) {
    try {
      cost = await measureForwarderCost();
    } catch (error) {
      unavailable = `the emulated path could not be set up: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (unavailable !== undefined) {
    if (request === 'netns') throw new Error(`--link netns cannot run here: ${unavailable}`);
    return { method: 'relay', reason: `the netns method cannot run here (${unavailable})` };
  }
  return {
    method: 'netns',
    reason: request === 'netns' ? 'asked for with --link netns' : 'root, /dev/net/tun and ip are present: the kernel’s TCP over an emulated path',
    ...(cost === undefined ? {} : { cost }),
  };
}

function direction(counters: DirectionCounters, sender: NamespaceCounters): WireDirection {
  const waited = counters.packets - counters.droppedLoss - counters.droppedQueue - counters.droppedOverflow;
  return {
    packets: counters.packets,
    ipBytes: counters.ipBytes,
    tcpPayloadBytes: counters.tcpPayloadBytes,
    pureAcks: counters.pureAcks,
    syn: counters.syn,
    fin: counters.fin,
    rst: counters.rst,
    retransmittedSegments: sender.tcp.RetransSegs ?? 0,
    dropped: { loss: counters.droppedLoss, queue: counters.droppedQueue },
    queueWaitMs: { mean: waited > 0 ? counters.queueWaitUsSum / waited / 1000 : 0, max: counters.queueWaitUsMax / 1000 },
  };
}

/** A run's counters (the forwarder's from the link's start, the namespaces' kernels') as results.json keeps them. */
export function onTheWire(stats: ForwarderStats): OnTheWire {
  return {
    up: direction(stats.up, stats.a),
    down: direction(stats.down, stats.b),
    unintendedDrops: stats.up.droppedOverflow + stats.down.droppedOverflow + stats.a.deviceTxDropped + stats.b.deviceTxDropped,
  };
}
