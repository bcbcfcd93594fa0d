/** Listening on a port, and counting the connections a listener accepts, the same for every transport's server. */
import type net from 'node:net';
import type { ServerMetrics } from './metrics.ts';

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

/**
 * Holds a listener to `maxConnections` open connections (one more is closed at once and counted)
 * and counts every TCP connection it accepts, with the bytes its socket carries: under TLS the
 * socket is the TCP one, so the bytes are the ciphertext, handshakes and records included.
 */
export function countConnections(server: net.Server, metrics: ServerMetrics, maxConnections: number): void {
  server.maxConnections = maxConnections;
  server.on('drop', () => metrics.error('too-many-connections'));
  server.on('connection', (socket: net.Socket) => metrics.trackSocket(socket));
}
