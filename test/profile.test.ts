import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_DURATION_SECONDS, DEFAULT_PROFILES_DIR, parseProfileArgs } from '../scripts/profile/options.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';

/** clinic doctor's start, two seconds of load and its analysis fit well within this. */
const SMOKE_TIMEOUT_MS = 120_000;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with no terminal (stdin closed), in its own process group so that a timeout ends all of it. */
function runDetached(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took over ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run profile', () => {
  it('reads its command line and refuses broadcast', () => {
    assert.deepEqual(parseProfileArgs(['--transport', 'sse', '--scenario', 'push']), {
      transport: 'sse',
      scenario: 'push',
      clients: RUN_DEFAULTS.clients,
      durationSeconds: DEFAULT_DURATION_SECONDS,
      flame: false,
      outDir: DEFAULT_PROFILES_DIR,
    });
    assert.deepEqual(parseProfileArgs(['--transport', 'tcp', '--scenario', 'idle', '--flame', '--clients', '3', '--duration', '1.5', '--out', 'p']), {
      transport: 'tcp',
      scenario: 'idle',
      clients: 3,
      durationSeconds: 1.5,
      flame: true,
      outDir: 'p',
    });
    assert.equal(parseProfileArgs(['--help']), 'help');
    assert.throws(() => parseProfileArgs(['--transport', 'websocket', '--scenario', 'broadcast']), /broadcast cannot be profiled/);
    assert.throws(() => parseProfileArgs(['--transport', 'websocket']), /--scenario is required/);
    assert.throws(() => parseProfileArgs(['--transport', 'pigeon', '--scenario', 'echo']), /unknown transport/);
    assert.throws(() => parseProfileArgs(['--transport', 'websocket', '--scenario', 'echo', '--sample-rate', '9']), /Unknown option/);
  });

  it('profiles the websocket server under echo load with clinic doctor, without a terminal', { timeout: SMOKE_TIMEOUT_MS + 30_000 }, async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'wirecost-profile-'));
    try {
      const args = ['run', '--silent', 'profile', '--', '--transport', 'websocket', '--scenario', 'echo', '--duration', '2', '--clients', '10', '--out', out];
      const finished = await runDetached('npm', args, { ...process.env, NO_INSIGHT: '1' }, SMOKE_TIMEOUT_MS);
      assert.equal(finished.code, 0, finished.stderr);
      const html = finished.stdout.trim().split('\n').at(-1) ?? '';
      assert.match(html, /\.clinic-doctor\.html$/);
      assert.equal(path.dirname(html), out);
      assert.ok(existsSync(html), `${html} exists`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('exits 2 on an unknown option', { timeout: SMOKE_TIMEOUT_MS + 30_000 }, async () => {
    const finished = await runDetached('npm', ['run', '--silent', 'profile', '--', '--frobnicate'], process.env, 30_000);
    assert.equal(finished.code, 2);
    assert.match(finished.stderr, /Unknown option '--frobnicate'/);
  });
});
