/**
 * The machine's limits a large run is checked against before it starts (bench/limits.ts): the
 * open-files limit and the local ports. Each is set for a child process (ulimit -n; a network
 * namespace of its own for the port range), so the boundaries are known here, not read from
 * the code under test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RunConfig } from '../bench/result.ts';

type Probe = Pick<RunConfig, 'transport' | 'clients'> &
  Partial<Pick<RunConfig, 'engine' | 'target'>> & { localAddresses?: number; driverProcesses?: number; serverProcesses?: number };

/**
 * runExceedsLimits for each probe, in a child whose limits `setup` (shell commands, run under
 * `wrapper`) sets first; the open-files limit it read, and each verdict (null: the run fits).
 */
function verdicts(setup: string, probes: Probe[], wrapper: string[] = []): { openFiles: number | null; verdicts: (string | null)[] } {
  const code = `
    import { openFilesLimit, runExceedsLimits } from './bench/limits.ts';
    import { RUN_DEFAULTS } from './bench/scenarios.ts';
    const probes = ${JSON.stringify(probes)};
    const verdicts = probes.map(({ localAddresses = 0, driverProcesses = 1, serverProcesses = 1, ...config }) =>
      runExceedsLimits({ ...RUN_DEFAULTS, ...config }, { localAddresses, driverProcesses, serverProcesses }) ?? null);
    console.log(JSON.stringify({ openFiles: openFilesLimit() ?? null, verdicts }));
  `;
  const command = [...wrapper, 'bash', '-c', `${setup} && exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, code];
  const child = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { openFiles: number | null; verdicts: (string | null)[] };
}

/** Whether this machine lets a child have a network namespace of its own (root, as CI is). */
function ownNetworkNamespace(): string | undefined {
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'echo "1024 1123" > /proc/sys/net/ipv4/ip_local_port_range'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? undefined : `no network namespace of its own here (unshare -n): ${probe.stderr.trim() || probe.error?.message}`;
}

describe('a run too large for the machine', () => {
  it('is refused past the open-files limit, counting the connections each client keeps, with the limit named', () => {
    // 256 files, 64 of them kept for stdio, IPC and the event loop: 192 sockets
    const { openFiles, verdicts: found } = verdicts('ulimit -n 256', [
      { transport: 'websocket', clients: 192 }, // one connection each
      { transport: 'websocket', clients: 193 },
      { transport: 'short-poll', clients: 96 }, // a held poll and a send: two each
      { transport: 'short-poll', clients: 97 },
      { transport: 'short-poll', clients: 192, engine: 'autocannon' }, // one autocannon connection each
      { transport: 'short-poll', clients: 193, engine: 'autocannon' },
    ]);
    assert.equal(openFiles, 256, 'the limit read from /proc is the one the shell set');
    const [wsFits, wsOver, pollFits, pollOver, autocannonFits, autocannonOver] = found;
    assert.equal(wsFits, null);
    assert.equal(pollFits, null);
    assert.equal(autocannonFits, null);
    assert.match(wsOver ?? '', /^193 websocket clients keep up to 193 connections open, and one process may open 256 files \(RLIMIT_NOFILE, "ulimit -n"/);
    assert.match(wsOver ?? '', /--driver-processes 2 --server-processes 2/);
    assert.match(pollOver ?? '', /^97 short-poll clients keep up to 194 connections open/);
    assert.match(autocannonOver ?? '', /^193 short-poll clients keep up to 193 connections open/);
  });

  it('lets a run through that driver and server processes spread under the limit, each process counted alone', () => {
    // 192 sockets a process; a shared port's connections spread unevenly, so each server worker is given a quarter more
    const { verdicts: found } = verdicts('ulimit -n 256', [
      { transport: 'websocket', clients: 300, driverProcesses: 2, serverProcesses: 2 }, // 150 each; a worker 188
      { transport: 'websocket', clients: 300, driverProcesses: 1, serverProcesses: 2 }, // one driver: 300
      { transport: 'websocket', clients: 300, driverProcesses: 2, serverProcesses: 1 }, // one server: 300
      { transport: 'websocket', clients: 320, driverProcesses: 2, serverProcesses: 2 }, // a worker 200
      { transport: 'websocket', clients: 300, driverProcesses: 2, target: 'ws://127.0.0.1:1/ws' }, // a server not ours: only the driver counts
    ]);
    const [spread, oneDriver, oneServer, unevenOver, target] = found;
    assert.equal(spread, null);
    assert.match(oneDriver ?? '', /--driver-processes 2 --server-processes 2/);
    assert.match(oneServer ?? '', /--server-processes 2/);
    assert.match(unevenOver ?? '', /--server-processes 3/);
    assert.equal(target, null);
  });

  it('is refused past the local ports of its source addresses, and let through with more addresses', { skip: ownNetworkNamespace() }, () => {
    // 100 local ports (1024 to 1123) for each source address, in a network namespace of the child's own
    const { verdicts: found } = verdicts(
      'echo "1024 1123" > /proc/sys/net/ipv4/ip_local_port_range',
      [
        { transport: 'websocket', clients: 100 },
        { transport: 'websocket', clients: 101 },
        { transport: 'websocket', clients: 101, localAddresses: 2 },
      ],
      ['unshare', '-n'],
    );
    const [fits, over, spread] = found;
    assert.equal(fits, null);
    assert.match(over ?? '', /^101 connections to one server port need more local ports than 1 source address\(es\) offer \(100, .*--local-addresses/);
    assert.equal(spread, null);
  });
});
