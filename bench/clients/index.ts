/** The client for each transport. */
import type { TransportName } from '../../servers/contract.ts';
import { LongPollClient, ShortPollClient } from './poll-client.ts';
import { SseClient } from './sse-client.ts';
import { TcpClient } from './tcp-client.ts';
import type { ClientOptions, TransportClient } from './transport-client.ts';
import { WebSocketClient } from './websocket-client.ts';

export function createClient(transport: TransportName, options: ClientOptions): TransportClient {
  switch (transport) {
    case 'short-poll':
      return new ShortPollClient(options);
    case 'long-poll':
      return new LongPollClient(options);
    case 'sse':
      return new SseClient(options);
    case 'websocket':
      return new WebSocketClient(options);
    case 'tcp':
      return new TcpClient(options);
  }
}
