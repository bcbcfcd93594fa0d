/**
 * One transport server over several processes (`--processes N`), so that the server passes the
 * open-file limit of one process (RLIMIT_NOFILE) and can use more than one core.
 *
 * The primary serves no client: it forks N workers (Node's cluster), waits until each listens,
 * prints the one ready line, and answers its parent's IPC requests (stats, broadcast) by asking
 * every worker and adding up their answers. Where the workers listen:
 *
 * - websocket and tcp: all on one port. By default (`--cluster-scheduling rr`, Node's
 *   `SCHED_RR`) the primary accepts each connection and hands it to the next worker in turn: the
 *   workers get equal shares, so none reaches its open-file limit before the others. With
 *   `none` (`SCHED_NONE`) the workers accept their own connections, which connects faster but
 *   as unevenly as the kernel wakes them (measured here: 17,810 and 12,190 of 30,000 on two
 *   workers); a worker at its file limit then closes what it accepts (libuv), and its clients
 *   see the connection end. Each worker keeps its own limits (`--max-clients`, the file limit).
 * - short-poll, long-poll and sse: one port per worker. A client's mailbox lives in the worker
 *   that registered it, so every request of that client must reach the same worker: the driver
 *   places client i on port i mod N (sticky placement, as a load balancer with sticky sessions
 *   does). With `--port P`, worker i listens on P + i; with port 0, each on a free port.
 *
 * The primary's stats are the workers' summed (counters, CPU, memory, event-loop time) plus its
 * own CPU and memory, with each worker's own in `workers`.
 */
import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import type { ServerStats, TransportName } from './contract.ts';
import { emptyServerCounters } from './metrics.ts';

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  type: 'worker-ready';
  port: number;
  pid: number;
}

/** Transports whose clients must keep to one worker: one port per worker. */
export function portPerWorker(transport: TransportName): boolean {
  return transport === 'short-poll' || transport === 'long-poll' || transport === 'sse';
}

/** Environment variable that tells a worker its index. */
export const WORKER_INDEX_ENV = 'WIRECOST_WORKER_INDEX';

/** The index of this worker (0..N-1), or undefined in a process that is not a cluster worker. */
export function workerIndex(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const raw = process.env[WORKER_INDEX_ENV];
  return raw === undefined ? undefined : Number(raw);
}

/** The port worker `index` asks for: a free one (0), or the base port plus the index where each worker has its own. */
export function workerPort(transport: TransportName, basePort: number, index: number): number {
  return basePort === 0 || !portPerWorker(transport) ? basePort : basePort + index;
}

/** Adds up the workers' stats; the primary's own CPU and memory count too (it is part of the server). */
export function sumServerStats(transport: TransportName, workers: ServerStats[]): ServerStats & { workers: ServerStats[] } {
  const primaryCpu = process.cpuUsage();
  const sum: ServerStats = {
    transport,
    pid: process.pid,
    clients: 0,
    cpuUserMicros: primaryCpu.user,
    cpuSystemMicros: primaryCpu.system,
    rssBytes: process.memoryUsage.rss(),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    eventLoopActiveMs: 0,
    eventLoopIdleMs: 0,
    ...emptyServerCounters(),
  };
  const additive = [
    'clients',
    'cpuUserMicros',
    'cpuSystemMicros',
    'rssBytes',
    'maxRssBytes',
    'eventLoopActiveMs',
    'eventLoopIdleMs',
    'connectionsAccepted',
    'connectionsOpen',
    'requests',
    'messagesIn',
    'messagesOut',
    'eventsCreated',
    'evictedDelivered',
    'writesBackpressured',
    'bytesRead',
    'bytesWritten',
  ] as const;
  for (const worker of workers) {
    for (const field of additive) sum[field] += worker[field];
    const errors = sum.errors as Record<string, number>;
    for (const [cause, count] of Object.entries(worker.errors)) errors[cause] = (errors[cause] ?? 0) + count;
  }
  return { ...sum, workers };
}

/**
 * How a shared port's connections reach the workers: `rr`, the primary accepts each and hands it
 * to the next worker in turn (even, and slower); `none`, the workers accept themselves (faster, and
 * as uneven as the kernel wakes them: a worker at its file limit then closes what it accepts).
 */
