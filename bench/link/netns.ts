/**
 * An emulated link between two network namespaces the run creates: the driver's (client side,
 * 100.64.0.1) and the server's (100.64.0.2), each with a TUN device, and the forwarder of
 * forwarder.c moving whole IP packets between the two with a delay, a rate and its queue, loss
 * and jitter per direction. The kernel's own TCP runs over it: handshakes, slow start, delayed
 * ACKs, Nagle, retransmissions.
 *
 * Everything is named after this process (wc-<pid>-<n>-cli, wc-<pid>-<n>-srv; devices wct<pid>a
 * and wct<pid>b, which exist only inside those namespaces) and removed when the link closes,
 * when the process exits, and on SIGINT, SIGTERM or SIGHUP; the forwarder goes with the process
 * that started it. A link that starts first removes what a process no longer alive left behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { forwarderBinary } from './build.ts';

export const NAMESPACE_PREFIX = 'wc-';
export const CLIENT_ADDRESS = '100.64.0.1';
export const SERVER_ADDRESS = '100.64.0.2';
const NAMESPACE_PATTERN = /^wc-(\d+)-(\d+)-(cli|srv)$/;
const READY_TIMEOUT_MS = 5_000;

/** One direction of the path. */
export interface DirectionShape {
  /** One-way delay, milliseconds. */
  delayMs: number;
  /** Up to this much more or less delay at random, milliseconds; packets are never reordered. */
  jitterMs: number;
  /** The link's rate, bits per second (0: no limit). */
  rateBitsPerSecond: number;
  /** The queue in front of the rate, bytes (drop-tail; 0: no limit). */
  queueBytes: number;
  /** Packets lost at random, percent. */
  lossPercent: number;
}

export interface PathShape {
  /** Client (driver) to server. */
  up: DirectionShape;
  /** Server to client. */
  down: DirectionShape;
  /** The loss and jitter generators' seed. */
  seed: number;
}

export const NO_SHAPE: DirectionShape = { delayMs: 0, jitterMs: 0, rateBitsPerSecond: 0, queueBytes: 0, lossPercent: 0 };

/** The same shape both ways. */
export function symmetricPath(shape: Partial<DirectionShape>, seed = 1): PathShape {
  const direction = { ...NO_SHAPE, ...shape };
  return { up: direction, down: { ...direction }, seed };
}

/** What the forwarder counted in one direction (all IPv4 packets the sender put on the link, before any loss). */
export interface DirectionCounters {
  packets: number;
  /** IP packets' whole length: IP and TCP headers and payload. */
  ipBytes: number;
  tcpSegments: number;
  tcpPayloadBytes: number;
  /** TCP segments with no payload and only the ACK flag. */
  pureAcks: number;
  syn: number;
  fin: number;
  rst: number;
  delivered: number;
  /** Lost on purpose (--loss). */
  droppedLoss: number;
  /** Dropped by the full queue (drop-tail). */
  droppedQueue: number;
  /** Dropped because the forwarder held too many packets (not part of the emulation: should be 0). */
  droppedOverflow: number;
  writeErrors: number;
  notIpv4: number;
  queueWaitUsSum: number;
  queueWaitUsMax: number;
  maxBacklogBytes: number;
  /** Held right now. */
  queued: number;
}

export interface NamespaceCounters {
  /** Packets the kernel dropped in front of the forwarder (its TUN device's queue was full: should be 0). */
  deviceTxDropped: number;
  /** The namespace's TCP counters (/proc/net/snmp): RetransSegs, OutSegs, ActiveOpens, ... */
  tcp: Record<string, number>;
}

export interface ForwarderStats {
  up: DirectionCounters;
  down: DirectionCounters;
  /** Milliseconds since the last packet (-1: none yet). */
  idleMs: number;
  /** The client's namespace. */
  a: NamespaceCounters;
  /** The server's namespace. */
  b: NamespaceCounters;
}

/** One packet of a trace: its direction, when the forwarder read it and delivered it (undefined: dropped), µs from the trace's start. */
export interface TracedPacket {
  /** Client to server. */
  up: boolean;
  readUs: number;
  deliveredUs: number | undefined;
  /** TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16). */
  flags: number;
  payloadBytes: number;
  sourcePort: number;
  destinationPort: number;
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quietly(action: () => void): void {
  try {
    action();
  } catch {
    // already gone
  }
}

/** Why the netns method cannot run here, or undefined when it can (root, /dev/net/tun, ip, and a forwarder cc could build). */
export function netnsUnavailable(): string | undefined {
  const uid = process.getuid?.();
  if (uid !== 0) return `not root (uid ${uid ?? 'unknown'}): network namespaces and TUN devices need root`;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is absent';
  try {
    run('ip', ['-V']);
  } catch {
    return 'ip (iproute2) is not installed';
  }
  try {
    forwarderBinary();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

function namespaces(): string[] {
  try {
    return run('ip', ['netns', 'list'])
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name !== '');
  } catch {
    return [];
  }
}

/** Is `pid` a live node process (the owner of a link)? */
function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return false;
  }
}

