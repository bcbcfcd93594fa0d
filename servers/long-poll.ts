/**
 * Long polling: GET /messages?client=ID&after=N is held until a message after N is pending, or
 * until limits.longPollTimeoutMs passes (then it answers `{"messages":[]}`); the client polls
 * again. A client that goes away while its poll is held loses nothing: messages are only
 * removed when a later poll acknowledges them with `after`.
 */
import type { ServerResponse } from './http-responses.ts';
import { ROUTES, type ServerOptions } from './contract.ts';
import { MailboxHttpServer, type DeliveryContext, type DeliveryRoute } from './mailbox-http-server.ts';
import { answerPoll, parseAfter } from './poll-response.ts';

interface HeldPoll {
  answer(): void;
}

export function createLongPollServer(options: ServerOptions): MailboxHttpServer {
  const held = new Set<HeldPoll>();
  /** The poll each client has open: a newer poll from the same client answers the older one. */
  const heldByClient = new Map<string, HeldPoll>();

  function hold(context: DeliveryContext, res: ServerResponse, after: number): void {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      held.delete(poll);
      if (heldByClient.get(context.client.id) === poll) heldByClient.delete(context.client.id);
    };
    const poll: HeldPoll = {
      answer() {
        if (done) return;
        finish();
        answerPoll(context, res, after);
      },
    };
    const timer = setTimeout(() => poll.answer(), context.limits.longPollTimeoutMs);
    const unsubscribe = context.client.mailbox.subscribe(() => poll.answer());
    res.once('close', finish); // the client went away: nothing was written, nothing is lost
    heldByClient.get(context.client.id)?.answer();
    heldByClient.set(context.client.id, poll);
    held.add(poll);
  }

  const route: DeliveryRoute = {
    path: ROUTES.messages,
    handle(context) {
      const after = parseAfter(context.url);
      context.acknowledge(after);
      if (context.client.mailbox.pendingAfter(after).length > 0) answerPoll(context, context.res, after);
      else hold(context, context.res, after);
    },
    closeAll() {
      for (const poll of [...held]) poll.answer();
    },
  };
  return new MailboxHttpServer('long-poll', route, options);
}
