/** Shared by the integration tests: real server processes on port 0 and real clients. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createClient } from '../bench/clients/index.ts';
import { messageText, type ClientOptions, type TransportClient } from '../bench/clients/transport-client.ts';
import { ServerProcess, type StartOptions } from '../bench/server-process.ts';
import type { TransportName } from '../servers/contract.ts';
import { createNodeClient, type ContractClient } from './node-clients.ts';

/** Runs `run` with a server started with these extra arguments (or these start options), and stops it after. */
export async function withServer<T>(transport: TransportName, options: string[] | StartOptions, run: (server: ServerProcess) => Promise<T>): Promise<T> {
  const server = await ServerProcess.start(transport, Array.isArray(options) ? { args: options } : options);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

export function clientOptions(server: ServerProcess, overrides: Partial<ClientOptions> = {}): ClientOptions {
  return { host: server.host, port: server.port, pollIntervalMs: 20, perMessageDeflate: false, ...overrides };
}

/** A connected client that records every message it receives. */
export async function connectedClient(transport: TransportName, server: ServerProcess, overrides: Partial<ClientOptions> = {}): Promise<RecordingClient> {
  const client = createClient(transport, clientOptions(server, overrides));
  const recording = new RecordingClient(client);
  await client.connect();
  client.start?.();
  return recording;
}

/**
 * A connected client on node's own modules (test/node-clients.ts), for a server in any form: over
 * TLS when `ca` (the server certificate's CA, PEM) is given, with the HTTP version the server's
 * ready line names.
 */
export async function connectedNodeClient(transport: TransportName, server: ServerProcess, ca?: string): Promise<RecordingClient<ContractClient>> {
  const client = createNodeClient(transport, { host: server.host, port: server.port, http: server.http ?? '1.1', ...(ca === undefined ? {} : { ca }) });
  const recording = new RecordingClient(client);
  await client.connect();
  return recording;
}

export class RecordingClient<Client extends ContractClient = TransportClient> {
  readonly received: { text: string; receivedAtMs: number }[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(readonly client: Client) {
    client.onMessage = (message, receivedAtMs) => {
      this.received.push({ text: messageText(message), receivedAtMs });
      this.waiters = this.waiters.filter((waiter) => {
        if (this.received.length < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    };
  }

  /** Resolves once `count` messages in all have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<string[]> {
    if (this.received.length >= count) return Promise.resolve(this.texts());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${count} messages; got ${this.received.length}`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.texts());
        },
      });
    });
  }

  texts(): string[] {
    return this.received.map((message) => message.text);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Finished {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs a command in its own process group and resolves once it has exited; rejects if it has
 * not within `timeoutMs`. Whatever way it ends, the whole group is killed afterwards, so nothing
 * the command started outlives the test.
 */
export function runCommand(
  command: string,
  args: string[],
  { timeoutMs, env = process.env }: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<Finished> {
  const started = performance.now();
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<Finished>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`${command} ${args.join(' ')} had not exited after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      killGroup();
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

/**
 * Polls `predicate` every `everyMs` until it holds; throws, naming `what`, once `timeoutMs` has
 * passed without it. Every wait in the tests has a deadline: a condition that never comes fails
 * the test instead of hanging the suite.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 5_000, what, everyMs = 10 }: { timeoutMs?: number; what: string; everyMs?: number },
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (performance.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await delay(everyMs);
  }
}
