/** Listening on a port, the same for every transport's server. */
import type net from 'node:net';

/**
 * Listens on `host:port` (0: a free port) and resolves with the port bound. `exclusive`: in a
 * cluster worker, a port of its own rather than the handle the workers share (servers/cluster.ts).
 */
export async function listenOn(server: net.Server, port: number, host: string, exclusive = false): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, exclusive }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}
