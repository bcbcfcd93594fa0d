/**
 * The echo demo: `npm run demo -- [--port N]` starts the short-poll, long-poll, SSE and
 * WebSocket servers, a byte-counting relay in front of each, and the page; it prints the URL to
 * open and stops everything on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startEchoSite } from './demo/site.ts';

function parsePort(): number {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } }, allowPositionals: false });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`npm run demo: --port must be a whole number from 0 to 65535, not "${values.port}"\n`);
    process.exit(2);
  }
  return port;
}

const site = await startEchoSite({ port: parsePort() });
process.stdout.write(`wirecost echo demo: open ${site.url}\n(Ctrl-C stops it)\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  site.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`npm run demo: stop failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
