/**
 * The bench's own driver processes (--driver-processes N): each runs one shard of the run as
 * `npm run bench -- <the run's options> --target <url> --shard i/N` (bench/run-args.ts), the
 * command a pod runs on another machine, and writes its results.json; the shards' results are
 * merged by bench/shard-merge.ts, as `npm run report -- --merge` merges them from many machines.
 * The one difference is the launcher: here every shard tells this process when it has connected,
 * and the measured window of all of them starts at one moment chosen once all have (a pod is
 * given that moment beforehand with --start-at).
 *
 * A shard that dies fails the run with its error, and the other shards are stopped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { clockNowMs } from '../servers/contract.ts';
import type { FleetHandle, FleetResult, FleetWindow } from './fleet-recorder.ts';
import type { CompletedRun, Results, RunConfig, ShardLoad } from './result.ts';
import { runArgs } from './run-args.ts';
import { mergeShardRuns } from './shard-merge.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** What a shard process and its launcher say to each other over IPC. */
export type ShardMessage = { type: 'shard-connected' } | { type: 'shard-start'; startAtMs: number };

/** How long a shard may take to start and connect its clients: two minutes, and 5 ms more per client of the run (they connect at once, sharing the machine). */
function connectTimeoutMs(clients: number): number {
  return 120_000 + 5 * clients;
}

class ShardProcess {
  private readonly child: ChildProcess;
  private stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly connected: Promise<void>;

  constructor(
    readonly index: number,
    count: number,
    config: RunConfig,
    targets: string[],
    readonly dir: string,
    localAddresses: number,
    caPath: string | undefined,
  ) {
    const args = [
      ...runArgs(config),
      '--target',
      targets.join(','),
      ...(caPath === undefined ? [] : ['--ca', caPath]),
      '--shard',
      `${index}/${count}`,
      '--no-pin',
      '--out',
      dir,
      ...(localAddresses > 0 ? ['--local-addresses', String(localAddresses)] : []),
    ];
    this.child = fork(CLI, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    const timeoutMs = connectTimeoutMs(config.clients);
    this.connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not connect its clients within ${timeoutMs} ms`)), timeoutMs);
      this.child.on('message', (message: ShardMessage) => {
        if (message.type !== 'shard-connected') return;
        clearTimeout(timer);
        resolve();
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code ${code}) before its clients connected${this.errorText()}`));
      });
    });
    // a rejection nobody waits for yet is not an unhandled one: connect() waits for it
    this.connected.catch(() => undefined);
  }

  get name(): string {
    return `driver process ${this.index} (pid ${this.child.pid})`;
  }

  private errorText(): string {
    const lines = this.stderr
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('bench: ') || /fail|error/i.test(line));
    return lines.length === 0 ? '' : `: ${lines.slice(-5).join(' | ')}`;
  }

  connect(): Promise<void> {
    return this.connected;
  }

  start(startAtMs: number): void {
    this.child.send({ type: 'shard-start', startAtMs } satisfies ShardMessage);
  }

  /** Waits for the shard to write its results and exit; its run, completed or failed. */
  async result(): Promise<CompletedRun> {
    const code = await this.exited;
    let results: Results;
    try {
      results = JSON.parse(readFileSync(path.join(this.dir, 'results.json'), 'utf8')) as Results;
    } catch {
      throw new Error(`${this.name} exited (code ${code}) without its results${this.errorText()}`);
    }
    const run = results.runs[0];
    if (run === undefined) throw new Error(`${this.name} wrote no run`);
    if (run.state === 'failed') throw new Error(`${this.name} failed: ${run.error}`);
    return run;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * The engine's side: N driver processes as one fleet. Its result is the merged shards', and
 * `loads` lists what each process used.
 */
export class ShardFleet implements FleetHandle {
  private readonly shards: ShardProcess[];
  private readonly root: string;
  private finished: Promise<CompletedRun[]> | undefined;
  /** Each process's load, once finish() has merged them. */
  loads: ShardLoad[] = [];
  /** The shards' own warnings, each marked with its shard. */
  warnings: string[] = [];

  /** `caPath`: over TLS, the CA the shards' clients trust (--ca). */
  constructor(config: RunConfig, targets: string[], processes: number, localAddresses: number, caPath?: string) {
    this.root = mkdtempSync(path.join(tmpdir(), 'wirecost-shards-'));
    this.shards = Array.from(
      { length: processes },
      (_, index) => new ShardProcess(index, processes, config, targets, path.join(this.root, `shard-${index}`), localAddresses, caPath),
    );
  }

  async connect(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.connect()));
  }

  async run(window: FleetWindow): Promise<void> {
    for (const shard of this.shards) shard.start(window.startMs);
    this.finished = Promise.all(this.shards.map((shard) => shard.result()));
    // the window passes in the shards; a shard that fails meanwhile fails the run at once
    await Promise.race([this.finished, sleep(Math.max(0, window.endMs - clockNowMs()))]);
  }

  async finish(): Promise<FleetResult> {
    const runs = await this.finished!;
    const merged = mergeShardRuns(runs);
    this.loads = merged.driver.shards ?? [];
    this.warnings = merged.warnings;
    rmSync(this.root, { recursive: true, force: true });
    return {
      clients: merged.clients,
      histogram: merged.histogram,
      broadcastLastClientMs: {},
      delivery: merged.messages,
      messagesInWindow: merged.throughput.messagesInWindow,
      wire: merged.bytes,
      socketBytes: merged.socketBytes,
      connectionsOpened: merged.connections.opened,
      polls: merged.polls,
      errors: merged.clientErrors,
      eventLoopUtilization: merged.driver.eventLoopUtilization,
      lateSetupMs: 0,
      // the run's first client is shard 0's first
      ...(runs[0]?.headerSeries === undefined ? {} : { headerSeries: runs[0].headerSeries }),
    };
  }

  async abort(): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.stop()));
    rmSync(this.root, { recursive: true, force: true });
  }
}
