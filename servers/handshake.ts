/**
 * The WebSocket opening handshake's accept value, as RFC 6455 section 4.2.2 defines it and the
 * textbook teaches it: base64(sha1(Sec-WebSocket-Key + GUID)).
 */
import { createHash } from 'node:crypto';

export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The steps, for teaching: the key, the GUID appended, SHA-1 in hex, base64. */
export interface HandshakeSteps {
  key: string;
  concatenated: string;
  sha1Hex: string;
  accept: string;
}

export function handshakeSteps(key: string): HandshakeSteps {
  const concatenated = key + WEBSOCKET_GUID;
  const digest = createHash('sha1').update(concatenated, 'latin1').digest();
  return { key, concatenated, sha1Hex: digest.toString('hex'), accept: digest.toString('base64') };
}

export function computeAccept(key: string): string {
  return handshakeSteps(key).accept;
}
