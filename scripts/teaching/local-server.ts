/** The project's WebSocket server, in this process on 127.0.0.1 and a free port, for the teaching commands. */
import { DEFAULT_LIMITS, ROUTES } from '../../servers/contract.ts';
import { createWebSocketServer } from '../../servers/websocket.ts';

export interface LocalWebSocketServer {
  host: string;
  port: number;
  /** ws://host:port/ws */
  url: string;
  close(): Promise<void>;
}

export async function startLocalWebSocketServer(): Promise<LocalWebSocketServer> {
  const server = createWebSocketServer({ limits: DEFAULT_LIMITS, perMessageDeflate: false });
  const host = '127.0.0.1';
  const port = await server.listen(0, host);
  return { host, port, url: `ws://${host}:${port}${ROUTES.websocket}`, close: () => server.close() };
}