/** Kills every process in namespace `name` and deletes it. */
function removeNamespace(name: string): void {
  let pids: number[] = [];
  quietly(() => {
    pids = run('ip', ['netns', 'pids', name])
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number);
  });
  for (const pid of pids) quietly(() => process.kill(pid, 'SIGKILL'));
  quietly(() => run('ip', ['netns', 'del', name]));
}

/** Forwarders still running: [pid, owner pid]. */
export function forwarderProcesses(): { pid: number; owner: number }[] {
  const found: { pid: number; owner: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!(argv[0] ?? '').includes('wirecost-link-') || argv[1] !== 'forward') continue;
    const owner = Number(argv[argv.indexOf('--owner') + 1]);
    found.push({ pid: Number(entry), owner });
  }
  return found;
}

/** This machine's namespaces of the netns method: every one, or those of one owner. */
export function linkNamespaces(owner?: number): string[] {
  return namespaces().filter((name) => {
    const match = NAMESPACE_PATTERN.exec(name);
    return match !== null && (owner === undefined || Number(match[1]) === owner);
  });
}

/**
 * Removes what links of processes no longer alive left behind (a run killed with SIGKILL): their
 * namespaces, with any process still in them, and their forwarders. Returns what it removed.
 */
export function sweepLeftovers(): string[] {
  const removed: string[] = [];
  for (const { pid, owner } of forwarderProcesses()) {
    if (owner === process.pid || ownerAlive(owner)) continue;
    quietly(() => process.kill(pid, 'SIGKILL'));
    removed.push(`forwarder ${pid}`);
  }
  const mine = new Set([...active].flatMap((link) => [link.clientNamespace, link.serverNamespace]));
  for (const name of linkNamespaces()) {
    const owner = Number(NAMESPACE_PATTERN.exec(name)![1]);
    if (owner === process.pid ? mine.has(name) : ownerAlive(owner)) continue;
    removeNamespace(name);
    removed.push(name);
  }
  return removed;
}

// ------------------------------------------------------------------------------------------
// every link open in this process is closed on exit and on the signals that end it

const active = new Set<NetnsLink>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function closeAll(): void {
  for (const link of active) link.closeNow();
}

