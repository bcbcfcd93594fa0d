/**
 * The textbook's Go echo server (servers/go-echo/, golang.org/x/net/websocket) beside the
 * project's `ws` server: the bench drives it through --target with the configuration of a
 * WebSocket echo run, and records it in results.json as `peers.go` (not yet part of the
 * Results type, so typed and checked here) and as runs whose id is the ws run's id + "/target".
 */
import type { CompletedRun, Results } from '../../bench/result.ts';
import { bytesPerMessage, hasLatency } from './figures.ts';
import { formatInteger, formatNumber } from './format.ts';
import { code, table } from './markdown.ts';
import { boundCell, markDriverBound, runLabel } from './run-bound.ts';

interface GoPeerResults {
  /** Why the Go server was not run (no Go, no x/net package, a failed build). */
  skipped?: string;
  /** Its toolchain and x/net package, e.g. "go1.19.8, golang.org/x/net 1:0.7.0+dfsg-1". */
  version?: string;
  runIds: string[];
}

const TITLE = "## The textbook's Go echo server beside `ws`";
const TARGET_SUFFIX = '/target';
const LATENCY_DECIMALS = 3;

function goPeer(results: Results): GoPeerResults | undefined {
  const go = (results as Results & { peers?: { go?: unknown } }).peers?.go;
  if (typeof go !== 'object' || go === null) return undefined;
  const record = go as Record<string, unknown>;
  const runIds = Array.isArray(record.runIds) ? record.runIds.filter((id): id is string => typeof id === 'string') : [];
  return {
    runIds,
    ...(typeof record.skipped === 'string' ? { skipped: record.skipped } : {}),
    ...(typeof record.version === 'string' ? { version: record.version } : {}),
  };
}

function completedRun(results: Results, id: string): CompletedRun | undefined {
  const run = results.runs.find((candidate) => candidate.id === id);
  return run?.state === 'completed' ? run : undefined;
}

const ROWS: { label: string; cell: (run: CompletedRun) => string }[] = [
  { label: 'run', cell: runLabel },
  { label: 'bound (measured)', cell: boundCell },
  { label: 'messages/s (measured)', cell: (run) => markDriverBound(run, formatNumber(run.throughput.messagesPerSecond, 1)) },
  {
    label: 'latency p50 / p99 (ms, measured)',
    cell: (run) =>
      hasLatency(run)
        ? markDriverBound(run, `${formatNumber(run.latencyMs.p50, LATENCY_DECIMALS)} / ${formatNumber(run.latencyMs.p99, LATENCY_DECIMALS)}`)
        : '-',
  },
  {
    label: 'bytes per message up / down (computed: bytes / messages received)',
    cell: (run) => ['up', 'down'].map((direction) => formatNumber(bytesPerMessage(run, direction as 'up' | 'down')?.total ?? 0, 1)).join(' / '),
  },
  { label: 'setup bytes, whole run (measured: upgrade handshakes)', cell: (run) => formatInteger(run.bytes.up.setup + run.bytes.down.setup) },
  { label: 'lost / duplicated / reordered (measured)', cell: (run) => `${run.messages.lost} / ${run.messages.duplicated} / ${run.messages.reordered}` },
];

/** One table per Go run: its figures beside those of the ws run with the same configuration. */
function comparison(results: Results, goRunId: string): string {
  const go = results.runs.find((run) => run.id === goRunId);
  if (go === undefined) return `${code(goRunId)}: not in these results.`;
  if (go.state === 'failed') return `${code(goRunId)} FAILED: ${go.error}`;
  const ws = goRunId.endsWith(TARGET_SUFFIX) ? completedRun(results, goRunId.slice(0, -TARGET_SUFFIX.length)) : undefined;
  return table(
    ['', ws === undefined ? '`ws` (Node): no completed run with the same configuration' : '`ws` (Node)', 'Go, golang.org/x/net/websocket'],
    ROWS.map((row) => [row.label, ws === undefined ? '-' : row.cell(ws), row.cell(go)]),
    ['left', 'right', 'right'],
  );
}

export function renderGoComparison(results: Results): string {
  const peer = goPeer(results);
  if (peer === undefined) return [TITLE, 'Not measured in this run: the results carry no Go peer.'].join('\n\n');
  if (peer.skipped !== undefined) return [TITLE, `Not measured in this run: ${peer.skipped}.`].join('\n\n');
  return [
    TITLE,
    `The textbook's echo server, in Go on golang.org/x/net/websocket (${peer.version ?? 'version not recorded'}), answers every message ` +
      "with `Received:  ` and the message, as the project's servers do. The bench ran it with the configuration of the `ws` echo runs " +
      'and drove it through --target: it did not start it, so its CPU and memory are not measured. Bytes are counted at the same client sockets.',
    ...(peer.runIds.length === 0 ? ['No Go run in these results.'] : peer.runIds.map((id) => comparison(results, id))),
  ].join('\n\n');
}
