/**
 * A transport server (servers/main.ts) run under clinic doctor or clinic flame. clinic runs
 * the server as its child and writes its HTML once the server exits; the server stops on
 * SIGINT. Without a terminal, clinic must be told NO_INSIGHT (else it exits silently) and not
 * to open a browser.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TransportName } from '../../servers/contract.ts';
import type { ReadyLine } from '../../bench/server-process.ts';

export type ClinicTool = 'doctor' | 'flame';

const CLINIC_BIN = createRequire(import.meta.url).resolve('clinic/bin.js');
const SERVER_MAIN = fileURLToPath(new URL('../../servers/main.ts', import.meta.url));
/** tsx's loader by its path, so that the server finds it whatever the working directory. */
const TSX_LOADER = import.meta.resolve('tsx');
const GENERATED = /Generated HTML file is (file:\S+)/;
/** Output kept to explain a failure. */
const TAIL_CHARS = 4000;

export class ClinicServer {
  private output = '';
  private htmlUrl: string | undefined;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly tool: ClinicTool,
    readonly outDir: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        this.output = `${this.output}${error.message}\n`;
        resolve({ code: null, signal: null });
      });
    });
  }

  /** Starts clinic and the server; resolves with the server's ready line. */
  static async start(tool: ClinicTool, transport: TransportName, outDir: string, readyTimeoutMs: number): Promise<{ clinic: ClinicServer; ready: ReadyLine }> {
    const args = [CLINIC_BIN, tool, '--open=false', '--dest', outDir, '--'];
    const server = [process.execPath, '--import', TSX_LOADER, SERVER_MAIN, '--transport', transport, '--port', '0', '--host', '127.0.0.1'];
    // Its own process group, so that one signal ends clinic and the server together (see kill).
    const child = spawn(process.execPath, [...args, ...server], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_INSIGHT: '1', NO_UPDATE_NOTIFIER: '1' },
    });
    const clinic = new ClinicServer(child, tool, outDir);
    const ready = new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line from the server within ${readyTimeoutMs} ms\n${clinic.output}`)), readyTimeoutMs);
      clinic.onLine((line) => {
        if (!line.startsWith('{"ready":true')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as ReadyLine);
      });
      void clinic.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`clinic ended (${signal ?? `exit code ${code}`}) before the server was ready\n${clinic.output}`));
      });
    });
    try {
      return { clinic, ready: await ready };
    } catch (error) {
      clinic.kill();
      throw error;
    }
  }

  private onLine(listener: (line: string) => void): void {
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.output = `${this.output}${line}\n`.slice(-TAIL_CHARS);
        this.htmlUrl = GENERATED.exec(line)?.[1] ?? this.htmlUrl;
        listener(line);
      });
    }
  }

  /** Stops the server (SIGINT), waits for clinic to write its HTML, and resolves with the HTML's path. */
  async finish(serverPid: number, timeoutMs: number): Promise<string> {
    process.kill(serverPid, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const exit = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (exit === 'timeout') {
      this.kill();
      throw new Error(`clinic ${this.tool} did not finish within ${timeoutMs} ms of the server's stop\n${this.output}`);
    }
    if (exit.code !== 0) throw new Error(`clinic ${this.tool} ended with ${exit.signal ?? `exit code ${exit.code}`}\n${this.output}`);
    const html = this.htmlUrl === undefined ? path.join(this.outDir, `${serverPid}.clinic-${this.tool}.html`) : fileURLToPath(this.htmlUrl);
    if (!existsSync(html)) throw new Error(`clinic ${this.tool} wrote no HTML at ${html}\n${this.output}`);
    return html;
  }

  /** Ends clinic and the server at once (their process group); nothing is written. */
  kill(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
