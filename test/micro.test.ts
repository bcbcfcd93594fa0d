import { describe, it } from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import { microCases } from '../bench/micro/cases.ts';
import { main, parseMicroArgs } from '../bench/micro/cli.ts';
import { MAX_ROUNDS, MIN_ROUNDS, caseFigures, measureCases, medianWithMargin, shuffled } from '../bench/micro/measure.ts';
import { caseKey, type MicroCase, type PreparedOp } from '../bench/micro/micro-case.ts';
import { MARGIN_TARGET_PERCENT, relativeToCheapest, type CompletedMicroCase, type MicroCaseResult } from '../bench/micro/result.ts';
import { runMicroBenchmarks } from '../bench/micro/run.ts';
import { WsReceiver, WsSender, wsMasker } from '../bench/micro/ws-internals.ts';
import { SseParser } from '../bench/clients/sse-parser.ts';

/** Prepares and checks each case; its outcome by id: 'ok', or the check's error. */
async function checkAll(cases: MicroCase[]): Promise<Record<string, string>> {
  const outcomes: Record<string, string> = {};
  for (const microCase of cases) {
    const op = await microCase.prepare();
    try {
      await op.check();
      outcomes[microCase.id] = 'ok';
    } catch (error) {
      outcomes[microCase.id] = error instanceof Error ? error.message : String(error);
    } finally {
      op.close();
    }
  }
  return outcomes;
}

/** Runs `body` with `target[key]` replaced by what `replace` makes of it; puts it back after. */
async function withPatched<T extends object, K extends keyof T, R>(target: T, key: K, replace: (original: T[K]) => T[K], body: () => Promise<R>): Promise<R> {
  const original = target[key];
  target[key] = replace(original);
  try {
    return await body();
  } finally {
    target[key] = original;
  }
}

/** Resolves after `ms` milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A case whose operation sleeps for `sleepMs(n)` milliseconds in the n-th round it is set up
 * for (0: the warm-up round); `log` hears its id each time it is set up.
 */
function sleepingCase(name: string, sleepMs: (round: number) => number, log: string[] = []): MicroCase {
  let rounds = 0;
  const key = caseKey('sse', 'encode', 16, name);
  return {
    ...key,
    masking: false,
    prepare: async (): Promise<PreparedOp> => {
      const ms = sleepMs(rounds++);
      log.push(key.id);
      return { run: () => (ms === 0 ? Promise.resolve() : sleep(ms)), async: true, check: async () => {}, close: () => {} };
    },
  };
}

function completedCase(id: string, nsPerOp: number, unstable: boolean): CompletedMicroCase {
  const key = caseKey('sse', 'encode', 16, id);
  return {
    ...key,
    state: 'completed',
    opsPerSecond: 1e9 / nsPerOp,
    nsPerOp,
    meanNsPerOp: nsPerOp,
    marginPercent: unstable ? 20 : 1,
    unstable,
    samples: 100,
    opsPerSample: 1,
    roundNsPerOp: [nsPerOp, nsPerOp, nsPerOp],
    timedMs: 10,
  };
}

