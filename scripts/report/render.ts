/**
 * The report from a results file: the markdown (pure and synchronous) and the charts (specs
 * built purely, rendered to SVG by vega, which is asynchronous).
 */
import { SCENARIOS, type Results, type ScenarioName } from '../../bench/result.ts';
import { browserState } from './browser.ts';
import { renderCharts, type RenderedChart } from './chart-render.ts';
import { chartSpecs, type ChartSpec } from './chart-specs.ts';
import { claimsSection } from './claims-section.ts';
import { kaazingSection } from './kaazing.ts';
import { kaazingLiveSection } from './kaazing-live.ts';
import { renderGoComparison } from './go-comparison-section.ts';
import { bold, bullets, code, headings, image } from './markdown.ts';
import { methodSection, runListSection } from './method.ts';
import { ANSWERS_TITLE, answersSection, sectionFinder } from './summary.ts';
import { driverSection } from './driver-section.ts';
import { DELIVERED_SHORT_SHARE, DRIVER_BOUND_MARK, DRIVER_BOUND_NOTE, isDriverBound, shortfallText } from './run-bound.ts';
import { formatPercent } from './format.ts';
import { microSectionOf } from './micro-section.ts';
import { scenarioTable } from './scenario-tables.ts';
import { rttSection } from './rtt-section.ts';
import { capacitySection } from './capacity-section.ts';
import { faultsSection } from './faults-section.ts';
import { kaazingLinkSection, lossSection, onTheWireSection } from './link-section.ts';
import { protocolsSection } from './protocols-section.ts';

export interface ReportOptions {
  /** Where the chart files are, relative to the markdown file. */
  chartsDir?: string;
}

export interface RenderedReport {
  markdown: string;
  charts: RenderedChart[];
}

export const DEFAULT_CHARTS_DIR = 'charts';

const SCENARIO_INTRO: Record<ScenarioName, string> = {
  echo: "Each client sends a message and waits for the reply, `Received:  ` and the message, as the textbook's echo server answers.",
  push: 'The server sends every client a stream of events at a steady rate, without being asked for each one.',
  idle: 'Clients connect and stay connected; nothing is sent. This is what it costs to be ready for a message.',
  broadcast: 'The server sends one event to every client at once, a few times over the window.',
};

const HOW_TO_READ = [
  '## How to read this report',
  'Each run drives a number of clients of one transport through one scenario and counts every byte their connections carried. ' +
    '**Up** is from client to server, **down** from server to client. The bytes are exact TCP payload bytes, counted at the ' +
    "driver's sockets (what the clients wrote and read; IP and TCP packet headers are not in them), and each byte is one of four kinds, " +
    'five over TLS:',
  bullets([
    '**payload**: the bytes of the messages themselves, the same on every transport;',
    '**headers**: the HTTP request and response heads that carry each message or poll (over HTTP/2, their header blocks after HPACK);',
    '**framing**: what a transport wraps around each message: WebSocket frame headers, SSE `data:` lines, the JSON around polled ' +
      "messages, chunked encoding, the raw TCP transport's length prefixes of its messages, HTTP/2's frame headers and its own frames;",
    '**setup**: bytes spent on the connection and the client rather than on a message: registering it, the WebSocket upgrade handshake, ' +
      "the request that starts a push or a broadcast, and the connection's own control frames (WebSocket close, ping and pong; the TCP " +
      "transport's control frames), header and all; over TLS, the TLS handshake too (its records whole: hellos, certificate, Finished, " +
      'session tickets); over HTTP/2, its connection preface. So the framing per message counts message frames only;',
    "**tls**, on connections over TLS only: TLS's record layer, each record's 5-byte header and what its encryption adds (the 16-byte " +
      "AEAD tag, TLS 1.2's 8-byte explicit nonce, TLS 1.3's content-type byte). The driver's sockets carry ciphertext: each record is opened " +
      "with the keys the client's TLS logged, and what it carries is split into the other kinds as on a plaintext connection.",
  ]),
  'A figure taken from the results file as it is is *measured*; one derived from them says *computed* and gives its formula. ' +
    'Latency is in milliseconds; "p50" is the median, "p99" the value 99% of messages beat.',
  DRIVER_BOUND_NOTE,
].join('\n\n');

