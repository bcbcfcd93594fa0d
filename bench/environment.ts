/** What the results were measured on: machine, runtime, package versions, commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import type { Environment } from './result.ts';

/** Packages whose versions shape the measurements. */
const MEASURED_PACKAGES = ['ws', 'autocannon', 'hdr-histogram-js', 'tsx', 'bufferutil', 'utf-8-validate'];

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | undefined {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

export function describeEnvironment(command: string): Environment {
  const cpus = os.cpus();
  const packages: Record<string, string> = {};
  for (const name of MEASURED_PACKAGES) {
    const version = packageVersion(name);
    if (version !== undefined) packages[name] = version;
  }
  return {
    node: process.version,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    totalMemoryBytes: os.totalmem(),
    packages,
    gitCommit: gitCommit(),
    startedAt: new Date().toISOString(),
    command,
  };
}
