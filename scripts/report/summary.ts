/**
 * The report's opening, "Answers": what a reader takes in at once. The verdicts on the
 * textbook's claims (each cell the comparison that decides it, the rest of its evidence in a
 * list under the table), then one small table per question, each linking to the section that
 * holds its runs. Every figure is one the sections show too, read from the results or computed
 * by the formula its caption gives.
 */
import type { CompletedRun, Results, RunResult, ScenarioName } from '../../bench/result.ts';
import { TRANSPORTS, type TransportName } from '../../servers/contract.ts';
import { claimVerdicts } from './claims-section.ts';
import { FORMULAS, totalBytesPerMessage } from './figures.ts';
import { formatInteger, formatNumber, formatSignificant } from './format.ts';
import { kaazingSummary } from './kaazing.ts';
import { bold, code, link, table, type Heading } from './markdown.ts';
import { DRIVER_BOUND_MARK, markDriverBound } from './run-bound.ts';
import { completedRuns, sameWorkload } from './runs.ts';
import { isHttp2, isProtocolRun } from './protocols.ts';
import type { ClaimVerdict } from './verdict.ts';

export const ANSWERS_TITLE = '## Answers';

/** The payloads the bytes table compares: a short message and a 1 KiB one. */
const SUMMARY_PAYLOADS = [16, 1024] as const;
/** The round-trip time the latency table sets beside loopback. */
const SUMMARY_RTT_MS = 100;
const NOT_MEASURED = 'not measured';

/** Finds where a section is, by its heading, among the headings of the sections that follow the opening. */
export interface SectionFinder {
  /** The anchor of the first heading `text`, after the heading `after` when given; undefined when the report has none. */
  anchor(text: string, after?: string): string | undefined;
}

export function sectionFinder(found: readonly Heading[]): SectionFinder {
  return {
    anchor(text, after) {
      const from = after === undefined ? 0 : found.findIndex((heading) => heading.text === after);
      if (from === -1) return undefined;
      return found.slice(from).find((heading) => heading.text === text)?.anchor;
    },
  };
}

function seeAlso(sections: SectionFinder, label: string, text: string, after?: string): string {
  const anchor = sections.anchor(text, after);
  return anchor === undefined ? '' : ` Details: ${link(label, anchor)}.`;
}

/** A run on loopback as the suite runs it: no emulated link, no fault, the suite's own server, plaintext HTTP/1.1. */
function plain(run: CompletedRun): boolean {
  return (
    (run.config.rttMs ?? 0) === 0 &&
    (run.config.bandwidthBitsPerSecond ?? 0) === 0 &&
    run.config.fault === undefined &&
    run.config.target === undefined &&
    !isProtocolRun(run)
  );
}

/**
 * Of the candidate runs, the one whose workload the most transports ran (runs of no series
 * first, then in the report's order), with that workload's run of each transport.
 */
function widestWorkload(results: Results, candidates: readonly CompletedRun[]): Map<TransportName, CompletedRun> | undefined {
  let best: Map<TransportName, CompletedRun> | undefined;
  const ordered = [...candidates.filter((run) => run.config.group === undefined), ...candidates.filter((run) => run.config.group !== undefined)];
  for (const run of ordered) {
    const byTransport = new Map<TransportName, CompletedRun>();
    for (const transport of TRANSPORTS) {
      const same = transport === run.transport ? run : sameWorkload(results, run, transport);
      if (same !== undefined && (same === run || same.config.group === run.config.group)) byTransport.set(transport, same);
    }
    if (best === undefined || byTransport.size > best.size) best = byTransport;
  }
  return best;
}

function workloadText(run: CompletedRun): string {
  const { config } = run;
  const rate =
    config.scenario === 'push'
      ? `, ${formatInteger(config.pushRatePerSecond)} msg/s each`
      : config.scenario === 'echo'
        ? `, ${config.inFlight} in flight each`
        : '';
  const polling = config.scenario === 'push' || config.scenario === 'broadcast' ? `; short polling every ${formatInteger(config.pollIntervalMs)} ms` : '';
  return `${config.scenario}, ${formatInteger(config.clients)} clients${rate}${polling}`;
}

