/**
 * Server-Sent Events: GET /events?client=ID opens a `text/event-stream`; every message is an
 * event with an `id:` line (its mailbox id) and one `data:` line per line of the message.
 * A client that reconnects with `Last-Event-ID: N` (or `?lastEventId=N`) gets every message
 * after N again: the stream resumes where the client lost it. Upstream messages arrive by POST.
 * A comment line (`:`) goes out after limits.sseHeartbeatMs without an event. Over HTTP/2 the
 * stream is one HTTP/2 stream of the connection, the events its DATA frames.
 */
import http from 'node:http';
import type { Writable } from 'node:stream';
import type { ServerResponse } from './http-responses.ts';
import { ContractError, ROUTES, type MailboxMessage, type ServerOptions } from './contract.ts';
import { MailboxHttpServer, type DeliveryContext, type DeliveryRoute } from './mailbox-http-server.ts';

/** One event as it goes on the wire. SSE splits lines at CR, LF and CRLF alike, so does this. */
export function encodeSseEvent(message: MailboxMessage): string {
  const lines = message.data.split(/\r\n|\r|\n/);
  return `id: ${message.id}\n${lines.map((line) => `data: ${line}\n`).join('')}\n`;
}

export const SSE_HEARTBEAT = ':\n\n';

function lastEventId(context: DeliveryContext): number {
  const header = context.req.headers['last-event-id'];
  const raw = (Array.isArray(header) ? header[0] : header) ?? context.url.searchParams.get('lastEventId') ?? '';
  if (raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new ContractError('bad-request', 'Last-Event-ID must be an event id (a whole number)');
  return Number(raw);
}

interface OpenStream {
  end(): void;
}

export function createSseServer(options: ServerOptions): MailboxHttpServer {
  const streams = new Set<OpenStream>();
  const streamByClient = new Map<string, OpenStream>();

  function open(context: DeliveryContext, res: ServerResponse, resumeAfter: number): void {
    const { client, metrics, limits } = context;
    context.acknowledge(resumeAfter);
    let writtenUpTo = resumeAfter;
    let heartbeat: NodeJS.Timeout | undefined;

    /**
     * Writes unless the client has left more than limits.maxBufferedBytes unread: then the stream
     * is ended and counted. Nothing is lost by it: what was not written stays in the mailbox and a
     * resume with Last-Event-ID gets it (an eviction meanwhile is counted as a resume gap).
     */
    const write = (text: string): boolean => {
      if (res.writableLength > limits.maxBufferedBytes) {
        metrics.error('closed-slow-consumer');
        stop();
        res.destroy();
        return false;
      }
      if (!(res as Writable).write(text)) metrics.counters.writesBackpressured += 1;
      return true;
    };
    const armHeartbeat = (): void => {
      if (limits.sseHeartbeatMs <= 0) return;
      clearTimeout(heartbeat);
      heartbeat = setTimeout(() => {
        if (write(SSE_HEARTBEAT)) armHeartbeat();
      }, limits.sseHeartbeatMs);
    };
    const flush = (): void => {
      const messages = client.mailbox.pendingAfter(writtenUpTo);
      const last = messages.at(-1);
      if (last === undefined || !write(messages.map(encodeSseEvent).join(''))) return;
      writtenUpTo = last.id;
      client.mailbox.markDelivered(last.id);
      metrics.counters.messagesOut += messages.length;
      armHeartbeat();
    };

    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    // HTTP/1.1 holds the head back for a body to go with it; HTTP/2's writeHead sends its HEADERS frame at once
    if (res instanceof http.ServerResponse) res.flushHeaders();
    const unsubscribe = client.mailbox.subscribe(flush);
    const stream: OpenStream = {
      end() {
        stop();
        res.end();
      },
    };
    const stop = (): void => {
      clearTimeout(heartbeat);
      unsubscribe();
      streams.delete(stream);
      if (streamByClient.get(client.id) === stream) streamByClient.delete(client.id);
    };
    res.once('close', stop);
    streamByClient.get(client.id)?.end(); // one stream per client: the newer one wins
    streamByClient.set(client.id, stream);
    streams.add(stream);
    flush();
    armHeartbeat();
  }

  const route: DeliveryRoute = {
    path: ROUTES.events,
    handle(context) {
      open(context, context.res, lastEventId(context));
    },
    closeAll() {
      for (const stream of [...streams]) stream.end();
    },
  };
  return new MailboxHttpServer('sse', route, options);
}
