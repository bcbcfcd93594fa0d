/**
 * The WebSocket opening handshake's accept value (SHA-1 and base64 of the client's key and
 * the GUID), which the server computes once per connection.
 */
import { computeAccept } from '../../servers/handshake.ts';
import { caseKey, expectEqual, type MicroCase, type PreparedOp } from './micro-case.ts';

/** RFC 6455's example key and the accept value it gives (section 1.3). */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function prepareAccept(): Promise<PreparedOp> {
  let accept = '';
  const run = (): void => {
    accept = computeAccept(KEY);
  };
  return Promise.resolve({
    run,
    async: false,
    async check() {
      run();
      expectEqual(accept, ACCEPT, "the accept value of RFC 6455's example key");
    },
    close() {},
  });
}

export function handshakeCases(): MicroCase[] {
  return [{ ...caseKey('handshake', 'accept', Buffer.byteLength(KEY)), masking: false, prepare: prepareAccept }];
}
