/**
 * The heads of the HTTP/1.1 messages one direction of a captured connection carried, in order,
 * byte for byte: to show and count exactly one request or one response head as a browser sent
 * or got it. (wire.ts classifies every byte; this only finds where each message starts.)
 */

export interface CapturedHead {
  startLine: string;
  /** Offset of the head's first byte. */
  offset: number;
  /** The head as sent, blank line included (latin1: HTTP heads are octets). */
  text: string;
  /** Its size in bytes, blank line included. */
  bytes: number;
  /** Offset of the first byte after the message's body. */
  end: number;
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

function contentLength(head: string): number | undefined {
  const match = /\r\ncontent-length:\s*(\d+)\s*\r\n/i.exec(head);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Every complete head in `bytes`, message after message. A body is skipped by its
 * Content-Length (none on a request means no body); the walk stops at a response body it
 * cannot delimit (a stream) and after a 101, where the connection stops speaking HTTP.
 */
export function capturedHeads(bytes: Buffer, side: 'request' | 'response'): CapturedHead[] {
  const heads: CapturedHead[] = [];
  let offset = 0;
  for (;;) {
    const headEnd = bytes.indexOf(HEAD_END, offset);
    if (headEnd === -1) return heads;
    const text = bytes.subarray(offset, headEnd + HEAD_END.length).toString('latin1');
    const startLine = text.slice(0, text.indexOf('\r\n'));
    const length = contentLength(text) ?? (side === 'request' ? 0 : undefined);
    const end = headEnd + HEAD_END.length + (length ?? 0);
    heads.push({ startLine, offset, text, bytes: text.length, end });
    if (length === undefined || (side === 'response' && startLine.split(' ')[1] === '101')) return heads;
    offset = end;
  }
}
