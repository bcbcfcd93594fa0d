import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { microCases } from '../bench/micro/cases.ts';
import { main, parseMicroArgs } from '../bench/micro/cli.ts';
import { measureCases } from '../bench/micro/measure.ts';
import { caseKey, type MicroCase } from '../bench/micro/micro-case.ts';
import type { CompletedMicroCase } from '../bench/micro/result.ts';
import { runMicroBenchmarks } from '../bench/micro/run.ts';
import { WsReceiver, WsSender, wsMasker } from '../bench/micro/ws-internals.ts';

describe('micro-benchmarks', () => {
  it('times every case at 16 B, each relative to the cheapest', async () => {
    const micro = await runMicroBenchmarks({ timeMs: 20, sizes: [16] });
    const failed = micro.cases.filter((result) => result.state === 'failed');
    assert.deepEqual(failed, []);
    const completed = micro.cases as CompletedMicroCase[];
    assert.equal(new Set(completed.map((result) => result.id)).size, completed.length, 'case ids are unique');
    for (const result of completed) {
      assert.ok(result.opsPerSecond > 0 && Number.isFinite(result.opsPerSecond), result.id);
      assert.ok(Math.abs(result.opsPerSecond * result.nsPerOp - 1e9) < 1, `${result.id}: ops/s and ns/op agree`);
      assert.ok(result.relativeToCheapest >= 1, `${result.id} is at least as dear as the cheapest`);
      assert.ok(result.samples > 0 && result.opsPerSample >= 1, result.id);
    }
    assert.equal(Math.min(...completed.map((result) => result.relativeToCheapest)), 1);
    for (const id of [
      'http/request/16B',
      'http/response/16B',
      'sse/encode/16B',
      'sse/parse/16B',
      'handshake/accept/24B',
      'websocket/encode/16B/unmasked-deflate',
    ]) {
      assert.ok(
        completed.some((result) => result.id === id),
        id,
      );
    }
    // Masked frames with ws's JavaScript masking, and with the native masking this machine has, if any.
    assert.ok(completed.some((result) => result.id === 'websocket/decode/16B/masked-js'));
    if (wsMasker() !== 'js') assert.ok(completed.some((result) => result.id === `websocket/decode/16B/masked-${wsMasker()}`));
    // where ws stops masking in JavaScript, measured in the same run
    assert.equal(micro.wsMasking?.masker, wsMasker());
    assert.match(micro.wsMasking?.wsVersion ?? '', /^\d+\.\d+\.\d+/);
  });

  it('checks every case before timing it: each one decodes or parses back to the message', async () => {
    for (const microCase of microCases([1024], 'js')) {
      const op = await microCase.prepare();
      try {
        await op.check();
      } finally {
        op.close();
      }
    }
  });

  it('records a case whose check fails as failed, with its error', async () => {
    const broken: MicroCase = {
      ...caseKey('sse', 'encode', 16, 'broken'),
      masking: false,
      prepare: async () => ({
        run: () => {},
        async: false,
        check: async () => {
          throw new Error('the encoded event: got "x", expected "y"');
        },
        close: () => {},
      }),
    };
    assert.deepEqual(await measureCases([broken], 10), [
      { ...caseKey('sse', 'encode', 16, 'broken'), state: 'failed', error: 'the encoded event: got "x", expected "y"' },
    ]);
  });

  it("masks a client's frame and unmasks it back to the original bytes", () => {
    const message = Buffer.from('1 '.padEnd(1024, 'x'));
    const [header, payload] = WsSender.frame(Buffer.from(message), { fin: true, opcode: 1, mask: true, readOnly: false, rsv1: false });
    assert.ok(header !== undefined && payload !== undefined);
    assert.equal(header.length, 8, '2 bytes, a 16-bit length and a 4-byte mask');
    assert.notDeepEqual(payload, message, 'the payload on the wire is masked');
    const received: string[] = [];
    const receiver = new WsReceiver({ isServer: true });
    receiver.on('message', (data: Buffer) => received.push(data.toString()));
    receiver.write(Buffer.concat([header, payload]));
    assert.deepEqual(received, [message.toString()]);
  });

  it('reads its command line; an unknown option exits 2', async () => {
    assert.deepEqual(parseMicroArgs(['--time', '50', '--sizes', '16,1KiB', '--out', 'x']), { timeMs: 50, sizes: [16, 1024], out: 'x' });
    assert.equal(parseMicroArgs(['--help']), 'help');
    assert.throws(() => parseMicroArgs(['--frobnicate']), /Unknown option/);
    assert.throws(() => parseMicroArgs(['--time', '0']), /--time/);
    assert.throws(() => parseMicroArgs(['--sizes', '16,lots']), /--sizes/);
    assert.equal(await main(['--frobnicate']), 2);
  });
});
