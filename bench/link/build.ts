/**
 * Builds bench/link/forwarder.c with the system's C compiler at first use. The binary is kept
 * outside the tracked tree, under the temporary directory in a directory of this user's only,
 * named by a hash of the source: a changed source is built again, an unchanged one never.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const FORWARDER_SOURCE = fileURLToPath(new URL('./forwarder.c', import.meta.url));

/** The directory the binaries are kept in: created with mode 0700, and refused if anyone else could write to it. */
function cacheDirectory(): string {
  const uid = process.getuid?.() ?? 0;
  const directory = path.join(os.tmpdir(), `wirecost-link-${uid}`);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const stat = lstatSync(directory);
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) {
    throw new Error(`${directory} is not a directory of this user's only: refusing to run a program from it`);
  }
  return directory;
}

let built: string | undefined;

/** The path of the built forwarder; builds it first if this source was never built. Throws with the compiler's message on failure. */
export function forwarderBinary(): string {
  if (built !== undefined && existsSync(built)) return built;
  const source = readFileSync(FORWARDER_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const binary = path.join(cacheDirectory(), `wirecost-link-${hash}`);
  if (!existsSync(binary)) {
    const partial = `${binary}.${process.pid}.partial`;
    try {
      execFileSync('cc', ['-O2', '-Wall', '-o', partial, FORWARDER_SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
      chmodSync(partial, 0o700);
      // another process building at the same time renames an identical binary over it: either wins
      renameSync(partial, binary);
      // builds of older sources are of no more use (a process still running one keeps its copy)
      for (const name of readdirSync(path.dirname(binary))) {
        if (/^wirecost-link-[0-9a-f]{16}$/.test(name) && name !== path.basename(binary)) rmSync(path.join(path.dirname(binary), name), { force: true });
      }
    } catch (error) {
      rmSync(partial, { force: true });
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`cc could not build ${path.basename(FORWARDER_SOURCE)}: ${stderr || (error instanceof Error ? error.message : String(error))}`, {
        cause: error,
      });
    }
  }
  built = binary;
  return binary;
}
