/**
 * RFC 6455 frames taken apart byte by byte for the report, and the same text as the obsolete
 * hixie-76 draft framed it (0x00, the UTF-8 text, 0xFF), which is what the textbook shows.
 */

const OPCODE_NAMES: Record<number, string> = {
  0x0: 'continuation',
  0x1: 'text',
  0x2: 'binary',
  0x8: 'close',
  0x9: 'ping',
  0xa: 'pong',
};

const LENGTH_16 = 126; // the 7-bit length saying "a 16-bit length follows"
const LENGTH_64 = 127; // the 7-bit length saying "a 64-bit length follows"
const MASK_KEY_BYTES = 4;

export interface FrameHeader {
  fin: boolean;
  rsv: [boolean, boolean, boolean];
  opcode: number;
  masked: boolean;
  /** The 7-bit length field as sent (126 and 127 announce an extended length). */
  length7: number;
  payloadBytes: number;
  /** Bytes of the extended length: 0, 2 or 8. */
  extendedLengthBytes: number;
  maskingKey: Buffer | undefined;
  /** All of it: 2 bytes, the extended length and the masking key. */
  headerBytes: number;
}

export function opcodeName(opcode: number): string {
  return OPCODE_NAMES[opcode] ?? 'reserved';
}

/** The header of the frame at `offset`; undefined when `bytes` ends inside it. */
export function parseFrameHeader(bytes: Uint8Array, offset = 0): FrameHeader | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < offset + 2) return undefined;
  const first = view.readUInt8(offset);
  const second = view.readUInt8(offset + 1);
  const length7 = second & 0x7f;
  const masked = (second & 0x80) !== 0;
  const extendedLengthBytes = length7 === LENGTH_16 ? 2 : length7 === LENGTH_64 ? 8 : 0;
  const headerBytes = 2 + extendedLengthBytes + (masked ? MASK_KEY_BYTES : 0);
  if (view.length < offset + headerBytes) return undefined;
  let payloadBytes = length7;
  if (length7 === LENGTH_16) payloadBytes = view.readUInt16BE(offset + 2);
  if (length7 === LENGTH_64) payloadBytes = Number(view.readBigUInt64BE(offset + 2));
  const keyOffset = offset + 2 + extendedLengthBytes;
  return {
    fin: (first & 0x80) !== 0,
    rsv: [(first & 0x40) !== 0, (first & 0x20) !== 0, (first & 0x10) !== 0],
    opcode: first & 0x0f,
    masked,
    length7,
    payloadBytes,
    extendedLengthBytes,
    maskingKey: masked ? Buffer.from(view.subarray(keyOffset, keyOffset + MASK_KEY_BYTES)) : undefined,
    headerBytes,
  };
}

