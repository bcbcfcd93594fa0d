/**
 * The micro-benchmark section: what one message costs in each transport's own code (tinybench,
 * `npm run bench:micro`), and that cost set beside the server CPU per message the end-to-end
 * echo runs measured. A case whose margin stayed at the target or over (unstable) is shown and
 * left out of every ratio and estimate.
 */
import type { CompletedRun, Results, RunResult } from '../../bench/result.ts';
import {
  relativeToCheapest,
  upgradeMicroResults,
  type CompletedMicroCase,
  type MicroCaseResult,
  type MicroResults,
  type MicroResultsV1,
  type WsMaskingThresholds,
} from '../../bench/micro/result.ts';
import { MAX_ROUNDS, MIN_ROUNDS } from '../../bench/micro/measure.ts';
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
  "A margin is that of one run's rounds: another run, in another process and order, can come out further apart where V8 compiles code the cases share " +
    "(ws's Sender and Receiver) differently, and in the permessage-deflate cases, which wait on zlib's threads, as the machine's other work delays them.",
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

function stable(result: MicroCaseResult | undefined): result is CompletedMicroCase {
  return result?.state === 'completed' && !result.unstable;
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
    result.relativeToCheapest === undefined ? bold('unstable') : `${formatNumber(result.relativeToCheapest, 1)}×`,
    `±${formatNumber(result.marginPercent, 1)}%`,
    formatInteger(result.samples * result.opsPerSample),
  ];
}

function casesTable(micro: MicroResults): string {
  return table(
    ['transport', 'operation', 'size', 'variant', 'ops/s', 'ns/op', 'relative to the cheapest (computed)', '±', 'operations timed'],
    micro.cases.map(caseRow),
    ['left', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
}

/** How the cases were timed, and what ns/op and ± are. */
function method(micro: MicroResults): string {
  const target = `${formatInteger(micro.marginTargetPercent)}%`;
  if (micro.schemaVersion === 1) {
    return (
      `What one message costs in each transport's own code, timed by tinybench (\`npm run bench:micro\`) for ${formatInteger(micro.timeMsPerCase)} ms per case ` +
      'after a short warm-up, in one round, the cases in table order, each checked once first (the decoded message equals the one encoded). ' +
      "These results are of the first format: ns/op is the mean, and ± tinybench's margin of error of the mean (95%); " +
      `a case whose margin is ${target} or more is marked unstable here. One operation is:`
    );
  }
  return (
    `What one message costs in each transport's own code, timed by tinybench (\`npm run bench:micro\`) in rounds, each case once per round, ` +
    `in an order shuffled anew each round (seed ${micro.orderSeed ?? 'not recorded'}). The first round only warms every case up; then each case is ` +
    `timed in ${MIN_ROUNDS} to ${MAX_ROUNDS} rounds, for at most ${formatInteger(micro.timeMsPerCase)} ms in all, each round setting it up, checking it ` +
    '(the decoded message equals the one encoded) and warming it up again, untimed, before timing it. ' +
    "ns/op is the median time of an operation, the median of the medians of the majority of the case's rounds that agree best; " +
    '± is the wider of half their spread and the 95% margin of the median of all its samples. ' +
    'A median, where a mean would count every moment the machine gave to other work; it also leaves out most garbage-collector pauses (micro.json keeps the mean). ' +
    `A case is stable once its margin is under ${target}; one still at ${target} or more after ${MAX_ROUNDS} rounds is marked ${bold('unstable')}. One operation is:`
  );
}

/** Which cases are unstable, and what follows. */
function stability(micro: MicroResults): string {
  const unstable = micro.cases.filter((result) => result.state === 'completed' && result.unstable);
  const completed = micro.cases.filter((result) => result.state === 'completed').length;
  if (unstable.length === 0) return `All ${formatInteger(completed)} completed cases are stable (margin under ${formatInteger(micro.marginTargetPercent)}%).`;
  return (
    `${formatInteger(unstable.length)} of ${formatInteger(completed)} completed cases are unstable (margin ${formatInteger(micro.marginTargetPercent)}% or more): ` +
    `${unstable.map((result) => code(result.id)).join(', ')}. Their figures are shown, and left out of "relative to the cheapest" and of the estimates below; ` +
    'a longer time per case (`--time`) or a quieter machine may steady them.'
  );
}

interface Comparison {
  run: CompletedRun;
  estimate: Estimate | undefined;
  /** Sum of the estimate's ns/op, in microseconds; undefined when a case is missing, failed or unstable. */
  microMicros: number | undefined;
  /** Why there is no sum, when there is an estimate and no sum. */
  missing?: string;
  endToEndMicros: number;
}

function comparisons(micro: MicroResults, runs: RunResult[]): Comparison[] {
  const echoRuns = runs.filter((run): run is CompletedRun => run.state === 'completed' && run.scenario === 'echo' && micro.sizes.includes(run.payloadBytes));
  return sortRuns(echoRuns).flatMap((run): Comparison[] => {
    const endToEndMicros = serverCpuMicrosPerMessage(run);
    if (endToEndMicros === undefined || run.server.cpuSeconds === 0) return [];
    const estimate = estimateFor(micro, run);
    const cases = estimate?.ids.map((id) => micro.cases.find((result) => result.id === id));
    if (estimate === undefined || cases === undefined) return [{ run, estimate, microMicros: undefined, endToEndMicros }];
    const unstable = cases.filter((found) => found?.state === 'completed' && found.unstable).map((found) => found?.id ?? '');
    if (cases.some((found) => found?.state !== 'completed')) return [{ run, estimate, microMicros: undefined, missing: 'a case failed', endToEndMicros }];
    if (unstable.length > 0) return [{ run, estimate, microMicros: undefined, missing: `unstable: ${unstable.map(code).join(', ')}`, endToEndMicros }];
    const microMicros = cases.filter(stable).reduce((sum, found) => sum + found.nsPerOp, 0) / 1000;
    return [{ run, estimate, microMicros, endToEndMicros }];
  });
}

function comparisonRow({ run, estimate, microMicros, missing, endToEndMicros }: Comparison): string[] {
  const micro =
    estimate === undefined
      ? 'not measured'
      : microMicros === undefined
        ? (missing ?? 'a case failed')
        : `${formatSignificant(microMicros, 3)} (${estimate.text})`;
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
      'one echo message runs through on the server (it reads the message and writes the reply), summed. No estimate is made from an unstable case.',
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

/** The section; results of the first format (means, no verdict on stability) are read as the second. */
export function renderMicroSection(results: MicroResults | MicroResultsV1, runs: RunResult[]): string {
  const upgraded = upgradeMicroResults(results);
  const micro = { ...upgraded, cases: relativeToCheapest(upgraded.cases) };
  const operations = Object.entries(OPERATION_TEXT).map(([key, text]) => `${code(key)}: ${text}`);
  return [
    '## Per-message CPU cost: micro-benchmarks',
    method(micro),
    bullets(operations),
    `Figures are measured, except "relative to the cheapest" (computed: ns/op / the cheapest stable case's ns/op). ${[maskingNote(micro.wsMasking, micro.sizes), ...NOTES].join(' ')}`,
    stability(micro),
    casesTable(micro),
    besideEndToEnd(micro, runs),
  ].join('\n\n');
}

/** The section for a results file that carries micro-benchmark results (its `micro` field); undefined without them. */
export function microSectionOf(results: Results): string | undefined {
  const { micro } = results;
  return micro === undefined ? undefined : renderMicroSection(micro, results.runs);
}
