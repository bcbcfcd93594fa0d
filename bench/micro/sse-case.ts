/**
 * Server-Sent Events: one event encoded as the sse server writes it (encodeSseEvent), and one
 * event parsed as the driver's client reads it (SseParser, from one chunk of bytes, UTF-8
 * decoding included). Writing the encoded text to the response is not in the encode op.
 */
import { encodeSseEvent } from '../../servers/sse.ts';
import { SseParser } from '../clients/sse-parser.ts';
import { caseKey, expectEqual, testMessage, type MicroCase, type PreparedOp } from './micro-case.ts';

/** A mailbox id of the size a busy stream reaches. */
const EVENT_ID = 123_456;

function prepareEncode(message: string): Promise<PreparedOp> {
  let encoded = '';
  const run = (): void => {
    encoded = encodeSseEvent({ id: EVENT_ID, data: message });
  };
  return Promise.resolve({
    run,
    async: false,
    async check() {
      run();
      expectEqual(encoded, `id: ${EVENT_ID}\ndata: ${message}\n\n`, 'the encoded event');
    },
    close() {},
  });
}

function prepareParse(message: string): Promise<PreparedOp> {
  const bytes = Buffer.from(encodeSseEvent({ id: EVENT_ID, data: message }));
  let parsed = '';
  const parser = new SseParser((event) => {
    parsed = event.data;
  });
  const run = (): void => parser.push(bytes);
  return Promise.resolve({
    run,
    async: false,
    async check() {
      parsed = '';
      run();
      expectEqual(parsed, message, 'the parsed event');
      expectEqual(parser.lastEventId, String(EVENT_ID), 'the parsed event id');
    },
    close() {},
  });
}

export function sseCases(sizeBytes: number): MicroCase[] {
  const message = testMessage(sizeBytes);
  return [
    { ...caseKey('sse', 'encode', sizeBytes), masking: false, prepare: () => prepareEncode(message) },
    { ...caseKey('sse', 'parse', sizeBytes), masking: false, prepare: () => prepareParse(message) },
  ];
}
