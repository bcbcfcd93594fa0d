/**
 * An independent count of TCP payload bytes: tcpdump captures loopback traffic to a port, and
 * this reads the pcap file (Ethernet-framed IPv4, as Linux's lo gives it) and sums each
 * segment's payload by direction.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LINKTYPE_ETHERNET = 1;
const ETHERNET_HEADER_BYTES = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IP_PROTOCOL_TCP = 6;

export function tcpdumpAvailable(): string | undefined {
  const probe = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) return 'tcpdump is not installed (.ci/run installs it with apt-get)';
  return undefined;
}

export class Capture {
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Starts tcpdump on lo for `port`; resolves once it listens. */
  static async start(port: number, file: string): Promise<Capture> {
    // a large buffer (-B, KiB): a run at full speed must not make the kernel drop packets
    const child = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-n', '-B', '65536', '-s', '128', '-w', file, `tcp port ${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited with ${code}: ${stderr}`));
      });
    });
    return new Capture(child, file);
  }

  /** Stops tcpdump (it writes out what it holds); safe to call again. Resolves with the packets the kernel dropped. */
  async stop(): Promise<number> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGINT');
      await exited;
    }
    return Number(/(\d+) packets? dropped by kernel/.exec(this.stderr)?.[1] ?? 0);
  }
}

/**
 * TCP payload bytes to and from `serverPort` in a pcap file: each byte of each connection's
 * stream once, as the endpoints' sockets count it (a segment the kernel sent again, a tail loss
 * probe on a busy machine, is on the wire twice but carries its bytes once); what was sent again
 * is `retransmitted`.
 */
export function payloadBytes(file: string, serverPort: number): { up: number; down: number; segments: number; retransmitted: { up: number; down: number } } {
  const data = readFileSync(file);
  const magic = data.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (offset: number): number => (little ? data.readUInt32LE(offset) : data.readUInt32BE(offset));
  const linkType = u32(20);
  if (linkType !== LINKTYPE_ETHERNET) throw new Error(`unexpected link type ${linkType}`);
  const totals = { up: 0, down: 0, segments: 0, retransmitted: { up: 0, down: 0 } };
  // each direction of each connection: its first sequence number, and how far into the stream its bytes have reached
  const flows = new Map<string, { base: number; reached: number }>();
  let offset = 24;
  while (offset + 16 <= data.length) {
    const capturedLength = u32(offset + 8);
    const packet = offset + 16;
    offset = packet + capturedLength;
    if (data.readUInt16BE(packet + 12) !== ETHERTYPE_IPV4) continue;
    const ip = packet + ETHERNET_HEADER_BYTES;
    const ipHeaderBytes = (data.readUInt8(ip) & 0x0f) * 4;
    const ipTotalBytes = data.readUInt16BE(ip + 2);
    if (data.readUInt8(ip + 9) !== IP_PROTOCOL_TCP) continue;
    const tcp = ip + ipHeaderBytes;
    const sourcePort = data.readUInt16BE(tcp);
    const destinationPort = data.readUInt16BE(tcp + 2);
    const sequence = data.readUInt32BE(tcp + 4);
    const syn = (data.readUInt8(tcp + 13) & 0x02) !== 0;
    const key = `${data.readUInt32BE(ip + 12)}:${sourcePort}>${data.readUInt32BE(ip + 16)}:${destinationPort}`;
    // the SYN takes one sequence number: the stream's first byte is the next
    if (syn) flows.set(key, { base: (sequence + 1) >>> 0, reached: 0 });
    const tcpHeaderBytes = (data.readUInt8(tcp + 12) >> 4) * 4;
    const payload = ipTotalBytes - ipHeaderBytes - tcpHeaderBytes;
    if (payload <= 0) continue;
    let flow = flows.get(key);
    if (flow === undefined) {
      flow = { base: sequence, reached: 0 };
      flows.set(key, flow);
    }
    const start = (sequence - flow.base) >>> 0;
    const fresh = Math.max(0, start + payload - Math.max(start, flow.reached));
    flow.reached = Math.max(flow.reached, start + payload);
    totals.segments += 1;
    const direction = destinationPort === serverPort ? 'up' : 'down';
    totals[direction] += fresh;
    totals.retransmitted[direction] += payload - fresh;
  }
  return totals;
}
