/** The short table `npm run bench` prints when it is done: one line per run. */
import type { Results } from './result.ts';

function perMessage(bytes: number, messages: number): string {
  return messages === 0 ? '-' : (bytes / messages).toFixed(1);
}

export function summaryTable(results: Results): string {
  const header = ['run', 'msg/s', 'asked/s', 'p50 ms', 'p99 ms', 'B/msg up', 'B/msg down', 'conn/client', 'empty polls', 'lost', 'dup', 'reord', 'bound'];
  const rows = results.runs.map((run) => {
    if (run.state === 'failed') return [run.id, `FAILED: ${run.error}`];
    const messages = run.messages.received;
    return [
      run.id,
      run.throughput.messagesPerSecond.toFixed(0),
      run.throughput.offeredPerSecond === undefined ? '-' : run.throughput.offeredPerSecond.toFixed(0),
      run.latencyMs.p50.toFixed(3),
      run.latencyMs.p99.toFixed(3),
      perMessage(run.bytes.up.total, messages),
      perMessage(run.bytes.down.total, messages),
      run.connections.perClient.toFixed(2),
      run.polls.total === 0 ? '-' : `${((100 * run.polls.empty) / run.polls.total).toFixed(0)}%`,
      String(run.messages.lost),
      String(run.messages.duplicated),
      String(run.messages.reordered),
      run.bound?.side ?? '-',
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row.length === header.length ? (row[column] ?? '').length : 0))));
  const line = (cells: string[]): string =>
    cells.length === header.length
      ? cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')
      : cells.join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