export type ClusterScheduling = 'rr' | 'none';

/** A request of the primary's parent, forwarded to every worker. */
type WorkerRequest = { type: 'stats' } | { type: 'broadcast'; sizeBytes: number };

/** How long the primary waits for its workers to listen. */
const WORKERS_READY_TIMEOUT_MS = 30_000;
/** How long a stopping worker may take before it is killed. */
const WORKER_STOP_TIMEOUT_MS = 10_000;

export interface ClusterReady {
  ports: number[];
  pids: number[];
}

/** The primary's side: forks the workers and speaks for them. */
export class ServerCluster {
  private readonly workers: Worker[] = [];
  private stopping = false;

  private constructor(private readonly transport: TransportName) {}

  /**
   * Forks `processes` workers running this same entry (servers/main.ts) with `args`, and resolves
   * once each listens. A worker that dies before the cluster is stopped ends the primary with
   * an error (exit 1): a server with a worker missing would lose that worker's clients.
   */
  static async start(
    transport: TransportName,
    processes: number,
    args: string[],
    scheduling: ClusterScheduling = 'rr',
  ): Promise<{ cluster: ServerCluster; ready: ClusterReady }> {
    const self = new ServerCluster(transport);
    cluster.schedulingPolicy = scheduling === 'none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
    cluster.setupPrimary({ args, silent: false });
    const readies: Promise<WorkerReady>[] = [];
    for (let index = 0; index < processes; index++) {
      const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
      self.workers.push(worker);
      readies.push(
        new Promise<WorkerReady>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`worker ${index} did not listen within ${WORKERS_READY_TIMEOUT_MS} ms`)), WORKERS_READY_TIMEOUT_MS);
          worker.on('message', (message: { type?: string }) => {
            if (message.type !== 'worker-ready') return;
            clearTimeout(timer);
            resolve(message as WorkerReady);
          });
          worker.once('exit', (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`worker ${index} exited (${signal ?? `code ${code}`}) before it listened`));
          });
        }),
      );
    }
    const ready = await Promise.all(readies).catch(async (error: unknown) => {
      await self.stop();
      throw error;
    });
    for (const [index, worker] of self.workers.entries()) {
      worker.once('exit', (code, signal) => {
        if (self.stopping) return;
        process.stderr.write(`servers/cluster.ts: worker ${index} (pid ${worker.process.pid}) exited (${signal ?? `code ${code}`}); stopping the server\n`);
        void self.stop().then(() => process.exit(1));
      });
    }
    return { cluster: self, ready: { ports: ready.map((one) => one.port), pids: ready.map((one) => one.pid) } };
  }

  private ask<T>(worker: Worker, request: WorkerRequest, replyType: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: { type?: string }): void => {
        if (reply.type !== replyType) return;
        cleanup();
        resolve(reply as T);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`worker ${worker.process.pid} exited`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.send(request);
    });
  }

  /** Every worker's stats, added up (with the primary's own CPU and memory), and each worker's. */
  async stats(): Promise<ServerStats & { workers: ServerStats[] }> {
    const all = await Promise.all(this.workers.map((worker) => this.ask<{ stats: ServerStats }>(worker, { type: 'stats' }, 'stats')));
    return sumServerStats(
      this.transport,
      all.map((reply) => reply.stats),
    );
  }

  /** One broadcast event to every worker's clients; resolves with how many clients it reached in all. */
  async broadcast(sizeBytes: number): Promise<number> {
    const all = await Promise.all(this.workers.map((worker) => this.ask<{ clients: number }>(worker, { type: 'broadcast', sizeBytes }, 'broadcast')));
    return all.reduce((sum, reply) => sum + reply.clients, 0);
  }

  /** Stops every worker gracefully (SIGTERM), killing one that takes too long. */
  async stop(): Promise<void> {
    this.stopping = true;
    const started = performance.now();
    await Promise.all(
      this.workers.map(async (worker) => {
        if (worker.process.exitCode !== null || worker.process.signalCode !== null) return;
        const exited = new Promise((resolve) => worker.process.once('exit', resolve));
        worker.process.kill('SIGTERM');
        const timer = setTimeout(() => worker.process.kill('SIGKILL'), Math.max(0, WORKER_STOP_TIMEOUT_MS - (performance.now() - started)));
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
