/**
 * The TCP transport's framing: a 4-byte big-endian header, then the UTF-8 payload. The header's
 * low 31 bits give the payload length; its top bit marks a control frame (JSON: a
 * ControlRequest from the client, an error `{"code","error"}` from the server) instead of a
 * message. Used by the server and the driver's client alike.
 */
export const TCP_HEADER_BYTES = 4;
export const TCP_CONTROL_FLAG = 0x8000_0000;
const LENGTH_MASK = 0x7fff_ffff;

/** A frame of `payload`: text (written as UTF-8) or bytes (copied as they are). */
export function encodeTcpFrame(payload: string | Buffer, control = false): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const frame = Buffer.allocUnsafe(TCP_HEADER_BYTES + length);
  frame.writeUInt32BE((control ? TCP_CONTROL_FLAG : 0) + length, 0);
  if (typeof payload === 'string') frame.write(payload, TCP_HEADER_BYTES, 'utf8');
  else frame.set(payload, TCP_HEADER_BYTES);
  return frame;
}

export type TcpFrame =
  | { kind: 'message' | 'control'; payload: Buffer }
  /** A frame whose payload was over the decoder's limit: its bytes are skipped, not kept. */
  | { kind: 'too-large'; control: boolean; length: number };

const NOTHING = Buffer.alloc(0);

/** Splits a byte stream into frames; a frame over `maxPayloadBytes` is skipped and reported. */
export class TcpFrameDecoder {
  private buffered: Buffer = NOTHING;
  private skipping = 0;

  constructor(private readonly maxPayloadBytes: number) {}

  /** Whether a frame has begun and not ended: bytes of it are held, or an over-limit one is being skipped. */
  get hasPartialFrame(): boolean {
    return this.buffered.length > 0 || this.skipping > 0;
  }

  /** The frames `chunk` completes, in order. */
  push(chunk: Buffer): TcpFrame[] {
    const frames: TcpFrame[] = [];
    this.decode(
      chunk,
      (control, payload) => frames.push({ kind: control ? 'control' : 'message', payload }),
      (control, length) => frames.push({ kind: 'too-large', control, length }),
    );
    return frames;
  }

  /**
   * Hands each frame `chunk` completes to `onFrame` as it is read (a view into the chunk where it
   * came whole: no array and no frame object, for a reader of many small frames), and each
   * over-limit frame's size to `onTooLarge`.
   */
  decode(chunk: Buffer, onFrame: (control: boolean, payload: Buffer) => void, onTooLarge: (control: boolean, length: number) => void): void {
    let data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    if (this.skipping > 0) {
      const skipped = Math.min(this.skipping, data.length);
      this.skipping -= skipped;
      data = data.subarray(skipped);
    }
    let offset = 0;
    while (data.length - offset >= TCP_HEADER_BYTES) {
      const header = data.readUInt32BE(offset);
      const length = header & LENGTH_MASK;
      const control = header >= TCP_CONTROL_FLAG;
      if (length > this.maxPayloadBytes) {
        onTooLarge(control, length);
        const available = data.length - offset - TCP_HEADER_BYTES;
        const skipped = Math.min(length, available);
        offset += TCP_HEADER_BYTES + skipped;
        this.skipping = length - skipped;
        if (this.skipping > 0) break;
        continue;
      }
      if (data.length - offset - TCP_HEADER_BYTES < length) break;
      const start = offset + TCP_HEADER_BYTES;
      offset = start + length;
      onFrame(control, data.subarray(start, offset));
    }
    this.buffered = offset >= data.length ? NOTHING : Buffer.from(data.subarray(offset));
  }
}
