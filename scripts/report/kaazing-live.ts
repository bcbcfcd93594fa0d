/**
 * The Kaazing case measured live (the scale profile): clients polling, or receiving a WebSocket
 * message, at 1,000, 10,000 and 100,000 clients, with the bandwidth each run's bytes make, the
 * server's CPU and memory, and whether the machine sustained the rate. Where it did not sustain
 * one message a second per client, the ladder's lower rates say what it sustained, and the bytes
 * per message still give the bandwidth one a second would take (computed, never called measured).
 */
import type { CompletedRun, Results } from '../../bench/result.ts';
import { sustained } from '../../bench/capacity.ts';
import { BITS_PER_MEGABIT } from './figures.ts';
import { formatInteger, formatNumber, formatSignificant } from './format.ts';
import { bold, table } from './markdown.ts';
import { completedRuns } from './runs.ts';
import { DELIVERED_FORMULA, boundCell, deliveredShare, runLabel } from './run-bound.ts';

const MIB = 1024 * 1024;

/** The formulas of the table's computed columns. */
export const KAAZING_LIVE_FORMULAS = {
  bytesPerMessage: '(bytes up + down − set-up bytes) / messages received',
  overheadPerMessage: '(headers + framing, up + down, after set-up) / messages received',
  mbpsDelivered: 'bytes per message × messages a second delivered × 8 / 2^20',
  mbpsAtOne: 'bytes per message × clients × 1 a second × 8 / 2^20',
  memoryPerConnection: "(server's peak RSS − its RSS before the clients connected) / clients",
} as const;

function kaazingRuns(results: Results): CompletedRun[] {
  return completedRuns(results, { scenario: 'push', transports: ['short-poll', 'websocket'] })
    .filter((run) => run.config.group === 'kaazing')
    .sort((a, b) => a.transport.localeCompare(b.transport) || a.clients - b.clients || b.config.pushRatePerSecond - a.config.pushRatePerSecond);
}

function afterSetup(run: CompletedRun): { total: number; overhead: number } {
  const total = run.bytes.up.total + run.bytes.down.total - run.bytes.up.setup - run.bytes.down.setup;
  const overhead = run.bytes.up.headers + run.bytes.up.framing + run.bytes.down.headers + run.bytes.down.framing;
  return { total, overhead };
}

function mbps(bytesPerSecond: number): string {
  return formatSignificant((bytesPerSecond * 8) / BITS_PER_MEGABIT, 3);
}

function processesCell(run: CompletedRun): string {
  const driver = run.driver.shards?.length ?? 1;
  const server = run.server.workers?.length ?? 1;
  return `${driver} × ${server}`;
}

function sustainedCell(run: CompletedRun): string {
  const share = deliveredShare(run);
  const delivered = `${formatInteger(run.throughput.messagesPerSecond)} of ${formatInteger(run.throughput.offeredPerSecond ?? 0)}${share === undefined ? '' : ` (${formatNumber(share * 100, 1)}%)`}`;
  return sustained(run)
    ? `${delivered}: sustained`
    : bold(`${delivered}: NOT sustained${run.messages.lost > 0 ? `, ${formatInteger(run.messages.lost)} lost` : ''}`);
}

function memoryCells(run: CompletedRun): [string, string] {
  const peak = `${formatNumber(run.server.peakRssBytes / MIB, 0)}`;
  const before = run.server.rssBeforeClientsBytes;
  const perConnection = before === undefined ? '-' : formatInteger(Math.round((run.server.peakRssBytes - before) / run.clients));
  return [peak, perConnection];
}

/** The section, or undefined when the results hold no live Kaazing run beyond 1,000 clients (the default suite's own). */
export function kaazingLiveSection(results: Results): string | undefined {
  const runs = kaazingRuns(results);
  if (!runs.some((run) => run.clients > 1000)) return undefined;
  const rows = runs.map((run) => {
    const messages = run.messages.received;
    const { total, overhead } = afterSetup(run);
    const perMessage = messages === 0 ? undefined : total / messages;
    const overheadPerMessage = messages === 0 ? undefined : overhead / messages;
    const [peakMiB, perConnection] = memoryCells(run);
    return [
      runLabel(run),
      formatInteger(run.clients),
      formatNumber(run.config.pushRatePerSecond, run.config.pushRatePerSecond < 1 ? 1 : 0),
      processesCell(run),
      sustainedCell(run),
      perMessage === undefined ? '-' : formatNumber(perMessage, 1),
      overheadPerMessage === undefined ? '-' : formatNumber(overheadPerMessage, 1),
      perMessage === undefined ? '-' : mbps(perMessage * run.throughput.messagesPerSecond),
      perMessage === undefined ? '-' : mbps(perMessage * run.clients),
      overheadPerMessage === undefined ? '-' : mbps(overheadPerMessage * run.clients),
      run.server.window === undefined ? '-' : formatNumber(run.server.window.cpuCores, 2),
      peakMiB,
      perConnection,
      boundCell(run),
    ];
  });
  const unsustained = runs.filter((run) => !sustained(run));
  return [
    '### The Kaazing case measured live',
    'Each client is sent one message a second (short polling polls once a second and gets it; WebSocket has it pushed), ' +
      'as in the article, at 1,000, 10,000 and 100,000 clients. At 100,000 the rate is lowered step by step (a ladder) until ' +
      'the machine sustains it: delivered at least 90% of what it asked, lost nothing, and the driver was not the limit. ' +
      'A rate the machine did not sustain is marked NOT sustained: its bandwidth is what it delivered, not what was asked.',
    `Driver × server processes: the clients and the server were spread over processes when one process's open-file limit could not hold them (\`--driver-processes\`, \`--server-processes\`).`,
    table(
      [
        'run',
        'clients',
        'msg/s per client asked',
        'driver × server processes',
        `msg/s delivered of asked (measured; % computed: ${DELIVERED_FORMULA})`,
        `bytes per message (computed: ${KAAZING_LIVE_FORMULAS.bytesPerMessage})`,
        `of which headers + framing (computed: ${KAAZING_LIVE_FORMULAS.overheadPerMessage})`,
        `Mbit/s at the rate delivered (computed: ${KAAZING_LIVE_FORMULAS.mbpsDelivered})`,
        `Mbit/s at one a second per client (computed: ${KAAZING_LIVE_FORMULAS.mbpsAtOne})`,
        'of which headers + framing, Mbit/s (computed, as the article counts)',
        'server CPU over the window, cores (measured)',
        'server peak memory, MiB (measured)',
        `server memory per connection, B (computed: ${KAAZING_LIVE_FORMULAS.memoryPerConnection})`,
        'bound',
      ],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    unsustained.length === 0
      ? 'Every rate asked was sustained.'
      : `Not sustained: ${unsustained.map((run) => runLabel(run)).join(', ')}. Their bytes per message still hold (the messages that did arrive were framed the same way), and so does the bandwidth one message a second per client would take (computed from them); it was not measured at that rate.`,
  ].join('\n\n');
}