function payloadText(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${formatInteger(bytes)} B`;
}

/** The transports that appear in any of the columns, in the report's order. */
function rowsOf(columns: readonly (Map<TransportName, CompletedRun> | undefined)[]): TransportName[] {
  return TRANSPORTS.filter((transport) => columns.some((column) => column?.has(transport)));
}

function bytesTable(results: Results, sections: SectionFinder): string {
  const scenarioFor = (payload: number): ScenarioName | undefined =>
    (['push', 'echo'] as const).find((scenario) =>
      completedRuns(results, { scenario }).some((run) => plain(run) && run.config.payloadBytes === payload && run.messages.received > 0),
    );
  const columns = SUMMARY_PAYLOADS.map((payload) => {
    const scenario = scenarioFor(payload);
    if (scenario === undefined) return undefined;
    const candidates = completedRuns(results, { scenario }).filter((run) => plain(run) && run.config.payloadBytes === payload && run.messages.received > 0);
    return widestWorkload(results, candidates);
  });
  const transports = rowsOf(columns);
  const cell = (column: Map<TransportName, CompletedRun> | undefined, transport: TransportName): string => {
    const run = column?.get(transport);
    const bytes = run === undefined ? undefined : totalBytesPerMessage(run);
    return bytes === undefined ? NOT_MEASURED : formatNumber(bytes, 1);
  };
  const sources = SUMMARY_PAYLOADS.map((payload, index) => {
    const first = columns[index]?.values().next().value;
    return `${payloadText(payload)}: ${first === undefined ? 'no such run' : workloadText(first)}`;
  });
  const scenario = columns.flatMap((column) => [...(column?.values() ?? [])])[0]?.scenario ?? 'push';
  return [
    `${bold('Bytes per message')}, up + down, by transport (computed: ${FORMULAS.bytesPerMessage}). From the runs of one workload per size: ` +
      `${sources.join('; ')}.${seeAlso(sections, `Results by scenario: ${scenario}`, scenario, 'Results by scenario')}`,
    transports.length === 0
      ? `${NOT_MEASURED} in this run.`
      : table(
          ['transport', ...SUMMARY_PAYLOADS.map(payloadText)],
          transports.map((transport) => [transport, ...columns.map((column) => cell(column, transport))]),
          ['left', 'right', 'right'],
        ),
  ].join('\n\n');
}

/** The run that did `run`'s work on a link of `rttMs`, if any. */
function atRtt(results: Results, run: CompletedRun, rttMs: number): CompletedRun | undefined {
  const shifted = { ...run, config: { ...run.config, rttMs } } as RunResult;
  return sameWorkload(results, shifted, run.transport);
}

function latencyCell(run: CompletedRun | undefined): string {
  if (run === undefined || run.latencyMs.count === 0) return NOT_MEASURED;
  return markDriverBound(run, `${formatSignificant(run.latencyMs.p50, 3)} / ${formatSignificant(run.latencyMs.p99, 3)}`);
}

function latencyTable(results: Results, sections: SectionFinder): string {
  const pushes = completedRuns(results, { scenario: 'push' }).filter((run) => run.latencyMs.count > 0);
  const linked = pushes.filter(
    (run) => run.config.rttMs === SUMMARY_RTT_MS && (run.config.bandwidthBitsPerSecond ?? 0) === 0 && run.config.fault === undefined && !isProtocolRun(run),
  );
  const remote = widestWorkload(results, linked);
  const loopback =
    remote === undefined
      ? widestWorkload(results, pushes.filter(plain))
      : new Map(
          [...remote].flatMap(([transport, run]) => {
            const local = atRtt(results, run, 0);
            return local === undefined ? [] : [[transport, local] as const];
          }),
        );
  const transports = rowsOf([loopback, remote]);
  const first = remote?.values().next().value ?? loopback?.values().next().value;
  const rtt = sections.anchor('Latency against round-trip time');
  return [
    `${bold('Push latency')}, p50 / p99 in ms (measured), on loopback and with a round-trip time of ${SUMMARY_RTT_MS} ms emulated between ` +
      `client and server${first === undefined ? '' : `: ${workloadText(first)}, ${payloadText(first.config.payloadBytes)}`}.` +
      (rtt === undefined
        ? seeAlso(sections, 'Results by scenario: push', 'push', 'Results by scenario')
        : ` Details: ${link('Latency against round-trip time', rtt)}.`),
    transports.length === 0
      ? `${NOT_MEASURED} in this run.`
      : table(
          ['transport', 'loopback', `RTT ${SUMMARY_RTT_MS} ms`],
          transports.map((transport) => [transport, latencyCell(loopback?.get(transport)), latencyCell(remote?.get(transport))]),
          ['left', 'right', 'right'],
        ),
  ].join('\n\n');
}

function connectionsTable(results: Results, sections: SectionFinder): string {
  const runs = completedRuns(results);
  const row = (label: string, of: readonly CompletedRun[]): string[][] => {
    const values = of.map((run) => run.connections.perClient);
    if (values.length === 0) return [];
    const low = Math.min(...values);
    const high = Math.max(...values);
    const range = low === high ? formatNumber(low, 2) : `${formatNumber(low, 2)}–${formatNumber(high, 2)}`;
    return [[label, range, formatInteger(values.length)]];
  };
  // HTTP/2 runs get rows of their own: an HTTP/2 client keeps one connection for everything
  const rows = [
    ...TRANSPORTS.flatMap((transport) =>
      row(
        transport,
        runs.filter((run) => run.transport === transport && !isHttp2(run)),
      ),
    ),
    ...TRANSPORTS.flatMap((transport) =>
      row(
        `${transport} over HTTP/2`,
        runs.filter((run) => run.transport === transport && isHttp2(run)),
      ),
    ),
  ];
  const http2 = runs.some(isHttp2)
    ? ' Over HTTP/2 a client keeps one connection for everything: its polls, its sends and its event stream are streams of it.'
    : '';
  return [
    `${bold('TCP connections per client')}, fewest–most over every completed run of each transport (measured: \`connections.perClient\`).${http2}` +
      seeAlso(sections, 'Results by scenario', 'Results by scenario'),
    rows.length === 0 ? `${NOT_MEASURED} in this run.` : table(['transport', 'connections per client', 'runs'], rows, ['left', 'right', 'right']),
  ].join('\n\n');
}

