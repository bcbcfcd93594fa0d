/**
 * Faults: the runs of the faults profile, each with the fault it took halfway through its window,
 * and whether every message still arrived or, where one did not, the server counted it.
 */
import type { CompletedRun, Results } from '../../bench/result.ts';
import { formatInteger, formatNumber } from './format.ts';
import { bold, code, table } from './markdown.ts';
import { boundCell, markDriverBound, runLabel } from './run-bound.ts';

/** The server counters of messages it did not deliver, on purpose and counted. */
const COUNTED_DROPS = ['errors.dropped-slow-consumer', 'errors.mailbox-full'];

const FAULT_TEXT: Record<string, string> = {
  'client-kill': 'every client connection dropped',
  'network-cut': 'the link passes nothing',
  'slow-consumer': 'one client stops reading',
  'server-restart': 'the server killed and started again',
};

/** A server restart may lose, per client, what the push would have sent while it was down, and one message more either side of the gap. */
const GAP_SLACK_PER_CLIENT = 2;

/** Messages a push would have sent while the server was down (computed). */
function gapMessages(run: CompletedRun): number {
  return (run.clients * run.config.pushRatePerSecond * (run.fault?.durationMs ?? 0)) / 1000;
}

function countedDrops(run: CompletedRun): number {
  return COUNTED_DROPS.reduce((sum, counter) => sum + (run.server.counters[counter] ?? 0), 0);
}

/** Whether nothing was lost unnoticed: every message arrived, or the server counted each one that did not. */
export function faultOutcome(run: CompletedRun): string {
  const { duplicated, reordered } = run.messages;
  // a restart's gap was never sent: what the clients miss is the figure to check against it
  const lost = run.fault?.kind === 'server-restart' ? (run.messages.missing ?? run.messages.lost) : run.messages.lost;
  const drops = countedDrops(run);
  if (lost === 0 && duplicated === 0 && reordered === 0) return 'nothing lost';
  if (run.fault?.kind === 'server-restart' && duplicated === 0 && reordered === 0) {
    const gap = gapMessages(run);
    const text = `${formatInteger(lost)} missing, never sent while the server was down (computed: clients × rate × downtime = ${formatNumber(gap, 0)})`;
    return lost <= gap + GAP_SLACK_PER_CLIENT * run.clients ? text : bold(`${text}: more than the gap explains`);
  }
  if (lost === drops && duplicated === 0 && reordered === 0) return `${formatInteger(lost)} lost, every one counted by the server`;
  return bold(
    `${formatInteger(lost)} lost (${formatInteger(drops)} counted by the server), ${formatInteger(duplicated)} duplicated, ${formatInteger(reordered)} reordered`,
  );
}

export function faultsSection(results: Results): string | undefined {
  const runs = results.runs.filter((run): run is CompletedRun => run.state === 'completed' && run.fault !== undefined);
  const failed = results.runs.filter((run) => run.state === 'failed' && run.config.fault !== undefined);
  if (runs.length === 0 && failed.length === 0) return undefined;
  const rows = runs.map((run) => [
    runLabel(run),
    boundCell(run),
    `${FAULT_TEXT[run.fault!.kind] ?? run.fault!.kind}: at ${formatNumber(run.fault!.atMs / 1000, 2)} s${run.fault!.durationMs > 0 ? `, for ${formatInteger(Math.round(run.fault!.durationMs))} ms` : ''}`,
    formatNumber(run.connections.perClient, 2),
    markDriverBound(run, `${formatNumber(run.latencyMs.p50, 2)} / ${formatNumber(run.latencyMs.max, 1)}`),
    `${formatInteger(run.messages.received)} of ${formatInteger(run.messages.expected)}`,
    formatInteger(countedDrops(run)),
    formatInteger(Math.round(run.server.peakRssBytes / (1024 * 1024))),
    faultOutcome(run),
  ]);
  for (const run of failed) rows.push([code(run.id), '-', bold(`FAILED: ${run.state === 'failed' ? run.error : ''}`)]);
  return [
    '## Faults',
    'Each run takes one fault halfway through its window (measured: the moment, from the start of the window). A client whose ' +
      'connections are dropped must come back on its own and lose nothing (a poll retries and acknowledges only what it has, a ' +
      'stream resumes with Last-Event-ID); a cut link must only delay; a client that stops reading makes the server bound what it ' +
      "buffers: what it drops it counts, and the client's losses must equal that count; a server killed and started again loses what it " +
      'would have sent while it was down, and no more. Connections per client above 1 show the reconnections (attempts while the server is down count too).',
    table(
      [
        'run',
        'bound',
        'fault',
        'TCP connections per client',
        'latency p50 / max (ms)',
        'messages received',
        'dropped, counted by the server',
        'server peak RSS (MiB)',
        'outcome',
      ],
      rows,
      ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  ].join('\n\n');
}
