/**
 * Starts a transport server as its own process (servers/main.ts), waits for its ready line,
 * and talks to it over IPC: counters, broadcast, graceful stop. Used by the engine and the tests.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { HttpVersion, ServerStats, TlsVersion, TransportName } from '../servers/contract.ts';
import { entryArgs } from './bundle.ts';

const MAIN = fileURLToPath(new URL('../servers/main.ts', import.meta.url));

export interface ReadyLine {
  ready: true;
  transport: TransportName;
  port: number;
  pid: number;
  /** A server of several processes: each worker's port (all the same for websocket and tcp) and pid. */
  ports?: number[];
  workers?: number[];
  /** Whether the server speaks TLS (https, wss, TLS over TCP). */
  tls: boolean;
  /** The HTTP it serves; null for tcp, which speaks no HTTP. */
  http: HttpVersion | null;
}

/** The server's certificate and key files (PEM), and the TLS version it is to speak (its default: 1.3). */
export interface ServerTlsFiles {
  certPath: string;
  keyPath: string;
  version?: TlsVersion;
}

export interface StartOptions {
  /** Extra command-line options for servers/main.ts, e.g. ['--long-poll-timeout-ms', '500']. */
  args?: string[];
  /** TLS on the server's transport (--tls-cert, --tls-key, --tls-version); undefined: plaintext. */
  tls?: ServerTlsFiles;
  /** --http: '2' for short-poll, long-poll and sse only (the server refuses it for the others). */
  http?: HttpVersion;
  host?: string;
  /** Command prefix for CPU pinning, e.g. ['taskset', '-c', '1'] (the whole node process is pinned). */
  pinCommand?: string[];
  readyTimeoutMs?: number;
}

/** servers/main.ts's options for `options`: TLS and HTTP version first, then the extra ones. */
export function serverArgs(options: StartOptions): string[] {
  const tls = options.tls === undefined ? [] : ['--tls-cert', options.tls.certPath, '--tls-key', options.tls.keyPath];
  const version = options.tls?.version === undefined ? [] : ['--tls-version', options.tls.version];
  const http = options.http === undefined ? [] : ['--http', options.http];
  return [...tls, ...version, ...http, ...(options.args ?? [])];
}

export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly ready: ReadyLine,
    readonly host: string,
  ) {}

  get pid(): number {
    return this.ready.pid;
  }

  get port(): number {
    return this.ready.port;
  }

  /** Every port the server listens on: one, or one per worker (servers/cluster.ts). */
  get ports(): number[] {
    return this.ready.ports ?? [this.ready.port];
  }

  /** Whether the server speaks TLS, as its ready line says. */
  get tls(): boolean {
    return this.ready.tls;
  }

  /** The HTTP the server serves (null: tcp), as its ready line says. */
  get http(): HttpVersion | null {
    return this.ready.http;
  }

  static async start(transport: TransportName, options: StartOptions = {}): Promise<ServerProcess> {
    const host = options.host ?? '127.0.0.1';
    const args = ['--transport', transport, '--port', '0', '--host', host, ...serverArgs(options)];
    const pin = options.pinCommand ?? [];
    // the bundled servers where they could be built (bench/bundle.ts), else their sources through tsx
    const entry = entryArgs(MAIN);
    const child = fork(entry.file, args, {
      execPath: pin.length > 0 ? pin[0] : process.execPath,
      execArgv: [...pin.slice(1), ...(pin.length > 0 ? [process.execPath] : []), ...entry.execArgv],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the ${transport} server printed no ready line within ${options.readyTimeoutMs ?? 20_000} ms\n${stderr}`));
      }, options.readyTimeoutMs ?? 20_000);
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          const parsed = JSON.parse(line) as ReadyLine;
          if (parsed.ready !== true) throw new Error('not a ready line');
          resolve(parsed);
        } catch {
          reject(new Error(`the ${transport} server printed "${line}" instead of its ready line`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the ${transport} server exited with code ${code} before it was ready\n${stderr}`));
      });
    });
    return new ServerProcess(child, ready, host);
  }

  private request<T>(message: object, replyType: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: { type: string }): void => {
        if (reply.type !== replyType) return;
        this.child.off('message', onMessage);
        resolve(reply as T);
      };
      this.child.on('message', onMessage);
      this.child.send(message, (error) => {
        if (error !== null) {
          this.child.off('message', onMessage);
          reject(error);
        }
      });
    });
  }

  async stats(): Promise<ServerStats> {
    return (await this.request<{ stats: ServerStats }>({ type: 'stats' }, 'stats')).stats;
  }

  /** One broadcast event to every client; resolves with how many clients it was sent or queued to. */
  async broadcast(sizeBytes: number): Promise<number> {
    return (await this.request<{ clients: number }>({ type: 'broadcast', sizeBytes }, 'broadcast')).clients;
  }

  /** SIGTERM and wait for the exit; resolves with the exit code (0 for a graceful stop). */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  /** Kills the server at once (SIGKILL), as a crash would; resolves when it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** For fault tests: the process, to kill it without a graceful stop. */
  get process(): ChildProcess {
    return this.child;
  }
}
