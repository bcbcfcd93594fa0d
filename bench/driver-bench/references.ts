/**
 * Loads that do nothing but load: the references the driver benchmark holds the bench's own
 * clients against. None of them counts bytes, checks sequence numbers or records latency.
 * - a bare `ws` client loop: each connection sends a message and sends the next on each reply;
 * - a bare `net` loop: the same with the TCP transport's frames;
 * - autocannon: empty polls (GET /messages) on keep-alive connections;
 * - wrk (Debian's `wrk`, where installed): the same empty polls.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { encodeEchoMessage } from '../../servers/contract.ts';
import { encodeTcpFrame, TCP_HEADER_BYTES } from '../../servers/tcp-framing.ts';

/** A load under way; stop() ends it and resolves once every connection is closed. */
export interface Load {
  stop(): Promise<void>;
  /** CPU seconds of a load that runs in a process of its own (wrk); absent for one in this process. */
  cpuSeconds?(): number;
}

/** CPU seconds a process has used, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of proc_pid_stat(5); counted from the state (field 3), 11 and 12
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Closes every connection at once; resolves when each has emitted 'close'. */
function closeAll<T extends { once(event: 'close', listener: () => void): unknown }>(
  sockets: T[],
  closed: (socket: T) => boolean,
  close: (socket: T) => void,
): Promise<unknown> {
  return Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (closed(socket)) return resolve();
          socket.once('close', () => resolve());
          close(socket);
        }),
    ),
  );
}

/** `clients` WebSocket connections, each with one message in flight: a reply sends the next. */
export async function bareWebSocketLoop(url: string, clients: number, payloadBytes: number): Promise<Load> {
  const message = encodeEchoMessage(1, payloadBytes);
  let running = true;
  const sockets = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(url, { perMessageDeflate: false });
          socket.on('message', () => {
            if (running) socket.send(message);
          });
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  for (const socket of sockets) socket.send(message);
  return {
    async stop() {
      running = false;
      await closeAll(
        sockets,
        (socket) => socket.readyState === WebSocket.CLOSED,
        (socket) => socket.terminate(),
      );
    },
  };
}

/** `clients` TCP connections with the TCP transport's frames, each with one message in flight. */
export async function bareTcpLoop(host: string, port: number, clients: number, payloadBytes: number): Promise<Load> {
  const frame = encodeTcpFrame(encodeEchoMessage(1, payloadBytes));
  let running = true;
  const sockets = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect({ host, port, noDelay: true });
          let pending: Buffer = Buffer.alloc(0);
          socket.on('data', (chunk: Buffer) => {
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
            while (pending.length >= TCP_HEADER_BYTES) {
              const length = (pending.readUInt32BE(0) & 0x7fff_ffff) + TCP_HEADER_BYTES;
              if (pending.length < length) break;
              pending = pending.subarray(length);
              if (running) socket.write(frame);
            }
          });
          socket.once('connect', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  for (const socket of sockets) socket.write(frame);
  return {
    async stop() {
      running = false;
      await closeAll(
        sockets,
        (socket) => socket.destroyed,
        (socket) => socket.destroy(),
      );
    },
  };
}

/** autocannon: `connections` keep-alive connections, each sending GET `path` again as soon as answered. */
export function autocannonLoad(url: string, connections: number): Load {
  let finished: () => void = () => {};
  const done = new Promise<void>((resolve) => (finished = resolve));
  const instance = autocannon({ url, connections, pipelining: 1, duration: 3600 }, () => finished());
  return {
    async stop() {
      instance.stop();
      await done;
    },
  };
}

/** Whether Debian's wrk is installed. */
export function wrkInstalled(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('wrk', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', () => resolve(true));
  });
}

/** wrk, one thread, `connections` connections, pinned by `pinCommand` (taskset) when given. */
export function wrkLoad(url: string, connections: number, pinCommand: string[]): Load {
  const args = ['-t1', `-c${connections}`, '-d3600s', url];
  const [command, ...prefix] = pinCommand.length > 0 ? [...pinCommand, 'wrk', ...args] : ['wrk', ...args];
  const child = spawn(command!, prefix, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
    cpuSeconds: () => (pid === undefined ? 0 : processCpuSeconds(pid)),
  };
}
