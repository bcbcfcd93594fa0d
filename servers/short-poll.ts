/**
 * Short polling: GET /messages?client=ID&after=N answers at once with every message after N
 * (N acknowledges what the client already has); an empty poll answers `{"messages":[]}`.
 */
import { ROUTES, type ServerOptions } from './contract.ts';
import { MailboxHttpServer, type DeliveryRoute } from './mailbox-http-server.ts';
import { answerPoll, parseAfter } from './poll-response.ts';

export function createShortPollServer(options: ServerOptions): MailboxHttpServer {
  const route: DeliveryRoute = {
    path: ROUTES.messages,
    handle(context) {
      const after = parseAfter(context.url);
      context.acknowledge(after);
      answerPoll(context, context.res, after);
    },
    closeAll() {},
  };
  return new MailboxHttpServer('short-poll', route, options);
}