describe('micro-benchmarks', () => {
  it('times every case at 16 B in rounds, each stable one relative to the cheapest stable one, and records the seed', async () => {
    const micro = await runMicroBenchmarks({ timeMs: 20, sizes: [16], seed: 7 });
    assert.equal(micro.orderSeed, 7);
    assert.equal(micro.marginTargetPercent, MARGIN_TARGET_PERCENT);
    const failed = micro.cases.filter((result) => result.state === 'failed');
    assert.deepEqual(failed, []);
    const completed = micro.cases as CompletedMicroCase[];
    assert.equal(new Set(completed.map((result) => result.id)).size, completed.length, 'case ids are unique');
    for (const result of completed) {
      assert.ok(result.opsPerSecond > 0 && Number.isFinite(result.opsPerSecond), result.id);
      assert.ok(Math.abs(result.opsPerSecond * result.nsPerOp - 1e9) < 1, `${result.id}: ops/s and ns/op agree`);
      assert.ok(result.roundNsPerOp.length >= MIN_ROUNDS && result.roundNsPerOp.length <= MAX_ROUNDS, `${result.id}: ${result.roundNsPerOp.length} rounds`);
      assert.equal(result.unstable, !(result.marginPercent < MARGIN_TARGET_PERCENT), result.id);
      assert.equal(result.relativeToCheapest === undefined, result.unstable, `${result.id}: a ratio if and only if stable`);
      assert.ok(result.relativeToCheapest === undefined || result.relativeToCheapest >= 1, `${result.id} is at least as dear as the cheapest`);
      assert.ok(result.samples > 0 && result.opsPerSample >= 1, result.id);
    }
    const ratios = completed.flatMap((result) => (result.relativeToCheapest === undefined ? [] : [result.relativeToCheapest]));
    if (ratios.length > 0) assert.equal(Math.min(...ratios), 1);
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
    // every case there is at one size, named here rather than taken from microCases
    const ids = microCases([1024], 'js').map((microCase) => microCase.id);
    assert.deepEqual(ids.sort(), [
      'handshake/accept/24B',
      'http/request/1KiB',
      'http/response/1KiB',
      'sse/encode/1KiB',
      'sse/parse/1KiB',
      'websocket/decode/1KiB/masked-deflate-js',
      'websocket/decode/1KiB/masked-js',
      'websocket/decode/1KiB/unmasked',
      'websocket/encode/1KiB/masked-js',
      'websocket/encode/1KiB/unmasked',
      'websocket/encode/1KiB/unmasked-deflate',
    ]);
    const outcomes = await checkAll(microCases([1024], 'js'));
    assert.deepEqual(outcomes, Object.fromEntries(ids.map((id) => [id, 'ok'])));
  });

  it('a check compares what the code made with the message: a corrupted decoder, parser or response fails it', async () => {
    const cases = microCases([1024], 'js');
    // ws's Receiver hands every message on with its first byte changed: each WebSocket case (encode ones are checked by decoding)
    const wsOutcomes = await withPatched(
      WsReceiver.prototype as { emit: (...args: unknown[]) => boolean },
      'emit',
      (emit) =>
        function (this: unknown, event: unknown, ...args: unknown[]) {
          if (event === 'message' && Buffer.isBuffer(args[0])) args[0] = Buffer.concat([Buffer.from('!'), args[0].subarray(1)]);
          return emit.call(this, event, ...args);
        },
      () => checkAll(cases.filter((microCase) => microCase.transport === 'websocket')),
    );
    assert.equal(Object.keys(wsOutcomes).length, 6);
    for (const [id, outcome] of Object.entries(wsOutcomes)) assert.match(outcome, /decoded.*: got "!/, id);
    // the SSE parser is fed the event with its first data byte changed
    const sseOutcomes = await withPatched(
      SseParser.prototype,
      'push',
      (push) =>
        function (this: SseParser, chunk: Buffer) {
          const copy = Buffer.from(chunk);
          copy[copy.indexOf('data: ') + 'data: '.length] = 0x21;
          push.call(this, copy);
        },
      () => checkAll(cases.filter((microCase) => microCase.id === 'sse/parse/1KiB')),
    );
    assert.match(sseOutcomes['sse/parse/1KiB'] ?? '', /^the parsed event: got "!/);
    // Node's server answers every request 500
    const httpOutcomes = await withPatched(
      http.ServerResponse.prototype,
      'writeHead',
      (writeHead) =>
        function (this: http.ServerResponse, _status: number, ...rest: unknown[]) {
          return (writeHead as (...args: unknown[]) => http.ServerResponse).call(this, 500, ...rest);
        },
      () => checkAll(cases.filter((microCase) => microCase.transport === 'http')),
    );
    assert.deepEqual(Object.keys(httpOutcomes).sort(), ['http/request/1KiB', 'http/response/1KiB']);
    for (const [id, outcome] of Object.entries(httpOutcomes)) assert.match(outcome, /^the status line: got "HTTP\/1\.1 500/, id);
  });

  it('times a case only once its check has passed, and never one whose check failed', async () => {
    const events: string[] = [];
    const spy = (name: string, passes: boolean): MicroCase => ({
      ...caseKey('sse', 'encode', 16, name),
      masking: false,
      prepare: async () => ({
        run: () => {
          events.push(`${name} run`);
        },
        async: false,
        check: async () => {
          events.push(`${name} check`);
          if (!passes) throw new Error(`${name} is broken`);
        },
        close: () => events.push(`${name} close`),
      }),
    });
    const measured = await measureCases([spy('good', true), spy('bad', false)], { timeMs: 5, seed: 1 });
    assert.deepEqual(
      measured.map((result) => result.state),
      ['completed', 'failed'],
    );
    // each round of the good case: set up and checked, then run (warmed up and timed), then closed
    const good = events.filter((event) => event.startsWith('good'));
    const rounds = good
      .join(',')
      .split('good close')
      .filter((round) => round !== '');
    assert.ok(rounds.length >= 2, `a warm-up round and timed rounds: ${rounds.length}`);
    for (const round of rounds) assert.match(round, /^,?good check(,good run)+,?$/, 'checked before it ran, in every round');
    assert.deepEqual(
      events.filter((event) => event.startsWith('bad')),
      ['bad check', 'bad close'],
      'the bad case was never run',
    );
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
    assert.deepEqual(await measureCases([broken], { timeMs: 10, seed: 1 }), [
      { ...caseKey('sse', 'encode', 16, 'broken'), state: 'failed', error: 'the encoded event: got "x", expected "y"' },
    ]);
  });

  it('runs the cases in an order shuffled by the seed and the round: a warm-up round, then the timed rounds', { timeout: 60_000 }, async () => {
    // Each round sleeps twice as long as the one before: no three rounds agree, so every case runs every round.
    const log: string[] = [];
    const names = ['a', 'b', 'c', 'd', 'e'];
    const cases = names.map((name) => sleepingCase(name, (round) => 2 ** round, log));
    const ids = cases.map((microCase) => microCase.id);
    await measureCases(cases, { timeMs: 10, seed: 42 }, () => {});
    const expected = Array.from({ length: MAX_ROUNDS + 1 }, (_, round) => shuffled(ids, 42 + round)).flat();
    assert.deepEqual(log, expected);
    assert.notDeepEqual(log.slice(0, ids.length), ids, 'the first round is not in the order given');
    assert.deepEqual(shuffled(ids, 42), shuffled(ids, 42), 'one seed, one order');
    assert.notDeepEqual(shuffled(ids, 42), shuffled(ids, 43));
    assert.deepEqual([...shuffled(ids, 9)].sort(), [...ids].sort(), 'every case, once');
  });

  it('marks a case whose rounds disagree unstable, after the most rounds, and leaves it out of the ratios', { timeout: 60_000 }, async () => {
    const [measured] = await measureCases([sleepingCase('drifting', (round) => 2 ** round)], { timeMs: 10, seed: 1 });
    assert.ok(measured?.state === 'completed');
    assert.equal(measured.unstable, true);
    assert.equal(measured.roundNsPerOp.length, MAX_ROUNDS, 'timed in every round it could be');
    assert.ok(measured.marginPercent >= MARGIN_TARGET_PERCENT, `margin ${measured.marginPercent}%`);
    const results = relativeToCheapest([completedCase('cheap-but-unstable', 10, true), completedCase('steady', 100, false), completedCase('dear', 250, false)]);
    const ratios = results.map((result: MicroCaseResult) => (result.state === 'completed' ? result.relativeToCheapest : undefined));
    assert.deepEqual(ratios, [undefined, 1, 2.5]);
  });

  it('times nothing of the warm-up round: a case slow only while warming up is timed at its later speed', { timeout: 60_000 }, async () => {
    // Set up once per round: 40 ms an operation in the warm-up round, then no wait at all (a resolved promise).
    const [measured] = await measureCases([sleepingCase('cold-start', (round) => (round === 0 ? 40 : 0))], { timeMs: 20, seed: 1 });
    assert.ok(measured?.state === 'completed');
    for (const nsPerOp of measured.roundNsPerOp) assert.ok(nsPerOp < 20e6, `a timed round at ${nsPerOp} ns/op counts the warm-up's 40 ms`);
  });

  it("takes a case's figures from the majority of its rounds that agree, and their spread as its margin", () => {
    assert.deepEqual(medianWithMargin([1, 2, 3]), { median: 2, marginPercent: Infinity }, 'too few samples for a margin');
    const steady = Array.from({ length: 1000 }, (_, index) => 100 + (index % 3)).sort((a, b) => a - b);
    assert.equal(medianWithMargin(steady).median, 101);
    assert.ok(medianWithMargin(steady).marginPercent < 1);
    // One round slowed down by other work is outvoted: 100, 102 and 101 agree within ±1%.
    const outvoted = caseFigures([100, 180, 102, 101], steady);
    assert.equal(outvoted.nsPerOp, 101);
    assert.ok(Math.abs(outvoted.marginPercent - 100 / 101) < 1e-9, String(outvoted.marginPercent));
    // Three rounds must all agree.
    assert.ok(caseFigures([100, 112, 101], steady).marginPercent > MARGIN_TARGET_PERCENT);
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
    assert.deepEqual(parseMicroArgs(['--seed', '12']), { timeMs: 1000, sizes: [16, 1024, 65536], seed: 12 });
    assert.throws(() => parseMicroArgs(['--seed', '-1']), /--seed/);
    assert.equal(parseMicroArgs(['--help']), 'help');
    assert.throws(() => parseMicroArgs(['--frobnicate']), /Unknown option/);
    assert.throws(() => parseMicroArgs(['--time', '0']), /--time/);
    assert.throws(() => parseMicroArgs(['--sizes', '16,lots']), /--sizes/);
    assert.equal(await main(['--frobnicate']), 2);
  });
});
