/**
 * What every command shares at its edges: a command that has finished ends its process with its
 * exit code, whatever a run left open.
 */

/**
 * Ends the process with `code` once stdout and stderr have taken what was written to them. A
 * command that has done its work and written its results does not wait on a socket, a timer or
 * a thread that something it used forgot to close.
 */
export async function exitWith(code: number): Promise<never> {
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(code);
}
