/** What npm run bench prints: the summary table at the end (bench/summary.ts) and the progress on stderr (bench/progress.ts). */
import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { EngineEvent } from '../bench/engine.ts';
import { Progress } from '../bench/progress.ts';
import type { CompletedRun, Results, RunConfig, RunResult } from '../bench/result.ts';
import { RUN_DEFAULTS } from '../bench/scenarios.ts';
import { summaryTable } from '../bench/summary.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;

/** A line of the table, cut into its cells (two spaces or more between cells). */
function cells(line: string): string[] {
  return line.trim().split(/ {2,}/);
}

describe('summary table', () => {
  it('has a row per run, each figure worked out from its run', () => {
    const broken = structuredClone(q3);
    const index = broken.runs.findIndex((run) => run.id === 'echo/sse/1KiB/c10');
    const { id, scenario, transport, config } = broken.runs[index]!;
    broken.runs[index] = { state: 'failed', id, scenario, transport, config, error: 'server did not start' };
    const lossy = broken.runs.find((run) => run.id === 'push/tcp/1KiB/c10/r10') as CompletedRun;
    lossy.messages = { ...lossy.messages, lost: 3, duplicated: 2, reordered: 1 };
    // as a newer run records them: what it asked (10 clients × 10 pushes a second) and which side bound it
    const push = broken.runs.find((run) => run.id === 'push/websocket/1KiB/c10/r10') as CompletedRun;
    push.throughput = { ...push.throughput, offeredPerSecond: 100 };
    push.bound = { side: 'server', reason: 'the server was busy' };

    const lines = summaryTable(broken).split('\n');
    assert.equal(lines.length, 1 + q3.runs.length);
    assert.deepEqual(cells(lines[0]!), [
      'run',
      'msg/s',
      'asked/s',
      'p50 ms',
      'p99 ms',
      'B/msg up',
      'B/msg down',
      'conn/client',
      'empty polls',
      'lost',
      'dup',
      'reord',
      'bound',
    ]);
    const row = (runId: string): string[] => cells(lines.find((line) => line.startsWith(`${runId} `)) ?? assert.fail(`no row for ${runId}`));
    // push/websocket: 150 messages received; 2,300 B up and 155,530 B down; no polls; asked 100/s, server-bound
    assert.deepEqual(row('push/websocket/1KiB/c10/r10'), [
      'push/websocket/1KiB/c10/r10',
      '100',
      '100',
      '0.115',
      '0.414',
      '15.3',
      '1036.9',
      '1.00',
      '-',
      '0',
      '0',
      '0',
      'server',
    ]);
    // echo/short-poll: 157 received; 211,415 B up, 217,145 down; 14 connections for 10 clients; 13 of 170 polls empty (7.6%)
    assert.deepEqual(row('echo/short-poll/1KiB/c10'), [
      'echo/short-poll/1KiB/c10',
      '100',
      '-',
      '99.903',
      '105.471',
      '1346.6',
      '1383.1',
      '1.40',
      '8%',
      '0',
      '0',
      '0',
      '-',
    ]);
    // idle: no message, so no bytes per message; (results older than asked/s and bound show '-')
    assert.deepEqual(row('idle/tcp/c10'), ['idle/tcp/c10', '0', '-', '0.000', '0.000', '-', '-', '1.00', '-', '0', '0', '0', '-']);
    assert.deepEqual(row('push/tcp/1KiB/c10/r10').slice(-4), ['3', '2', '1', '-']);
    assert.equal(
      lines.find((line) => line.startsWith('echo/sse/1KiB/c10 ')),
      'echo/sse/1KiB/c10  FAILED: server did not start',
    );
    // the columns line up: every full row as wide as the header, numbers right-aligned under it
    const full = lines.filter((line) => !line.includes('FAILED'));
    assert.ok(
      full.every((line) => line.length === lines[0]!.length),
      'rows as wide as the header',
    );
    const end = lines[0]!.indexOf('p50 ms') + 'p50 ms'.length;
    assert.ok(
      full.slice(1).every((line) => line[end - 1] !== ' ' && line[end] === ' '),
      'p50 right-aligned under its title',
    );
  });
});

