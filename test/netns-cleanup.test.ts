/**
 * A bench run over the netns link killed in the middle leaves nothing behind: SIGTERM and SIGINT
 * remove its namespaces, devices, forwarder and the processes in them at once; after SIGKILL,
 * its forwarder and processes go with it, and the next run removes its namespaces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { forwarderProcesses, linkNamespaces, namespaceInode, netnsUnavailable, processNamespaces, sweepLeftovers } from '../bench/link/netns.ts';

const unavailable = netnsUnavailable();
const skip = unavailable === undefined ? false : `the netns method cannot run here: ${unavailable}`;

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(50);
  }
}

function pidsIn(namespace: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Starts a bench with one push run over the netns link, and resolves once its clients and server run in their namespaces. */
async function benchMidRun(): Promise<{ pid: number; inodes: string[]; exited: Promise<{ code: number | null; signal: string | null }>; out: string }> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'wirecost-netns-kill-'));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/cli.ts',
      ...['--transports', 'websocket', '--scenarios', 'push', '--clients', '2', '--rtt', '20', '--warmup', '0.2', '--duration', '30', '--no-pin'],
      ...['--link', 'netns', '--out', out],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pid = child.pid!;
  // the run's link (not the one the bench measured the forwarder with): clients and server both in
  const names = await until(`the run's namespaces (${stderr})`, () => {
    const run = linkNamespaces(pid).filter((name) => !name.startsWith(`wc-${pid}-1-`));
    return run.length === 2 && run.every((name) => pidsIn(name).length > 0) ? run : undefined;
  });
  const inodes = names.map((name) => namespaceInode(name)!);
  assert.equal(forwarderProcesses().filter((forwarder) => forwarder.owner === pid).length, 1, 'the forwarder runs');
  await sleep(500);
  return { pid, inodes, exited, out };
}

/** Nothing of the run is left: no namespace, no forwarder, no process in its namespaces (and so no device: they live only there). */
function assertNothingLeft(pid: number, inodes: string[]): void {
  assert.deepEqual(linkNamespaces(pid), [], 'no namespace left');
  assert.deepEqual(
    forwarderProcesses().filter((forwarder) => forwarder.owner === pid),
    [],
    'no forwarder left',
  );
  const inside = [...processNamespaces()].filter(([, inode]) => inodes.includes(inode));
  assert.deepEqual(inside, [], 'no process left in the run’s namespaces');
  const rootDevices = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
  assert.doesNotMatch(rootDevices, new RegExp(`wct${pid}`), 'no device in the root namespace');
}

describe('a netns run killed in the middle', { skip, timeout: 120_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`leaves nothing behind after ${signal}`, async () => {
      const run = await benchMidRun();
      try {
        process.kill(run.pid, signal);
        const exit = await run.exited;
        assert.equal(exit.signal, signal, 'the bench ended as the signal ends it');
        // the processes killed in the namespaces may take a moment to be reaped
        await until('the processes in the namespaces to end', () =>
          [...processNamespaces()].some(([, inode]) => run.inodes.includes(inode)) ? undefined : true,
        ).catch(() => undefined);
        assertNothingLeft(run.pid, run.inodes);
      } finally {
        rmSync(run.out, { recursive: true, force: true });
      }
    });
  }

  it('after SIGKILL, its forwarder and processes end with it, and the next run removes its namespaces', async () => {
    const run = await benchMidRun();
    try {
      process.kill(run.pid, 'SIGKILL');
      await run.exited;
      await until('the forwarder and the processes in the namespaces to end', () =>
        forwarderProcesses().some((forwarder) => forwarder.owner === run.pid) || [...processNamespaces()].some(([, inode]) => run.inodes.includes(inode))
          ? undefined
          : true,
      );
      assert.ok(linkNamespaces(run.pid).length > 0, 'SIGKILL left the namespaces (nothing could remove them)');
      const removed = sweepLeftovers();
      assert.ok(removed.length >= 2, `the sweep removed ${removed.join(', ')}`);
      assertNothingLeft(run.pid, run.inodes);
    } finally {
      rmSync(run.out, { recursive: true, force: true });
    }
  });
});