/** The first frame at or after `offset` that `accept` takes, walking frame by frame; undefined if the bytes end first. */
export function findFrame(bytes: Buffer, accept: (header: FrameHeader) => boolean, offset = 0): { offset: number; header: FrameHeader } | undefined {
  let at = offset;
  for (let header = parseFrameHeader(bytes, at); header !== undefined; header = parseFrameHeader(bytes, at)) {
    if (accept(header)) return { offset: at, header };
    at += header.headerBytes + header.payloadBytes;
  }
  return undefined;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

function bits(byte: number): string {
  const text = byte.toString(2).padStart(8, '0');
  return `${text.slice(0, 4)} ${text.slice(4)}`;
}

/** Text for a reader: printable ASCII kept, anything else as \xNN. */
function printable(bytes: Buffer): string {
  return [...bytes].map((byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
}

export interface FrameField {
  /** Offsets of the field's first and last byte within the frame. */
  from: number;
  to: number;
  hex: string;
  field: string;
  value: string;
}

/** The payload as sent and as meant (the client masks every byte with the key, cycling). */
function unmask(payload: Buffer, key: Buffer | undefined): Buffer {
  if (key === undefined) return payload;
  return Buffer.from(payload.map((byte, index) => byte ^ (key[index % MASK_KEY_BYTES] ?? 0)));
}

/**
 * The frame starting at `offset`, field by field, with at most `previewBytes` of its payload;
 * undefined when the header is not all there.
 */
export function annotateFrame(bytes: Uint8Array, offset = 0, previewBytes = 16): FrameField[] | undefined {
  const header = parseFrameHeader(bytes, offset);
  if (header === undefined) return undefined;
  const frame = Buffer.from(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  const first = frame.readUInt8(0);
  const second = frame.readUInt8(1);
  const fields: FrameField[] = [
    {
      from: 0,
      to: 0,
      hex: hex(frame.subarray(0, 1)),
      field: `${bits(first)}: FIN, RSV1-3, opcode`,
      value:
        `FIN=${header.fin ? 1 : 0} (${header.fin ? 'final fragment' : 'more fragments follow'}), ` +
        `RSV1=${Number(header.rsv[0])} RSV2=${Number(header.rsv[1])} RSV3=${Number(header.rsv[2])}, ` +
        `opcode ${header.opcode} (${opcodeName(header.opcode)})`,
    },
    {
      from: 1,
      to: 1,
      hex: hex(frame.subarray(1, 2)),
      field: `${bits(second)}: MASK, payload length`,
      value:
        `MASK=${header.masked ? 1 : 0} (${header.masked ? 'masked: client to server' : 'not masked: server to client'}), ` +
        (header.extendedLengthBytes === 0
          ? `payload length ${header.payloadBytes}`
          : `payload length ${header.length7}: a ${header.extendedLengthBytes * 8}-bit length follows`),
    },
  ];
  let at = 2;
  if (header.extendedLengthBytes > 0) {
    const to = at + header.extendedLengthBytes - 1;
    fields.push({
      from: at,
      to,
      hex: hex(frame.subarray(at, to + 1)),
      field: `extended payload length (${header.extendedLengthBytes * 8}-bit)`,
      value: `payload length ${header.payloadBytes}`,
    });
    at = to + 1;
  }
  if (header.maskingKey !== undefined) {
    fields.push({ from: at, to: at + MASK_KEY_BYTES - 1, hex: hex(header.maskingKey), field: 'masking key', value: `masking key ${hex(header.maskingKey)}` });
    at += MASK_KEY_BYTES;
  }
  const shown = frame.subarray(at, at + Math.min(header.payloadBytes, previewBytes));
  if (shown.length > 0) {
    const more = header.payloadBytes > shown.length ? ` (first ${shown.length} of ${header.payloadBytes} bytes)` : '';
    fields.push({
      from: at,
      to: at + shown.length - 1,
      hex: hex(shown),
      field: `payload${header.masked ? ', masked' : ''}${more}`,
      value: `${header.masked ? 'unmasked: ' : ''}"${printable(unmask(shown, header.maskingKey))}"`,
    });
  }
  return fields;
}

/** The frame's payload start as meant (unmasked), at most `previewBytes`. */
export function framePayloadPreview(bytes: Buffer, offset: number, header: FrameHeader, previewBytes: number): Buffer {
  const start = offset + header.headerBytes;
  return unmask(bytes.subarray(start, start + Math.min(header.payloadBytes, previewBytes)), header.maskingKey);
}

/** hixie-76 (draft-hixie-thewebsocketprotocol-76): a text frame is 0x00, the UTF-8 text, 0xFF. */
export const HIXIE_FRAMING_BYTES = 2;

/** The hixie-76 frame of a payload, shown as hex with the payload cut at `previewBytes`. */
export function hixieFrameHex(payloadStart: Buffer, payloadBytes: number): string {
  const cut = payloadBytes > payloadStart.length ? ' …' : '';
  return `00 ${hex(payloadStart)}${cut} ff`;
}
