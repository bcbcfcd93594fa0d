/**
 * The micro-benchmark section: what one message costs in each transport's own code (tinybench,
 * `npm run bench:micro`), and that cost set beside the server CPU per message the end-to-end
 * echo runs measured.
 */
import type { CompletedRun, Results, RunResult } from '../../bench/result.ts';
import type { CompletedMicroCase, MicroCaseResult, MicroResults, WsMaskingThresholds } from '../../bench/micro/result.ts';
import { sizeLabel } from '../../bench/scenarios.ts';
import { TRANSPORTS } from '../../servers/contract.ts';
import { caseKey } from '../../bench/micro/micro-case.ts';
import { FORMULAS, serverCpuMicrosPerMessage } from './figures.ts';
import { formatInteger, formatNumber, formatSignificant } from './format.ts';
import { bold, bullets, code, table } from './markdown.ts';
import { sortRuns } from './runs.ts';
import { markDriverBound, runLabel } from './run-bound.ts';

/** What one operation of each kind is. */
const OPERATION_TEXT: Record<string, string> = {
  'http/request':
    "POST /messages with the message as body, written into an in-memory socket of Node's http.Server: the request parsed (llhttp), the body read, `202 Accepted` serialized",
  'http/response':
    'GET /messages on the same kind of socket: the request parsed, `200 OK` with a poll answer carrying the message serialized (its JSON made beforehand)',
  'sse/encode': 'one event encoded as the sse server writes it (`encodeSseEvent`)',
  'sse/parse': "one event parsed from one chunk of bytes by the driver's `SseParser`",
  'websocket/encode':
    "one text frame made by ws's Sender and written to a socket that drops it: unmasked as a server sends, masked as a client sends; with permessage-deflate, compressed first",
  'websocket/decode':
    "one frame written into ws's Receiver until it emits the message: masked as a server receives, unmasked as a client does; with permessage-deflate, inflated too",
  'handshake/accept': 'the `Sec-WebSocket-Accept` value computed from a `Sec-WebSocket-Key` (SHA-1 and base64), once per WebSocket connection',
};

const NOTES = [
  'The HTTP and permessage-deflate operations are asynchronous: their time is wall time until the response or frame is out, which for deflate includes waiting on zlib in the thread pool.',
  'The HTTP cases run over an in-memory socket: Node feeds its parser from stream events there, where a real socket reads into it directly, and no system call is made.',
];

