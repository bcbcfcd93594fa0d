/**
 * Where ws stops masking in JavaScript: with a native masker loaded (Node's http.websocketMask,
 * or bufferutil), ws still masks and unmasks short payloads with its own JavaScript loop, under
 * thresholds of its buffer-util.js that change between versions. Measured here rather than
 * assumed: a fresh copy of the installed ws's buffer-util is loaded with the native functions
 * wrapped to count their calls, then asked to mask and unmask payloads of 1, 2, 3, ... bytes; the
 * first length the native code is called for is the threshold.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { wsMasker, type Masker } from './ws-internals.ts';
import type { WsMaskingThresholds } from './result.ts';

const require = createRequire(import.meta.url);
/** Resolves as ws itself does: its buffer-util, and the bufferutil it would load. */
const wsRequire = createRequire(require.resolve('ws'));
const BUFFER_UTIL_PATH = wsRequire.resolve('./lib/buffer-util.js');

/** Payload lengths probed: from 1 byte up to this. */
export const PROBE_LIMIT_BYTES = 1024;

type MaskFunction = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
type UnmaskFunction = (buffer: Buffer, mask: Buffer) => void;

interface BufferUtil {
  mask: MaskFunction;
  unmask: UnmaskFunction;
}

/** The object ws reads its native masking functions from, and their names on it. */
function nativeFunctions(masker: Masker): { holder: Record<string, unknown>; mask: string; unmask: string } | undefined {
  if (masker === 'node') return { holder: http as unknown as Record<string, unknown>, mask: 'websocketMask', unmask: 'websocketUnmask' };
  if (masker === 'bufferutil') return { holder: wsRequire('bufferutil') as Record<string, unknown>, mask: 'mask', unmask: 'unmask' };
  return undefined;
}

/** The version of the ws this process loads. */
export function wsVersion(): string {
  return (JSON.parse(readFileSync(wsRequire.resolve('./package.json'), 'utf8')) as { version: string }).version;
}

/** The first length in 1..limit for which `call` reached the native code, or undefined. */
function firstNativeLength(call: (length: number) => void, calls: { count: number }, limit: number): number | undefined {
  for (let length = 1; length <= limit; length++) {
    calls.count = 0;
    call(length);
    if (calls.count > 0) return length;
  }
  return undefined;
}

/** ws's thresholds in this process, measured; none for a process in which ws masks in JavaScript only. */
export function measureWsMasking(limit = PROBE_LIMIT_BYTES): WsMaskingThresholds {
  const masker = wsMasker();
  const native = nativeFunctions(masker);
  const base = { wsVersion: wsVersion(), masker, probedUpToBytes: limit };
  if (native === undefined) return base;
  const { holder } = native;
  const originalMask = holder[native.mask] as MaskFunction;
  const originalUnmask = holder[native.unmask] as UnmaskFunction;
  const maskCalls = { count: 0 };
  const unmaskCalls = { count: 0 };
  const cached = require.cache[BUFFER_UTIL_PATH];
  holder[native.mask] = (...args: Parameters<MaskFunction>) => {
    maskCalls.count++;
    originalMask(...args);
  };
  holder[native.unmask] = (...args: Parameters<UnmaskFunction>) => {
    unmaskCalls.count++;
    originalUnmask(...args);
  };
  try {
    delete require.cache[BUFFER_UTIL_PATH];
    const fresh = wsRequire('./lib/buffer-util.js') as BufferUtil;
    const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    const maskFrom = firstNativeLength((length) => fresh.mask(Buffer.alloc(length, 0x61), key, Buffer.alloc(length), 0, length), maskCalls, limit);
    const unmaskFrom = firstNativeLength((length) => fresh.unmask(Buffer.alloc(length, 0x61), key), unmaskCalls, limit);
    return {
      ...base,
      ...(maskFrom === undefined ? {} : { nativeMaskFromBytes: maskFrom }),
      ...(unmaskFrom === undefined ? {} : { nativeUnmaskFromBytes: unmaskFrom }),
    };
  } finally {
    holder[native.mask] = originalMask;
    holder[native.unmask] = originalUnmask;
    if (cached === undefined) delete require.cache[BUFFER_UTIL_PATH];
    else require.cache[BUFFER_UTIL_PATH] = cached;
  }
}
