/** ws's masking thresholds, measured: where it stops masking in JavaScript with a native masker loaded. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { PROBE_LIMIT_BYTES, measureWsMasking } from '../bench/micro/ws-masking.ts';
import { wsMasker } from '../bench/micro/ws-internals.ts';

const require = createRequire(import.meta.url);
const wsRequire = createRequire(require.resolve('ws'));
const bufferUtilPath = wsRequire.resolve('./lib/buffer-util.js');

type Mask = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
type Unmask = (buffer: Buffer, mask: Buffer) => void;

describe("ws's masking thresholds", () => {
  it('are measured for the installed ws, with the masker of this process', () => {
    const masking = measureWsMasking();
    assert.equal(masking.wsVersion, (wsRequire('./package.json') as { version: string }).version);
    assert.equal(masking.masker, wsMasker());
    assert.equal(masking.probedUpToBytes, PROBE_LIMIT_BYTES);
    if (masking.masker === 'js') {
      assert.equal(masking.nativeMaskFromBytes, undefined);
      assert.equal(masking.nativeUnmaskFromBytes, undefined);
      return;
    }
    for (const from of [masking.nativeMaskFromBytes, masking.nativeUnmaskFromBytes]) {
      assert.ok(from !== undefined && Number.isInteger(from) && from > 1 && from <= PROBE_LIMIT_BYTES, String(from));
    }
  });

  it("are found where ws calls Node's own masking, and leave ws as it was", () => {
    // Node 20 has no http.websocketMask: a stand-in that ws (loaded afresh) takes for Node's own
    const holder = http as unknown as Record<string, unknown>;
    const had = { mask: holder.websocketMask, unmask: holder.websocketUnmask };
    const loaded: unknown = require.cache[bufferUtilPath];
    let nativeCalls = 0;
    const mask: Mask = (source, key, output, offset, length) => {
      nativeCalls++;
      for (let i = 0; i < length; i++) output[offset + i] = source[i]! ^ key[i & 3]!;
    };
    const unmask: Unmask = (buffer, key) => {
      nativeCalls++;
      for (let i = 0; i < buffer.length; i++) buffer[i]! ^= key[i & 3]!;
    };
    holder.websocketMask = mask;
    holder.websocketUnmask = unmask;
    try {
      const masking = measureWsMasking(256);
      assert.equal(masking.masker, 'node');
      assert.ok(nativeCalls > 0);
      for (const from of [masking.nativeMaskFromBytes, masking.nativeUnmaskFromBytes]) assert.ok(from !== undefined && from > 1 && from <= 256, String(from));
      assert.equal(holder.websocketMask, mask);
      assert.equal(holder.websocketUnmask, unmask);
      assert.equal(require.cache[bufferUtilPath], loaded);
    } finally {
      if (had.mask === undefined) delete holder.websocketMask;
      else holder.websocketMask = had.mask;
      if (had.unmask === undefined) delete holder.websocketUnmask;
      else holder.websocketUnmask = had.unmask;
    }
  });
});