/** Lines for the top of the report: what must not be missed. */
function alerts(results: Results): string[] {
  const failed = results.runs.filter((run) => run.state === 'failed');
  const lossy = results.runs.filter((run) => run.state === 'completed' && run.messages.lost > 0);
  const lines: string[] = [];
  if (failed.length > 0) lines.push(bold(`${failed.length} of ${results.runs.length} runs FAILED: ${failed.map((run) => code(run.id)).join(', ')}.`));
  if (lossy.length > 0) lines.push(bold(`Messages were LOST in ${lossy.length} runs: ${lossy.map((run) => code(run.id)).join(', ')}.`));
  const driverBound = results.runs.filter(isDriverBound);
  if (driverBound.length > 0) {
    lines.push(
      bold(
        `${driverBound.length} of ${results.runs.length} runs were DRIVER-BOUND ${DRIVER_BOUND_MARK} (their latency and msg/s measure the driver, not the server): ` +
          `${driverBound.map((run) => code(run.id)).join(', ')}.`,
      ),
    );
  }
  const short = results.runs.filter((run) => run.state === 'completed' && shortfallText(run) !== undefined);
  if (short.length > 0) {
    lines.push(
      bold(
        `${short.length === 1 ? '1 run' : `${short.length} runs`} delivered less than ${formatPercent(DELIVERED_SHORT_SHARE, 0)} of the ` +
          `messages a second ${short.length === 1 ? 'it' : 'they'} asked for: ` +
          `${short.map((run) => code(run.id)).join(', ')}.`,
      ),
    );
  }
  const browser = browserState(results);
  if (browser.state === 'failed') lines.push(bold(`The real-browser measurement FAILED: ${browser.error}`));
  return lines;
}

function scenarioSection(results: Results, scenario: ScenarioName, charts: ChartSpec[], chartsDir: string): string | undefined {
  const tableText = scenarioTable(results, scenario);
  if (tableText === undefined) return undefined;
  const images = charts
    .filter((chart) => chart.scenario === scenario && chart.section === undefined)
    .map((chart) => image(chart.alt, `${chartsDir}/${chart.fileName}`));
  return [`### ${scenario}`, SCENARIO_INTRO[scenario], tableText, ...images].join('\n\n');
}

/**
 * The report, in the order a reader wants it: the title and what must not be missed, the answers
 * (verdicts and a table per question, linking to their sections), how to read the rest, the
 * sections with results, and at the end the method, the driver benchmark and the list of runs.
 */
export function renderMarkdown(results: Results, options: ReportOptions = {}): string {
  const chartsDir = options.chartsDir ?? DEFAULT_CHARTS_DIR;
  const charts = chartSpecs(results);
  const scenarios = SCENARIOS.map((scenario) => scenarioSection(results, scenario, charts, chartsDir)).filter((text) => text !== undefined);
  const opening = [
    '# wirecost: what real-time transports cost on the wire',
    `Results of ${code(results.environment.command)}, started ${results.environment.startedAt}: ${results.runs.length} runs.`,
    ...alerts(results),
  ];
  const sections = [
    HOW_TO_READ,
    '## Results by scenario',
    ...scenarios,
    ...[
      rttSection(results),
      onTheWireSection(results),
      lossSection(results),
      capacitySection(results, chartsDir),
      faultsSection(results),
      protocolsSection(results),
    ].filter((section) => section !== undefined),
    claimsSection(results),
    kaazingSection(results),
    ...[kaazingLiveSection(results), kaazingLinkSection(results)].filter((section) => section !== undefined),
    ...[microSectionOf(results)].filter((section) => section !== undefined),
    renderGoComparison(results),
    methodSection(results),
    driverSection(results),
    runListSection(results),
  ];
  // the answers link to the sections: their anchors, as the whole document will have them (the opening adds only its own)
  const anchors = headings([...opening, ANSWERS_TITLE, ...sections].join('\n\n'));
  const answers = answersSection(results, sectionFinder(anchors));
  return `${[...opening, answers, ...sections].join('\n\n')}\n`;
}

/** The whole report. Deterministic: the same results give the same markdown and the same SVG. */
export async function renderReport(results: Results, options: ReportOptions = {}): Promise<RenderedReport> {
  return { markdown: renderMarkdown(results, options), charts: await renderCharts(chartSpecs(results)) };
}