function onSignal(signal: NodeJS.Signals): void {
  closeAll();
  // nobody else handles it: end the process as the signal would have
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function watch(link: NetnsLink): void {
  if (active.size === 0) {
    process.on('exit', closeAll);
    for (const signal of SIGNALS) process.once(signal, onSignal);
  }
  active.add(link);
}

function unwatch(link: NetnsLink): void {
  if (!active.delete(link) || active.size > 0) return;
  process.off('exit', closeAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

let sequence = 0;

function forwarderArgs(shape: PathShape): string[] {
  const args = ['--seed', String(shape.seed)];
  for (const [prefix, direction] of [
    ['up', shape.up],
    ['down', shape.down],
  ] as const) {
    args.push(
      `--${prefix}-delay-us`,
      String(Math.round(direction.delayMs * 1000)),
      `--${prefix}-jitter-us`,
      String(Math.round(direction.jitterMs * 1000)),
      `--${prefix}-rate-bps`,
      String(Math.round(direction.rateBitsPerSecond)),
      `--${prefix}-queue-bytes`,
      String(Math.round(direction.queueBytes)),
      `--${prefix}-loss-ppm`,
      String(Math.round(direction.lossPercent * 10_000)),
    );
  }
  return args;
}

export class NetnsLink {
  readonly clientAddress = CLIENT_ADDRESS;
  readonly serverAddress = SERVER_ADDRESS;
  private forwarder: ChildProcess | undefined;
  private readonly replies: ((line: string) => void)[] = [];
  private stderr = '';
  private closed = false;

  private constructor(
    readonly clientNamespace: string,
    readonly serverNamespace: string,
    readonly shape: PathShape,
  ) {}

  /** Creates the two namespaces, their devices and the forwarder; resolves once packets can pass. */
  static async start(shape: PathShape): Promise<NetnsLink> {
    sweepLeftovers();
    const binary = forwarderBinary();
    sequence += 1;
    const base = `${NAMESPACE_PREFIX}${process.pid}-${sequence}`;
    const link = new NetnsLink(`${base}-cli`, `${base}-srv`, shape);
    watch(link);
    try {
      for (const name of [link.clientNamespace, link.serverNamespace]) run('ip', ['netns', 'add', name]);
      await link.startForwarder(binary);
      return link;
    } catch (error) {
      await link.close();
      throw error;
    }
  }

  private async startForwarder(binary: string): Promise<void> {
    const device = `wct${process.pid}`;
    const child = spawn(
      binary,
      [
        'forward',
        '--ns-a',
        `/run/netns/${this.clientNamespace}`,
        '--dev-a',
        `${device}a`,
        '--addr-a',
        CLIENT_ADDRESS,
        '--ns-b',
        `/run/netns/${this.serverNamespace}`,
        '--dev-b',
        `${device}b`,
        '--addr-b',
        SERVER_ADDRESS,
        '--owner',
        String(process.pid),
        ...forwarderArgs(this.shape),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.forwarder = child;
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    child.stdin!.on('error', () => undefined);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the forwarder was not ready within ${READY_TIMEOUT_MS} ms: ${this.stderr}`)), READY_TIMEOUT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the forwarder exited (code ${code}): ${this.stderr.trim()}`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        if (line.includes('"ready"')) resolve();
        else reject(new Error(`the forwarder printed "${line}" instead of its ready line`));
        lines.on('line', (reply) => this.replies.shift()?.(reply));
      });
    });
    child.once('exit', () => {
      for (const reply of this.replies.splice(0)) reply('');
    });
  }

  /** The command prefix that runs a program in the client's or the server's namespace. */
  inNamespace(side: 'client' | 'server'): string[] {
    return ['ip', 'netns', 'exec', side === 'client' ? this.clientNamespace : this.serverNamespace];
  }

  /** Sends the forwarder a command that answers with one line, and resolves with it. */
  private async ask(command: string): Promise<string> {
    const child = this.forwarder;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error(`the forwarder is not running: ${this.stderr.trim()}`);
    const line = await new Promise<string>((resolve) => {
      this.replies.push(resolve);
      child.stdin!.write(`${command}\n`);
    });
    if (line === '') throw new Error(`the forwarder exited: ${this.stderr.trim()}`);
    return line;
  }

  /** The forwarder's counters so far, and the namespaces' TCP counters. */
  async stats(): Promise<ForwarderStats> {
    return JSON.parse(await this.ask('stats')) as ForwarderStats;
  }

  /** Records the next `packets` packets (both ways): when each was read and delivered; traced() returns them. */
  trace(packets: number): void {
    this.forwarder?.stdin?.write(`trace ${Math.round(packets)}\n`);
  }

  /** The packets recorded since trace(), times in microseconds from it. */
  async traced(): Promise<TracedPacket[]> {
    const { packets } = JSON.parse(await this.ask('dump')) as { packets: [number, number, number, number, number, number, number][] };
    return packets.map(([up, readUs, deliveredUs, flags, payloadBytes, sourcePort, destinationPort]) => ({
      up: up === 1,
      readUs,
      deliveredUs: deliveredUs < 0 ? undefined : deliveredUs,
      flags,
      payloadBytes,
      sourcePort,
      destinationPort,
    }));
  }

  /** Waits until no packet has crossed for `quietMs` (at most `limitMs`), and returns the counters then. */
  async quiet(quietMs: number, limitMs: number): Promise<ForwarderStats> {
    const deadline = performance.now() + limitMs;
    for (;;) {
      const stats = await this.stats();
      const held = stats.up.queued + stats.down.queued;
      if ((held === 0 && stats.idleMs >= quietMs) || performance.now() >= deadline) return stats;
      await sleep(Math.max(5, quietMs - Math.max(0, stats.idleMs)));
    }
  }

  /** Nothing passes either way for `durationMs`; what arrives meanwhile is held, in order, and delivered after. */
  cut(durationMs: number): void {
    this.forwarder?.stdin?.write(`cut ${Math.round(durationMs)}\n`);
  }

  /** Removes everything at once, synchronously (for exit and signal handlers): the forwarder, any process in the namespaces, the namespaces. */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    quietly(() => this.forwarder?.kill('SIGKILL'));
    for (const name of [this.clientNamespace, this.serverNamespace]) removeNamespace(name);
    unwatch(this);
  }

  /** Removes everything, and waits for the forwarder to be gone (with it, its devices). */
  async close(): Promise<void> {
    const child = this.forwarder;
    const exited =
      child === undefined || child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.closeNow();
    await Promise.race([exited, sleep(2_000)]);
  }
}

/** Inodes of the network namespaces of every process on the machine, by pid (for tests: what is left in a namespace). */
export function processNamespaces(): Map<number, string> {
  const found = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    quietly(() => found.set(Number(entry), readlinkSync(`/proc/${entry}/ns/net`)));
  }
  return found;
}

/** The inode of a named namespace, as /proc/<pid>/ns/net shows it ("net:[4026532...]"). */
export function namespaceInode(name: string): string | undefined {
  try {
    return `net:[${statSync(`/run/netns/${name}`).ino}]`;
  } catch {
    return undefined;
  }
}