/** "16B", "16B and 1KiB". */
function sizeList(sizes: number[]): string {
  const labels = sizes.map(sizeLabel);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}`;
}

/** The sizes below `fromBytes` (all those probed when the native code was never called): where the masker makes no difference. */
function jsOnly(sizes: number[], fromBytes: number | undefined, probedUpToBytes: number): number[] {
  return sizes.filter((size) => (fromBytes === undefined ? size <= probedUpToBytes : size < fromBytes));
}

const MASKER_TEXT = { node: "Node's own masking (http.websocketMask)", bufferutil: 'bufferutil' } as const;

/** Where ws masks in JavaScript whatever masker is loaded, as the run measured it (bench/micro/ws-masking.ts). */
export function maskingNote(masking: WsMaskingThresholds | undefined, sizes: number[]): string {
  if (masking === undefined) {
    return 'The payload lengths under which ws masks and unmasks in JavaScript even with a native masker loaded were not recorded in this run.';
  }
  const { wsVersion, masker, nativeMaskFromBytes, nativeUnmaskFromBytes, probedUpToBytes } = masking;
  if (masker === 'js') return `ws ${wsVersion} had no native masker to load in this run: every masked case runs its JavaScript loop.`;
  const under = (fromBytes: number | undefined): string =>
    fromBytes === undefined ? `every payload up to ${formatInteger(probedUpToBytes)} bytes` : `payloads under ${formatInteger(fromBytes)} bytes`;
  const encodes = jsOnly(sizes, nativeMaskFromBytes, probedUpToBytes);
  const decodes = jsOnly(sizes, nativeUnmaskFromBytes, probedUpToBytes);
  const same =
    encodes.length === decodes.length && encodes.every((size, index) => size === decodes[index])
      ? encodes.length === 0
        ? []
        : [`masked encodes and decodes at ${sizeList(encodes)}`]
      : [
          ...(encodes.length === 0 ? [] : [`masked encodes at ${sizeList(encodes)}`]),
          ...(decodes.length === 0 ? [] : [`masked decodes at ${sizeList(decodes)}`]),
        ];
  return (
    `ws ${wsVersion} with ${MASKER_TEXT[masker]} masks ${under(nativeMaskFromBytes)} and unmasks ${under(nativeUnmaskFromBytes)} in JavaScript ` +
    `(measured: the shortest payload, of 1 to ${formatInteger(probedUpToBytes)} bytes, for which ws called the native code)` +
    (same.length === 0 ? '.' : `, so ${same.join(' and ')} without permessage-deflate run the same code whatever the masker.`)
  );
}

/** Where the estimate of a server's CPU per echo message comes from, per transport. */
interface Estimate {
  /** Case ids summed. */
  ids: string[];
  /** What the sum stands for. */
  text: string;
}

/** The masking code a server's ws uses: Node's own where it has it, else bufferutil (a dependency), else JavaScript. */
const SERVER_MASKERS = ['node', 'bufferutil', 'js'] as const;

function completedCase(micro: MicroResults, id: string): CompletedMicroCase | undefined {
  const found = micro.cases.find((result) => result.id === id);
  return found?.state === 'completed' ? found : undefined;
}

/** The cases one echo message runs through on the server: it reads the message and writes the reply. */
function estimateFor(micro: MicroResults, run: CompletedRun): Estimate | undefined {
  const size = run.payloadBytes;
  const caseId = (...key: Parameters<typeof caseKey>): string => caseKey(...key).id;
  const request = caseId('http', 'request', size);
  switch (run.transport) {
    case 'short-poll':
    case 'long-poll':
      return { ids: [request, caseId('http', 'response', size)], text: 'POST parsed and answered + poll answered with the reply' };
    case 'sse':
      return { ids: [request, caseId('sse', 'encode', size)], text: 'POST parsed and answered + event encoded' };
    case 'websocket': {
      const deflate = run.config.perMessageDeflate ? ', deflate' : '';
      const decode = SERVER_MASKERS.map((masker) => caseId('websocket', 'decode', size, `masked${deflate}, ${masker}`)).find(
        (id) => completedCase(micro, id) !== undefined,
      );
      return {
        ids: [decode ?? caseId('websocket', 'decode', size, `masked${deflate}, bufferutil`), caseId('websocket', 'encode', size, `unmasked${deflate}`)],
        text: 'masked frame decoded + unmasked frame encoded',
      };
    }
    case 'tcp':
      return undefined;
  }
}

function caseRow(result: MicroCaseResult): string[] {
  const key = [result.transport, result.operation, sizeLabel(result.sizeBytes), result.variant === '' ? '-' : result.variant];
  if (result.state === 'failed') return [...key, bold('FAILED'), result.error];
  return [
    ...key,
    formatInteger(result.opsPerSecond),
    formatSignificant(result.nsPerOp, 3),
    `${formatNumber(result.relativeToCheapest, 1)}×`,
    `±${formatNumber(result.rmePercent, 1)}%`,
    formatInteger(result.samples * result.opsPerSample),
  ];
}

function casesTable(micro: MicroResults): string {
  return table(
    ['transport', 'operation', 'size', 'variant', 'ops/s', 'ns/op', 'relative to the cheapest', '± (95%)', 'operations timed'],
    micro.cases.map(caseRow),
    ['left', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
}

interface Comparison {
  run: CompletedRun;
  estimate: Estimate | undefined;
  /** Sum of the estimate's ns/op, in microseconds; undefined when a case is missing or failed. */
  microMicros: number | undefined;
  endToEndMicros: number;
}

function comparisons(micro: MicroResults, runs: RunResult[]): Comparison[] {
  const echoRuns = runs.filter((run): run is CompletedRun => run.state === 'completed' && run.scenario === 'echo' && micro.sizes.includes(run.payloadBytes));
  return sortRuns(echoRuns).flatMap((run) => {
    const endToEndMicros = serverCpuMicrosPerMessage(run);
    if (endToEndMicros === undefined || run.server.cpuSeconds === 0) return [];
    const estimate = estimateFor(micro, run);
    const cases = estimate?.ids.map((id) => completedCase(micro, id));
    const microMicros =
      cases === undefined || cases.some((found) => found === undefined) ? undefined : cases.reduce((sum, found) => sum + (found?.nsPerOp ?? 0), 0) / 1000;
    return [{ run, estimate, microMicros, endToEndMicros }];
  });
}

function comparisonRow({ run, estimate, microMicros, endToEndMicros }: Comparison): string[] {
  const micro =
    estimate === undefined ? 'not measured' : microMicros === undefined ? 'a case failed' : `${formatSignificant(microMicros, 3)} (${estimate.text})`;
  const ratio = microMicros === undefined ? '-' : `${formatNumber(endToEndMicros / microMicros, 1)}×`;
  const cases = estimate === undefined ? 'none: raw TCP framing is a length prefix' : estimate.ids.map(code).join(' + ');
  return [runLabel(run), micro, markDriverBound(run, formatSignificant(endToEndMicros, 3)), ratio, cases];
}

/** "2.5×", or "2.5× to 4.0×". */
function ratioRange(ratios: number[]): string {
  const low = formatNumber(Math.min(...ratios), 1);
  const high = formatNumber(Math.max(...ratios), 1);
  return low === high ? `${low}×` : `${low}× to ${high}×`;
}

/** "25%", or "all" when the micro-benchmark counted as much as the server spent, or more. */
function shareOfServer(ratio: number): string {
  return ratio <= 1 ? 'all' : `${formatNumber(100 / ratio, 0)}%`;
}

function agreement(rows: Comparison[]): string {
  const ratios = rows.flatMap((row) => (row.microMicros === undefined ? [] : [{ transport: row.run.transport, ratio: row.endToEndMicros / row.microMicros }]));
  if (ratios.length === 0) return 'No echo run has a micro-benchmark estimate to compare with.';
  const values = ratios.map((entry) => entry.ratio);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const byTransport = TRANSPORTS.flatMap((transport) => {
    const own = ratios.filter((entry) => entry.transport === transport).map((entry) => entry.ratio);
    return own.length === 0 ? [] : [`${transport} ${ratioRange(own)}`];
  });
  const share = low === high ? shareOfServer(high) : `${shareOfServer(high)} to ${shareOfServer(low)}`;
  const sentences = [
    `End to end, a server spent ${ratioRange(values)} the CPU time the micro-benchmarks account for (${byTransport.join('; ')}): ` +
      `the protocol code measured here is ${share} of what a message cost the server.`,
    'The rest is what a running server does around that code: system calls to read and write each socket, turns of the event loop and its timers, ' +
      'routing, JSON, mailboxes and counters, and connection set-up (registration, the WebSocket handshake) spread over the messages; ' +
      'the polling transports also pay for every poll that comes back empty.',
  ];
  if (low < 1) {
    sentences.push(
      'A ratio under 1 means the micro-benchmark counted more than the server spent: its figures are wall time, which for asynchronous operations includes waiting.',
    );
  }
  return sentences.join(' ');
}

function besideEndToEnd(micro: MicroResults, runs: RunResult[]): string {
  const rows = comparisons(micro, runs);
  const heading = '### Beside the end-to-end figures';
  if (rows.length === 0) {
    return [
      heading,
      `No completed echo run at the micro-benchmarks' sizes (${micro.sizes.map(sizeLabel).join(', ')}) with server figures to compare with.`,
    ].join('\n\n');
  }
  return [
    heading,
    "For each completed echo run, the server CPU time per message the run measured, beside the micro-benchmarks' estimate of it: the cases " +
      'one echo message runs through on the server (it reads the message and writes the reply), summed.',
    table(
      [
        'run',
        "micro-benchmark estimate, µs per message (computed: sum of the cases' ns/op / 1000)",
        `end to end, µs per message (computed: ${FORMULAS.serverCpuPerMessage})`,
        'end to end / estimate (computed)',
        'cases summed',
      ],
      rows.map(comparisonRow),
      ['left', 'right', 'right', 'right', 'left'],
    ),
    agreement(rows),
  ].join('\n\n');
}

export function renderMicroSection(micro: MicroResults, runs: RunResult[]): string {
  const operations = Object.entries(OPERATION_TEXT).map(([key, text]) => `${code(key)}: ${text}`);
  return [
    '## Per-message CPU cost: micro-benchmarks',
    `What one message costs in each transport's own code, timed by tinybench (\`npm run bench:micro\`) for ${formatInteger(micro.timeMsPerCase)} ms per case ` +
      'after a warm-up, each case checked once first (the decoded message equals the one encoded). One operation is:',
    bullets(operations),
    `Figures are measured, except "relative to the cheapest" (computed: ns/op / the cheapest case's ns/op). ${[maskingNote(micro.wsMasking, micro.sizes), ...NOTES].join(' ')}`,
    casesTable(micro),
    besideEndToEnd(micro, runs),
  ].join('\n\n');
}

/** The section for a results file that carries micro-benchmark results (its `micro` field); undefined without them. */
export function microSectionOf(results: Results): string | undefined {
  const { micro } = results;
  return micro === undefined ? undefined : renderMicroSection(micro, results.runs);
}
