/**
 * A fleet in a worker thread, so the driver can use more than one core. The engine talks to it
 * with messages: connect, run, finish; it answers connected, ran, result (or error).
 */
import { Worker, parentPort, workerData } from 'node:worker_threads';
import { Fleet, type FleetPlan } from './fleet.ts';
import type { FleetHandle, FleetResult, FleetWindow } from './fleet-recorder.ts';

type Command = { type: 'connect' } | { type: 'run'; window: FleetWindow } | { type: 'finish'; broadcastEvents: number };
type Reply = { type: 'connected' } | { type: 'ran' } | { type: 'result'; result: FleetResult } | { type: 'error'; message: string };

/** The engine's side: the same three steps as a Fleet, carried out in a worker thread. */
export class WorkerFleet implements FleetHandle {
  private readonly worker: Worker;

  constructor(plan: FleetPlan) {
    // A worker does not inherit tsx's loader: register it, then load this file as the worker.
    const entry = new URL(import.meta.url).href;
    const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    this.worker = new Worker(code, { eval: true, workerData: plan });
  }

  private ask<T extends Reply['type']>(command: Command, expected: T): Promise<Extract<Reply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: Reply): void => {
        cleanup();
        if (reply.type === expected) resolve(reply as Extract<Reply, { type: T }>);
        else reject(new Error(reply.type === 'error' ? reply.message : `the worker answered ${reply.type}`));
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        this.worker.off('message', onMessage);
        this.worker.off('error', onError);
      };
      this.worker.on('message', onMessage);
      this.worker.on('error', onError);
      this.worker.postMessage(command);
    });
  }

  async connect(): Promise<void> {
    await this.ask({ type: 'connect' }, 'connected');
  }

  async run(window: FleetWindow): Promise<void> {
    await this.ask({ type: 'run', window }, 'ran');
  }

  async abort(): Promise<void> {
    await this.worker.terminate();
  }

  async finish(broadcastEvents: number): Promise<FleetResult> {
    const reply = await this.ask({ type: 'finish', broadcastEvents }, 'result');
    await this.worker.terminate();
    return reply.result;
  }
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object' && 'config' in workerData) {
  const port = parentPort;
  const fleet = new Fleet(workerData as FleetPlan);
  port.on('message', (command: Command) => {
    const step =
      command.type === 'connect'
        ? fleet.connect().then((): Reply => ({ type: 'connected' }))
        : command.type === 'run'
          ? fleet.run(command.window).then((): Reply => ({ type: 'ran' }))
          : fleet.finish(command.broadcastEvents).then((result): Reply => ({ type: 'result', result }));
    step.then(
      (reply) => port.postMessage(reply),
      (error: unknown) => port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies Reply),
    );
  });
}
