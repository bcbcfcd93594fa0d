/**
 * The header blocks of one captured TLS connection that carried HTTP/2, in order, each with its
 * stream, its size and its fields: to tell which of the heads the accountant counted (wire.ts,
 * which lists only their sizes) were the browser's polls, and what was in them.
 *
 * The connection is read as the accountant reads it: its TLS records opened with the secrets
 * the browser logged for it (wire/tls.ts, which only needs the key log lines of this
 * connection's client random), the HTTP/2 frames of the plaintext walked, and each header block
 * (HEADERS and its CONTINUATIONs) decoded with HPACK (wire/hpack.ts), one dynamic table per
 * direction. A block's bytes are its fragments, without padding or priority fields: what the
 * accountant counts as the head.
 */
import { TlsRecordLayer, TLS_CONTENT, TLS_HANDSHAKE, type TlsCounter } from '../wire/tls.ts';
import { HTTP2_FLAG, HTTP2_FRAME, HTTP2_FRAME_HEADER_BYTES, HTTP2_PREFACE } from '../wire/http2.ts';
import { HpackDecoder, type HeaderField } from '../wire/hpack.ts';

type Direction = 'up' | 'down';

/** One header block as it crossed the wire. */
export interface Http2Head {
  direction: Direction;
  stream: number;
  /** Its bytes on the wire: the fragments of its HEADERS and CONTINUATION frames (frame headers, padding and priority fields left out). */
  bytes: number;
  fields: HeaderField[];
}

export interface Http2Heads {
  /** The version the ServerHello chose: "1.2" or "1.3". */
  tlsVersion: '1.2' | '1.3';
  /** The blocks each way, in the order they were sent. */
  up: Http2Head[];
  down: Http2Head[];
}

const RECORD_HEADER_BYTES = 5;
const HANDSHAKE_HEADER_BYTES = 4;
const CLIENT_VERSION_BYTES = 2;
const RANDOM_BYTES = 32;
const PRIORITY_FIELD_BYTES = 5;
const STREAM_ID_MASK = 0x7fff_ffff;

/**
 * The client random of a TLS connection, hex, from its first record (the ClientHello): what its
 * lines in the key log (NSS format: `LABEL <client random> <secret>`) are keyed by. Undefined
 * when the bytes do not start with a ClientHello.
 */
export function clientRandom(up: Buffer): string | undefined {
  const at = RECORD_HEADER_BYTES + HANDSHAKE_HEADER_BYTES + CLIENT_VERSION_BYTES;
  if (up.length < at + RANDOM_BYTES || up[0] !== TLS_CONTENT.handshake || up[RECORD_HEADER_BYTES] !== TLS_HANDSHAKE.clientHello) return undefined;
  return up.subarray(at, at + RANDOM_BYTES).toString('hex');
}

/**
 * The lines of a key log (every connection's secrets) that belong to the connection of this client
 * random, the client's secrets first (each side's in their order). Given to an accountant after
 * the connection has ended, with every record waiting for its keys, they open the client's records
 * before the server's: its requests are read before the responses to them, as they came (a
 * response read first would not know what its stream was for). TLS 1.2's one line opens both.
 */
export function keyLogLines(keyLog: string, random: string): string[] {
  const lines = keyLog.split('\n').filter((line) => line.trim().split(/\s+/)[1]?.toLowerCase() === random);
  const server = (line: string): number => (line.trimStart().startsWith('SERVER_') ? 1 : 0);
  return lines.sort((a, b) => server(a) - server(b));
}

/** Counts nothing: only the plaintext the record layer opens is wanted here (the accountant does the counting). */
const UNCOUNTED: TlsCounter = { add() {}, move() {}, remove() {} };

/** The HTTP/2 frames of one direction's plaintext, whole (the connection is over), with the header blocks decoded. */
function headerBlocks(direction: Direction, plaintext: Buffer): Http2Head[] {
  let offset = direction === 'up' ? HTTP2_PREFACE.length : 0;
  if (direction === 'up' && !plaintext.subarray(0, offset).equals(HTTP2_PREFACE)) {
    throw new Error('the connection does not start with the HTTP/2 preface: it is not HTTP/2');
  }
  const decoder = new HpackDecoder();
  const heads: Http2Head[] = [];
  let block: { stream: number; parts: Buffer[] } | undefined;
  // a frame cut short by the connection's end is left out: its block never completed
  while (offset + HTTP2_FRAME_HEADER_BYTES <= plaintext.length) {
    const length = plaintext.readUIntBE(offset, 3);
    const type = plaintext[offset + 3]!;
    const flags = plaintext[offset + 4]!;
    const stream = plaintext.readUInt32BE(offset + 5) & STREAM_ID_MASK;
    const start = offset + HTTP2_FRAME_HEADER_BYTES;
    const end = start + length;
    if (end > plaintext.length) break;
    if (type === HTTP2_FRAME.headers || type === HTTP2_FRAME.continuation) {
      let from = start;
      let to = end;
      if (type === HTTP2_FRAME.headers) {
        if ((flags & HTTP2_FLAG.padded) !== 0) {
          to -= plaintext[from]!;
          from += 1;
        }
        if ((flags & HTTP2_FLAG.priority) !== 0) from += PRIORITY_FIELD_BYTES;
        block = { stream, parts: [] };
      }
      if (block === undefined) throw new Error(`a CONTINUATION frame going ${direction} with no HEADERS before it`);
      block.parts.push(plaintext.subarray(from, Math.max(from, to)));
      if ((flags & HTTP2_FLAG.endHeaders) !== 0) {
        const bytes = Buffer.concat(block.parts);
        heads.push({ direction, stream: block.stream, bytes: bytes.length, fields: decoder.decode(bytes) });
        block = undefined;
      }
    } else if (type === HTTP2_FRAME.pushPromise) {
      throw new Error('the server pushed a stream (PUSH_PROMISE): not read here');
    }
    offset = end;
  }
  return heads;
}

/**
 * The header blocks of a TLS connection carrying HTTP/2, from its bytes each way (whole, as the
 * relay kept them) and its key log lines.
 */
export function http2Heads(bytes: Record<Direction, Buffer>, keyLog: readonly string[]): Http2Heads {
  const plaintext: Record<Direction, Buffer[]> = { up: [], down: [] };
  const records = new TlsRecordLayer({ up: UNCOUNTED, down: UNCOUNTED }, (direction, content) => plaintext[direction].push(Buffer.from(content)));
  for (const line of keyLog) records.keylog(line);
  // The server's side first: its ServerHello tells the version, which TLS 1.2 must know before the
  // client's ChangeCipherSpec (the records after it are protected), as it did on the live connection.
  records.consume('down', bytes.down);
  records.consume('up', bytes.up);
  if (records.problem !== undefined) throw new Error(`the connection's TLS could not be read: ${records.problem}`);
  const version = records.negotiatedVersion;
  if (version === undefined) throw new Error('the connection has no ServerHello: its TLS handshake never completed');
  return {
    tlsVersion: version === 'TLSv1.3' ? '1.3' : '1.2',
    up: headerBlocks('up', Buffer.concat(plaintext.up)),
    down: headerBlocks('down', Buffer.concat(plaintext.down)),
  };
}

/** A field's value in a decoded block (the first, if repeated). */
export function fieldValue(fields: readonly HeaderField[], name: string): string | undefined {
  return fields.find(([fieldName]) => fieldName === name)?.[1];
}
