/**
 * WebSocket frames through the `ws` package's own Sender and Receiver, as a ws server and
 * client run them:
 * - encode: one text message framed by a Sender and written to a socket that keeps nothing;
 *   unmasked as a server sends it, masked as a client does (a fresh random mask each frame);
 * - decode: one frame written into a Receiver until it emits the message (UTF-8 checked);
 *   masked as a server receives it, unmasked as a client does. Each op writes a fresh copy of
 *   the frame, as each socket read brings a new buffer (and the Receiver unmasks in place);
 * - with permessage-deflate: the server's side only (encode unmasked, decode masked), with ws's
 *   default settings (context takeover, so a message like the last one compresses well, as
 *   the driver's echo messages do). zlib runs on libuv's thread pool, so these ops are async
 *   and their time is the wall time until the message is out, not only CPU time.
 */
import { caseKey, expectEqual, testMessage, type MicroCase, type PreparedOp } from './micro-case.ts';
import { WsReceiver, WsSender, deflateExtensions, type Extensions, type FrameSink, type Masker, type Receiver } from './ws-internals.ts';

const TEXT_OPCODE = 0x01;

/** A socket that takes frames and drops them, or keeps them when asked (for the check). */
class DiscardingSink implements FrameSink {
  readonly destroyed = false;
  kept: Buffer[] | undefined;

  cork(): void {}
  uncork(): void {}

  write(chunk: Buffer | string, callback?: (error?: Error | null) => void): boolean {
    // A real socket encodes a string to UTF-8 as it writes it; so does this, to count it.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.kept?.push(bytes);
    callback?.();
    return true;
  }

  /** Everything written while `write` runs. */
  async capture(write: () => void | Promise<void>): Promise<Buffer> {
    this.kept = [];
    try {
      await write();
      return Buffer.concat(this.kept);
    } finally {
      this.kept = undefined;
    }
  }
}

/** A Receiver and the last message it emitted; an async op waits for the next message. */
class MessageTap {
  readonly receiver: Receiver;
  last: string | undefined;
  private error: Error | undefined;
  private waiter: (() => void) | undefined;

  constructor(isServer: boolean, extensions?: Extensions) {
    this.receiver = new WsReceiver(extensions === undefined ? { isServer } : { isServer, extensions });
    this.receiver.on('message', (data: Buffer) => {
      this.last = data.toString();
      this.waiter?.();
    });
    this.receiver.on('error', (error: Error) => {
      this.error = error;
      this.waiter?.();
    });
  }

  writeSync(frame: Buffer): void {
    this.receiver.write(Buffer.from(frame));
  }

  write(frame: Buffer): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = () => {
        this.waiter = undefined;
        resolve();
      };
      this.receiver.write(Buffer.from(frame));
    });
  }

  /** The message `write` produced; throws when it produced none or the Receiver failed. */
  async received(write: () => void | Promise<void>): Promise<string> {
    this.last = undefined;
    await write();
    if (this.error !== undefined) throw this.error;
    if (this.last === undefined) throw new Error('the Receiver emitted no message');
    return this.last;
  }
}

function textFrame(payload: Buffer, mask: boolean, compressed: boolean): Buffer {
  return Buffer.concat(WsSender.frame(payload, { fin: true, opcode: TEXT_OPCODE, mask, readOnly: false, rsv1: compressed }));
}

function deflate(extensions: Extensions, message: string): Promise<Buffer> {
  const extension = Object.values(extensions)[0];
  if (extension === undefined) throw new Error('no permessage-deflate extension');
  return new Promise((resolve, reject) =>
    extension.compress(Buffer.from(message), true, (error, result) => (error === null ? resolve(result) : reject(error))),
  );
}

function cleanup(...extensions: (Extensions | undefined)[]): () => void {
  return () => {
    for (const set of extensions) for (const extension of Object.values(set ?? {})) extension.cleanup();
  };
}

/** Frames `message` as a server (unmasked) or client (masked) would, checked by the other side's Receiver. */
async function prepareEncode(message: string, mask: boolean, withDeflate: boolean): Promise<PreparedOp> {
  const sink = new DiscardingSink();
  const extensions = withDeflate ? deflateExtensions(!mask) : undefined;
  const sender = new WsSender(sink, extensions);
  const options = { binary: false, fin: true, mask, compress: withDeflate };
  const run = withDeflate
    ? () => new Promise<void>((resolve, reject) => sender.send(message, options, (error) => (error ? reject(error) : resolve())))
    : () => sender.send(message, options);
  // The peer of the sender: a server's Receiver for masked frames, a client's for unmasked ones.
  const peerExtensions = withDeflate ? deflateExtensions(mask) : undefined;
  return {
    run,
    async: withDeflate,
    async check() {
      const frame = await sink.capture(run);
      const peer = new MessageTap(mask, peerExtensions);
      expectEqual(await peer.received(() => (withDeflate ? peer.write(frame) : peer.writeSync(frame))), message, 'the encoded frame decoded');
    },
    close: cleanup(extensions, peerExtensions),
  };
}

/** Parses a frame as a server (masked) or client (unmasked) would. */
async function prepareDecode(message: string, masked: boolean, withDeflate: boolean): Promise<PreparedOp> {
  const senderExtensions = withDeflate ? deflateExtensions(!masked) : undefined;
  const payload = senderExtensions === undefined ? Buffer.from(message) : await deflate(senderExtensions, message);
  const frame = textFrame(payload, masked, withDeflate);
  const extensions = withDeflate ? deflateExtensions(masked) : undefined;
  const tap = new MessageTap(masked, extensions);
  const run = withDeflate ? () => tap.write(frame) : () => tap.writeSync(frame);
  return {
    run,
    async: withDeflate,
    async check() {
      expectEqual(await tap.received(run), message, 'the decoded message');
    },
    close: cleanup(senderExtensions, extensions),
  };
}

export function websocketCases(sizeBytes: number, masker: Masker): MicroCase[] {
  const message = testMessage(sizeBytes);
  const cases: { operation: 'encode' | 'decode'; masked: boolean; deflate: boolean }[] = [
    { operation: 'encode', masked: false, deflate: false },
    { operation: 'encode', masked: true, deflate: false },
    { operation: 'encode', masked: false, deflate: true },
    { operation: 'decode', masked: true, deflate: false },
    { operation: 'decode', masked: false, deflate: false },
    { operation: 'decode', masked: true, deflate: true },
  ];
  return cases.map(({ operation, masked, deflate: withDeflate }) => {
    const variant = [masked ? 'masked' : 'unmasked', ...(withDeflate ? ['deflate'] : []), ...(masked ? [masker] : [])].join(', ');
    return {
      ...caseKey('websocket', operation, sizeBytes, variant),
      masking: masked,
      prepare: () => (operation === 'encode' ? prepareEncode(message, masked, withDeflate) : prepareDecode(message, masked, withDeflate)),
    };
  });
}
