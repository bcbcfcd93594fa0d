/**
 * Draws the suite's progress on stderr from the engine's events: the current run, its phase and
 * elapsed time, and the suite's time left. A progress bar (cli-progress) on a terminal; plain
 * lines otherwise, so logs and CI stay readable.
 */
import cliProgress from 'cli-progress';
import type { EngineEvent } from './engine.ts';
import type { RunConfig } from './result.ts';

/** Seconds a run takes beyond its warm-up and window: server start, connecting, draining. */
const OVERHEAD_SECONDS = 1.5;

function expectedSeconds(config: RunConfig): number {
  return config.warmupSeconds + config.durationSeconds + OVERHEAD_SECONDS + config.clients / 2000;
}

function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

export class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly suiteStart = Date.now();
  private runStart = Date.now();
  private done_ = 0;
  private remainingSeconds: number;
  private currentId = '';
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: RunConfig[],
    private readonly stream: NodeJS.WriteStream,
  ) {
    this.remainingSeconds = runs.reduce((sum, run) => sum + expectedSeconds(run), 0);
    if (stream.isTTY === true) {
      this.bar = new cliProgress.SingleBar(
        { stream, format: '{bar} {value}/{total} runs | {id} {phase} {elapsed} | suite left ~{left}', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(runs.length, 0, { id: '', phase: '', elapsed: '0:00', left: clock(this.remainingSeconds) });
      this.ticker = setInterval(() => this.redraw(''), 500);
      this.ticker.unref();
    } else {
      stream.write(`bench: ${runs.length} runs, about ${clock(this.remainingSeconds)} (m:ss)\n`);
    }
  }

  private left(): string {
    return clock(this.remainingSeconds - (Date.now() - this.runStart) / 1000);
  }

  private redraw(phase: string): void {
    this.bar?.update(this.done_, {
      id: this.currentId,
      ...(phase === '' ? {} : { phase }),
      elapsed: clock((Date.now() - this.runStart) / 1000),
      left: this.left(),
    });
  }

  update(event: EngineEvent): void {
    switch (event.type) {
      case 'run-start':
        this.runStart = Date.now();
        this.currentId = event.id;
        if (this.bar === undefined) this.stream.write(`[${this.done_ + 1}/${this.runs.length}] ${event.id} (suite left ~${this.left()})\n`);
        this.redraw('starting');
        break;
      case 'phase':
        this.redraw(event.phase);
        break;
      case 'run-end': {
        this.done_ += 1;
        this.remainingSeconds -= expectedSeconds(event.result.config);
        const elapsed = clock((Date.now() - this.runStart) / 1000);
        if (event.result.state === 'failed') {
          this.log(`FAILED ${event.result.id} after ${elapsed}: ${event.result.error}`);
        } else {
          for (const warning of event.result.warnings) this.log(`WARNING ${event.result.id}: ${warning}`);
          if (this.bar === undefined) this.stream.write(`    done in ${elapsed}\n`);
        }
        this.redraw('done');
        break;
      }
    }
  }

  /** A run the suite decided not to do. */
  skip(config: RunConfig, reason: string): void {
    this.done_ += 1;
    this.remainingSeconds -= expectedSeconds(config);
    this.log(`skipped ${config.transport} ${config.clients} clients: ${reason}`);
    this.redraw('skipped');
  }

  private log(line: string): void {
    if (this.bar === undefined) this.stream.write(`    ${line}\n`);
    else {
      this.bar.stop();
      this.stream.write(`${line}\n`);
      this.bar.start(this.runs.length, this.done_, { id: this.currentId, phase: '', elapsed: '', left: this.left() });
    }
  }

  done(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.bar?.stop();
    this.stream.write(`bench: ${this.runs.length} runs in ${clock((Date.now() - this.suiteStart) / 1000)}\n`);
  }
}
