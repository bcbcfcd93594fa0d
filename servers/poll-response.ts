/** The body of a poll answer, shared by short-poll and long-poll. */
import type { ServerResponse } from './http-responses.ts';
import { ContractError, type MailboxMessage, type PollResponse } from './contract.ts';
import type { DeliveryContext } from './mailbox-http-server.ts';
import { sendJson } from './http-responses.ts';

/** The `after` query parameter: the highest message id the client already has (0: none). */
export function parseAfter(url: URL): number {
  const raw = url.searchParams.get('after');
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new ContractError('bad-request', 'after must be a message id (a whole number)');
  return Number(raw);
}

/** Answers a poll with every message after `after` (an empty list when there is none). */
export function answerPoll(context: DeliveryContext, res: ServerResponse, after: number): void {
  const messages: MailboxMessage[] = context.client.mailbox.pendingAfter(after);
  const last = messages.at(-1);
  if (last !== undefined) context.client.mailbox.markDelivered(last.id);
  context.metrics.counters.messagesOut += messages.length;
  const body: PollResponse = { messages };
  sendJson(res, 200, body);
}
