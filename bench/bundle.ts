/**
 * Entry points the bench starts as processes (the servers, the fleet in the client's namespace),
 * as single bundled files built at first use in each process that starts them: node starts the
 * servers' bundle in about 0.1 s and the fleet's in 0.25 s, where loading them through tsx's
 * loader takes 0.26 s and 0.48 s (measured here: a WebSocket server to its ready line, a fleet
 * process to its first answer), and a suite starts one or both for every run. esbuild, the
 * compiler tsx itself runs on, bundles the project's own modules from their sources of the
 * moment (so a bundle is never older than the code); the packages stay imports, resolved from the
 * node_modules the bundle sits in. Bundles are removed when the process exits. Where one cannot
 * be built, its entry starts through tsx as before.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const CACHE = fileURLToPath(new URL('../node_modules/.cache/wirecost/', import.meta.url));

const built = new Map<string, { file: string } | { failed: string }>();

/** The bundle of the TypeScript entry `source` (an absolute path), built on the first call; undefined where it could not be built. */
function bundledEntry(source: string): string | undefined {
  let outcome = built.get(source);
  if (outcome === undefined) {
    outcome = build(source);
    built.set(source, outcome);
  }
  return 'file' in outcome ? outcome.file : undefined;
}

/** The command-line arguments node needs before `source` or its bundle: none for a bundle, tsx's loader for the source. */
export function entryArgs(source: string): { file: string; execArgv: string[] } {
  const bundle = bundledEntry(source);
  return bundle === undefined ? { file: source, execArgv: ['--import', 'tsx'] } : { file: bundle, execArgv: [] };
}

function build(source: string): { file: string } | { failed: string } {
  const file = path.join(CACHE, `${path.basename(source, '.ts')}-${process.pid}.mjs`);
  try {
    mkdirSync(CACHE, { recursive: true });
    buildSync({
      entryPoints: [source],
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