/** Where each claim's rule and details are: 5 and 6 have their own subsections. */
function claimAnchor(sections: SectionFinder, number: string): string | undefined {
  const own = number === '5' ? '5. The handshake, recomputed' : number === '6' ? '6. A frame on the wire' : undefined;
  return (own === undefined ? undefined : sections.anchor(own)) ?? sections.anchor("The textbook's claims");
}

/** The verdict's cell: the verdict, and that it rests on driver-bound figures (which ones: under the table). */
function shortVerdictCell(verdict: ClaimVerdict): string {
  if ((verdict.driverBoundRuns ?? []).length === 0) return bold(verdict.verdict);
  return `${bold(verdict.verdict)}, ${bold(`resting on driver-bound figures ${DRIVER_BOUND_MARK}`)} (listed below)`;
}

function evidenceItems(verdict: ClaimVerdict): string[] {
  const runs = verdict.driverBoundRuns ?? [];
  const driverBound =
    runs.length === 0
      ? []
      : [`Rests on driver-bound figures ${DRIVER_BOUND_MARK} of ${runs.map((id) => code(id)).join(', ')}: the driver, not the server, was the limit there.`];
  return [...driverBound, ...(verdict.evidence ?? [])];
}

function verdictsPart(results: Results, sections: SectionFinder): string {
  const verdicts = claimVerdicts(results);
  const numberOf = (verdict: ClaimVerdict, index: number): string => verdict.number ?? String(index + 1);
  const rows = verdicts.map((verdict, index) => {
    const anchor = claimAnchor(sections, numberOf(verdict, index));
    return [numberOf(verdict, index), verdict.claim, shortVerdictCell(verdict), verdict.figure, anchor === undefined ? '' : link('rule and details', anchor)];
  });
  const evidence = verdicts.flatMap((verdict, index) => {
    const items = evidenceItems(verdict);
    if (items.length === 0) return [];
    const lead = verdict.evidenceLead ?? (items.length === 1 ? items[0] : 'The figures:');
    const rest = items.length === 1 && verdict.evidenceLead === undefined ? [] : items;
    const label = verdict.judgedFor === undefined ? `${numberOf(verdict, index)}.` : `${numberOf(verdict, index)}. (${verdict.judgedFor})`;
    return [[`- ${bold(label)} ${lead}`, ...rest.map((item) => `  - ${item}`)].join('\n')];
  });
  return [
    "**The textbook's claims**, each decided from this run's figures by the rule its section gives; the cell is the comparison that decides it.",
    table(['#', 'claim', 'verdict', 'decisive figure', 'see'], rows),
    ...(evidence.length === 0 ? [] : ['**The rest of the evidence**, claim by claim:', evidence.join('\n')]),
  ].join('\n\n');
}

/** The opening of the report: the verdicts, then a table per question; `sections` finds the sections it links to. */
export function answersSection(results: Results, sections: SectionFinder): string {
  return [
    ANSWERS_TITLE,
    verdictsPart(results, sections),
    bytesTable(results, sections),
    latencyTable(results, sections),
    connectionsTable(results, sections),
    `${bold('Kaazing: polling against WebSocket at scale')}.${seeAlso(sections, 'the Kaazing section', 'Kaazing: polling against WebSocket at scale')}`,
    kaazingSummary(results),
  ].join('\n\n');
}
