/**
 * The `ws` package's own frame code, typed: its Sender (frames a message), Receiver (parses
 * frames back into messages) and PerMessageDeflate (the extension's zlib streams). ws exports
 * them as properties of its default export without types; this file declares the little the
 * micro-benchmarks use.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';

const require = createRequire(import.meta.url);

/** The part of a socket the Sender writes to. */
export interface FrameSink {
  readonly destroyed: boolean;
  cork(): void;
  uncork(): void;
  write(chunk: Buffer | string, callback?: (error?: Error | null) => void): boolean;
}

export interface SendOptions {
  binary: boolean;
  fin: boolean;
  mask: boolean;
  compress: boolean;
}

export interface Sender {
  send(data: string | Buffer, options: SendOptions, callback?: (error?: Error | null) => void): void;
}

export interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

export interface SenderClass {
  new (socket: FrameSink, extensions?: Extensions): Sender;
  /** The frame's header and (masked) payload, not yet written anywhere. */
  frame(data: Buffer, options: FrameOptions): Buffer[];
}

export interface ReceiverOptions {
  isServer: boolean;
  extensions?: Extensions;
}

/** A Writable: frames in, 'message' (data, isBinary) out. */
export type Receiver = Writable;

export type ReceiverClass = new (options: ReceiverOptions) => Receiver;

export interface PerMessageDeflate {
  accept(configurations: Record<string, unknown>[]): Record<string, unknown>;
  compress(data: Buffer | string, fin: boolean, callback: (error: Error | null, result: Buffer) => void): void;
  cleanup(): void;
}

export type PerMessageDeflateClass = new (options: { isServer: boolean }) => PerMessageDeflate;

export type Extensions = Record<string, PerMessageDeflate>;

interface WsModule {
  Sender: SenderClass;
  Receiver: ReceiverClass;
  PerMessageDeflate: PerMessageDeflateClass & { extensionName: string };
}

const ws = require('ws') as WsModule;

export const WsSender = ws.Sender;
export const WsReceiver = ws.Receiver;
export const WsPerMessageDeflate = ws.PerMessageDeflate;

/** The extensions object ws hands its Sender and Receiver once permessage-deflate is negotiated. */
export function deflateExtensions(isServer: boolean): Extensions {
  const extension = new WsPerMessageDeflate({ isServer });
  extension.accept([{}]);
  return { [WsPerMessageDeflate.extensionName]: extension };
}

/** How ws masks and unmasks payloads in this process. */
export type Masker = 'node' | 'bufferutil' | 'js';

/**
 * The masking code ws chooses when it is loaded in a process with this environment, by the rule in ws/lib/buffer-util.js: Node's
 * own http.websocketMask where Node has it, else bufferutil unless WS_NO_BUFFER_UTIL is set
 * (or bufferutil cannot be loaded), else ws's JavaScript loop. Even with a native masker, ws
 * masks and unmasks short payloads in JavaScript, where a call costs more than the loop: how short
 * depends on its version, and ws-masking.ts measures it.
 */
export function wsMasker(env: NodeJS.ProcessEnv = process.env): Masker {
  if (typeof (http as unknown as Record<string, unknown>).websocketMask === 'function') return 'node';
  if (env.WS_NO_BUFFER_UTIL) return 'js';
  try {
    require('bufferutil');
    return 'bufferutil';
  } catch {
    return 'js';
  }
}