describe('progress on stderr', () => {
  afterEach(() => mock.timers.reset());

  /** A stream that keeps what is written to it. */
  function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
    const sink = {
      text: '',
      isTTY,
      columns: 200,
      write(chunk: string): boolean {
        sink.text += chunk;
        return true;
      },
      cursorTo: () => true,
      clearLine: () => true,
      clearScreenDown: () => true,
      moveCursor: () => true,
      on: () => sink,
      removeListener: () => sink,
    };
    return sink as unknown as NodeJS.WriteStream & { text: string };
  }

  // three runs of 1 s warm-up, 2 s window and 1,000 clients: 1 + 2 + 1.5 (start, connect, drain) + 1000 / 2000 = 5 s each
  const runs: RunConfig[] = [1, 2, 3].map(() => ({
    ...RUN_DEFAULTS,
    scenario: 'push',
    transport: 'websocket',
    clients: 1000,
    warmupSeconds: 1,
    durationSeconds: 2,
  }));
  const completed = (config: RunConfig, warnings: string[]): RunResult => ({ ...(q3.runs[0] as CompletedRun), id: 'push/a', config, warnings });
  const failed = (config: RunConfig): RunResult => ({ state: 'failed', id: 'push/b', scenario: 'push', transport: 'websocket', config, error: 'boom' });

  /** The three runs: one done with a warning after 65 s, one failed after 3 s, one skipped. */
  function play(progress: Progress): void {
    const events: EngineEvent[] = [
      { type: 'run-start', id: 'push/a', config: runs[0]! },
      { type: 'phase', id: 'push/a', phase: 'measuring' },
    ];
    for (const event of events) progress.update(event);
    mock.timers.tick(65_000);
    progress.update({ type: 'run-end', result: completed(runs[0]!, ['the driver was saturated']) });
    progress.update({ type: 'run-start', id: 'push/b', config: runs[1]! });
    mock.timers.tick(3_000);
    progress.update({ type: 'run-end', result: failed(runs[1]!) });
    progress.skip(runs[2]!, 'websocket already went over 500 ms p99 at fewer clients');
    progress.done();
  }

  it('writes plain lines when stderr is no terminal: each run, its time, warnings, failures, skips and the time left', () => {
    mock.timers.enable({ apis: ['Date', 'setInterval'], now: 0 });
    const out = stream(false);
    play(new Progress(runs, out));
    assert.equal(
      out.text,
      [
        'bench: 3 runs, about 0:15 (m:ss)',
        '[1/3] push/a (suite left ~0:15)',
        '    WARNING push/a: the driver was saturated',
        '    done in 1:05',
        '[2/3] push/b (suite left ~0:10)',
        '    FAILED push/b after 0:03: boom',
        '    skipped websocket 1000 clients: websocket already went over 500 ms p99 at fewer clients',
        'bench: 3 runs in 1:08',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal, draws a bar and still puts warnings, failures and skips on lines of their own', () => {
    mock.timers.enable({ apis: ['Date', 'setInterval'], now: 0 });
    const out = stream(true);
    play(new Progress(runs, out));
    assert.doesNotMatch(out.text, /\[1\/3\]|done in/, 'no plain progress lines');
    assert.match(out.text, /\d+\/3 runs \| /, 'the bar counts runs');
    for (const line of [
      'WARNING push/a: the driver was saturated',
      'FAILED push/b after 0:03: boom',
      'skipped websocket 1000 clients: websocket already went over 500 ms p99 at fewer clients',
    ]) {
      assert.ok(out.text.includes(`${line}\n`), line);
    }
    assert.ok(out.text.endsWith('bench: 3 runs in 1:08\n'));
  });
});
