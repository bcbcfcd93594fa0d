/**
 * The textbook's Go echo server (servers/go-echo/main.go, on golang.org/x/net/websocket) as a
 * peer the bench drives through --target, beside the `ws` server.
 *
 * It is built with Debian's toolchain and package only (GO111MODULE=off, GOPATH at
 * /usr/share/gocode, GOPROXY=off, GOTOOLCHAIN=local: nothing is downloaded), into a directory
 * under the OS temp directory named by a hash of the source, never into the repository. Where
 * Go or the package is missing, it says why instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SOURCE = fileURLToPath(new URL('../servers/go-echo/main.go', import.meta.url));
/** Where Debian's golang-golang-x-net-dev puts the package. */
export const DEBIAN_GOPATH = '/usr/share/gocode';
const WEBSOCKET_PACKAGE_DIR = join(DEBIAN_GOPATH, 'src/golang.org/x/net/websocket');
const INSTALL_HINT = 'apt-get install golang-go golang-golang-x-net-dev';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface GoEchoServer {
  /** The WebSocket URL to give --target. */
  url: string;
  /** The Go toolchain and the x/net package it was built with, e.g. "go1.19.8, golang.org/x/net 1:0.7.0+dfsg-1". */
  version: string;
  stop(): Promise<void>;
}

export type GoPeer = GoEchoServer | { skipped: string };

/** The Go toolchain's version ("go1.19.8"), or undefined without one. */
async function goVersion(): Promise<string | undefined> {
  try {
    const { stdout } = await run('go', ['version']);
    return /\bgo\d+(?:\.\d+)*/.exec(stdout)?.[0] ?? stdout.trim();
  } catch {
    return undefined;
  }
}

/** The Debian package's version of golang.org/x/net, or "Debian package" when dpkg cannot tell. */
async function xNetVersion(): Promise<string> {
  try {
    const { stdout } = await run('dpkg-query', ['-W', '-f', '${Version}', 'golang-golang-x-net-dev']);
    return stdout.trim() || 'Debian package';
  } catch {
    return 'Debian package';
  }
}

/** Builds the server once per version of its source; returns the binary's path. */
async function build(): Promise<string> {
  const source = await readFile(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `wirecost-go-echo-${hash}`);
  const binary = join(dir, 'go-echo');
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  await run('go', ['build', '-o', binary, SOURCE], {
    cwd: dir,
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: DEBIAN_GOPATH,
      GOCACHE: join(dir, 'gocache'),
      GOFLAGS: '',
      GOPROXY: 'off',
      GOTOOLCHAIN: 'local',
    },
    timeout: 120_000,
  });
  return binary;
}

function readyPort(child: ChildProcess): Promise<number> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Go echo server printed no ready line within ${READY_TIMEOUT_MS} ms\n${stderr}`));
    }, READY_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        const ready = JSON.parse(line) as { ready?: unknown; port?: unknown };
        if (ready.ready !== true || typeof ready.port !== 'number') throw new Error('not a ready line');
        resolve(ready.port);
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`the Go echo server printed "${line}" instead of its ready line`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the Go echo server exited with code ${code} before it was ready\n${stderr}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Builds (or reuses) and starts the Go echo server on 127.0.0.1 and a free port; or says why it cannot. */
export async function startGoEchoServer(): Promise<GoPeer> {
  const go = await goVersion();
  if (go === undefined) return { skipped: `go is not installed (${INSTALL_HINT})` };
  if (!existsSync(WEBSOCKET_PACKAGE_DIR)) return { skipped: `golang.org/x/net/websocket is not in ${DEBIAN_GOPATH} (${INSTALL_HINT})` };
  let binary: string;
  try {
    binary = await build();
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim() || (error instanceof Error ? error.message : String(error));
    return { skipped: `the Go echo server did not build with ${go}: ${detail}` };
  }
  const child = spawn(binary, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await readyPort(child);
  return { url: `ws://127.0.0.1:${port}/`, version: `${go}, golang.org/x/net ${await xNetVersion()}`, stop: () => stopChild(child) };
}
