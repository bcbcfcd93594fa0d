/**
 * A server started as the README says, `npm run server -- --transport ...`: SIGTERM or SIGINT
 * to that command stops the server, with exit code 0 and no process left behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import type { ReadyLine } from '../bench/server-process.ts';

/** npm, node and tsx's loader start slowly on a busy machine. */
const READY_TIMEOUT_MS = 30_000;
/** The server's own grace for a client that does not answer its close is 2 s; this leaves room. */
const STOP_TIMEOUT_MS = 15_000;

/** The state letter of a process (R, S, Z...), or undefined when there is no such process. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie has ended: it only waits for its parent to read its status). */
function running(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Every process under `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A WebSocket that completed its upgrade and then never reads or answers the server's close:
 * the server waits for it (its grace), so a stop takes long enough for a relayed signal to
 * arrive while it is under way.
 */
function silentWebSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error('no answer to the upgrade within 5 s'));
    });
    socket.on('error', () => {}); // the server ends it on stop
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101 ')) reject(new Error(`upgrade refused: ${chunk.toString('latin1')}`));
      socket.pause();
      resolve(socket);
    });
  });
}

interface Stop {
  /** Who gets the signal: the command's process (kill PID), or its whole process group (Ctrl-C in a terminal). */
  to: 'process' | 'group';
  signal: 'SIGTERM' | 'SIGINT';
  /** The same signal again this long after the first, to the process: as npm relays the Ctrl-C that the terminal also sent the server. */
  repeatAfterMs?: number;
}

/**
 * Starts `command args` (a websocket server), holds a connection open, sends the signal, and
 * checks that the command exits 0 within STOP_TIMEOUT_MS, the server (the pid of its ready line)
 * and every process under the command are gone, and its port is free.
 */
async function startAndStop(command: string, args: string[], stop: Stop): Promise<void> {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let tree: number[] = [];
  let held: net.Socket | undefined;
  try {
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within ${READY_TIMEOUT_MS} ms\n${stderr}`)), READY_TIMEOUT_MS);
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.startsWith('{')) return; // npm's own lines, "> wirecost@... server"
        clearTimeout(timer);
        resolve(JSON.parse(line) as ReadyLine);
      });
      void exited.then(({ code }) => reject(new Error(`exited with code ${code} before it was ready\n${stderr}`)));
    });
    held = await silentWebSocket(ready.port);
    tree = descendants(pid);
    assert.ok(tree.includes(ready.pid) || ready.pid === pid, `the server (${ready.pid}) runs under the command (${pid})`);
    process.kill(stop.to === 'group' ? -pid : pid, stop.signal);
    if (stop.repeatAfterMs !== undefined) {
      await sleep(stop.repeatAfterMs);
      process.kill(pid, stop.signal);
    }
    const deadline = sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const);
    const outcome = await Promise.race([exited, deadline]);
    assert.notEqual(outcome, 'timeout', `${stop.signal} to the ${stop.to}: still running after ${STOP_TIMEOUT_MS} ms`);
    assert.deepEqual(outcome, { code: 0, signal: null }, `${stop.signal} to the ${stop.to}: ${stderr}`);
    // the server and whatever ran under the command have ended by the time the command has
    const left = [pid, ...tree].filter(running);
    assert.deepEqual(left, [], `${stop.signal} to the ${stop.to} left ${left.map((p) => `${p} (${processState(p)})`).join(', ')}`);
    assert.equal(await listening(ready.port), false, `port ${ready.port} is free`);
  } finally {
    held?.destroy();
    for (const target of [-pid, ...tree]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

describe('npm run server, as the README starts it', () => {
  const npm = ['run', 'server', '--', '--transport', 'websocket', '--port', '0'];
  for (const stop of [
    { to: 'process', signal: 'SIGTERM' },
    { to: 'process', signal: 'SIGINT' },
    { to: 'group', signal: 'SIGINT' },
  ] as const) {
    it(
      `stops on ${stop.signal} to the ${stop.to === 'process' ? 'npm process' : 'process group (Ctrl-C)'}: exit code 0, no process left`,
      { timeout: READY_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS + 10_000 },
      async () => {
        await startAndStop('npm', npm, stop);
      },
    );
  }

  it(
    'is node with tsx underneath, which stops the same way when run as it is, and takes a signal repeated at once as one',
    { timeout: READY_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS + 10_000 },
    async () => {
      const args = ['--import', 'tsx', 'servers/main.ts', '--transport', 'websocket', '--port', '0'];
      await startAndStop(process.execPath, args, { to: 'process', signal: 'SIGTERM' });
      await startAndStop(process.execPath, args, { to: 'process', signal: 'SIGINT', repeatAfterMs: 100 });
    },
  );
});
