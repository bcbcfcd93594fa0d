/**
 * A fleet in a process of its own inside the client's network namespace: the driver's clients
 * reach the server only through the emulated link. Node cannot enter a namespace, so the engine
 * starts this file with `ip netns exec <namespace> node`, and talks to it over IPC as to a worker:
 * connect, run, finish. It reports its own CPU and memory beside the fleet's result, since the
 * driver's work is done here and not in the engine's process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { entryArgs } from '../bundle.ts';
import { fileURLToPath } from 'node:url';
import { clockNowMs } from '../../servers/contract.ts';
import { Fleet, type FleetPlan } from '../fleet.ts';
import { AutocannonFleet } from '../autocannon-fleet.ts';
import type { FleetHandle, FleetResult, FleetWindow } from '../fleet-recorder.ts';

type Command = { type: 'plan'; plan: FleetPlan } | { type: 'connect' } | { type: 'run'; window: FleetWindow } | { type: 'finish'; broadcastEvents: number };
type Reply =
  | { type: 'planned' }
  | { type: 'connected' }
  | { type: 'ran' }
  | { type: 'result'; result: FleetResult; usage: DriverUsage }
  | { type: 'error'; message: string };

/** What the fleet's process used: its CPU over its life and over the window, and its peak memory. */
export interface DriverUsage {
  cpuSeconds: number;
  windowCpuSeconds: number;
  windowSeconds: number;
  peakRssBytes: number;
}

const ENTRY = fileURLToPath(import.meta.url);
const START_TIMEOUT_MS = 20_000;

/**
 * Starts a fleet's process in the client's namespace before its plan is known: node and the
 * fleet's modules load (a few hundred milliseconds) while the engine starts the server on the
 * other core. NamespaceFleet takes it; the link's close kills it if no fleet did.
 */
export function spawnFleetProcess(inNamespace: string[]): ChildProcess {
  // this file bundled where it could be (bench/bundle.ts), else through tsx
  const entry = entryArgs(ENTRY);
  return fork(entry.file, [], {
    execPath: inNamespace[0],
    execArgv: [...inNamespace.slice(1), process.execPath, ...entry.execArgv],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
}

/** The engine's side: a Fleet's steps, carried out in a process in namespace `namespacePrefix` names. */
export class NamespaceFleet implements FleetHandle {
  private readonly child: ChildProcess;
  private readonly started: Promise<void>;
  private stderr = '';
  /** Set once finish() has the result. */
  usage: DriverUsage | undefined;

  /**
   * `inNamespace`: the command prefix that runs a program in the client's namespace
   * (NetnsLink.inNamespace('client')), or a process spawnFleetProcess() started there already.
   */
  constructor(plan: FleetPlan, inNamespace: string[] | ChildProcess) {
    this.child = Array.isArray(inNamespace) ? spawnFleetProcess(inNamespace) : inNamespace;
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.started = this.ask({ type: 'plan', plan }, 'planned', START_TIMEOUT_MS).then(() => undefined);
  }

  private ask<T extends Reply['type']>(command: Command, expected: T, timeoutMs?: number): Promise<Extract<Reply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => fail(new Error(`the fleet's process did not answer within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (reply: Reply): void => {
        cleanup();
        if (reply.type === expected) resolve(reply as Extract<Reply, { type: T }>);
        else reject(new Error(reply.type === 'error' ? reply.message : `the fleet's process answered ${reply.type}`));
      };
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`the fleet's process exited (${signal ?? `code ${code}`})${this.stderr === '' ? '' : `: ${this.stderr.trim()}`}`));
      const fail = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      if (this.child.exitCode !== null || this.child.signalCode !== null) return onExit(this.child.exitCode, this.child.signalCode);
      this.child.on('message', onMessage);
      this.child.on('exit', onExit);
      this.child.send(command);
    });
  }

  async connect(): Promise<void> {
    await this.started;
    await this.ask({ type: 'connect' }, 'connected');
  }

  async run(window: FleetWindow): Promise<void> {
    await this.ask({ type: 'run', window }, 'ran');
  }

  async finish(broadcastEvents: number): Promise<FleetResult> {
    const reply = await this.ask({ type: 'finish', broadcastEvents }, 'result');
    this.usage = reply.usage;
    await this.end();
    return reply.result;
  }

  async abort(): Promise<void> {
    await this.end();
  }

  private async end(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** The fleet process's side. */
function serve(): void {
  let fleet: FleetHandle | undefined;
  let window: FleetWindow | undefined;
  let windowCpu: { startCpu?: NodeJS.CpuUsage; startMs?: number; cpuSeconds: number; seconds: number } = { cpuSeconds: 0, seconds: 0 };
  const send = (reply: Reply): void => void process.send?.(reply);
  // the engine gone, the clients go too
  process.on('disconnect', () => process.exit(1));
  process.on('message', (command: Command) => {
    const step = async (): Promise<Reply> => {
      switch (command.type) {
        case 'plan':
          fleet = command.plan.config.engine === 'autocannon' ? new AutocannonFleet(command.plan) : new Fleet(command.plan);
          return { type: 'planned' };
        case 'connect':
          await fleet!.connect();
          return { type: 'connected' };
        case 'run': {
          window = command.window;
          const startTimer = setTimeout(
            () => {
              windowCpu = { startCpu: process.cpuUsage(), startMs: clockNowMs(), cpuSeconds: 0, seconds: 0 };
            },
            Math.max(0, window.startMs - clockNowMs()),
          );
          await fleet!.run(command.window);
          clearTimeout(startTimer);
          if (windowCpu.startCpu !== undefined && windowCpu.startMs !== undefined) {
            const used = process.cpuUsage(windowCpu.startCpu);
            windowCpu.cpuSeconds = (used.user + used.system) / 1e6;
            windowCpu.seconds = (clockNowMs() - windowCpu.startMs) / 1000;
          }
          return { type: 'ran' };
        }
        case 'finish': {
          const result = await fleet!.finish(command.broadcastEvents);
          const cpu = process.cpuUsage();
          return {
            type: 'result',
            result,
            usage: {
              cpuSeconds: (cpu.user + cpu.system) / 1e6,
              windowCpuSeconds: windowCpu.cpuSeconds,
              windowSeconds: windowCpu.seconds,
              peakRssBytes: process.resourceUsage().maxRSS * 1024,
            },
          };
        }
      }
    };
    step().then(send, (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
  });
}

if (process.argv[1] === ENTRY && process.send !== undefined) serve();
