/**
 * The servers as one bundled file, built at first use in each process that starts servers: node
 * starts it in about 0.1 s, where loading servers/main.ts through tsx's loader takes about
 * 0.26 s (measured here, a WebSocket server to its ready line), and a suite starts a server for
 * every run. esbuild, the compiler tsx itself runs on, bundles the project's own modules from
 * their sources of the moment (so the bundle is never older than the code); the packages stay
 * imports, resolved from the node_modules the bundle sits in. It is removed when the process
 * exits. Where it cannot be built, servers start through tsx as before.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const MAIN = fileURLToPath(new URL('../servers/main.ts', import.meta.url));
const CACHE = fileURLToPath(new URL('../node_modules/.cache/wirecost/', import.meta.url));

let built: { file: string } | { failed: string } | undefined;

/** The bundle's path, built on the first call; undefined where it could not be built (why: serverBundleProblem()). */
export function serverBundle(): string | undefined {
  built ??= build();
  return 'file' in built ? built.file : undefined;
}

/** Why the servers start through tsx in this process, if they do. */
export function serverBundleProblem(): string | undefined {
  return built !== undefined && 'failed' in built ? built.failed : undefined;
}

function build(): { file: string } | { failed: string } {
  const file = path.join(CACHE, `servers-${process.pid}.mjs`);
  try {
    mkdirSync(CACHE, { recursive: true });
    buildSync({
      entryPoints: [MAIN],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
  } catch (error) {
    return { failed: error instanceof Error ? error.message : String(error) };
  }
  process.once('exit', () => rmSync(file, { force: true }));
  return { file };
}
