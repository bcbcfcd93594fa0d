/**
 * The driver benchmark (bench/driver-bench/): is the bench's driver stronger than what it
 * measures? Per transport, every load the benchmark held against one server (the bench's
 * clients, the same untapped, bare references), round by round, and two computed figures
 * checked against the goals the results carry: the bench's clients over the better reference,
 * and what the byte accounting (the tap) costs.
 */
import { SATURATED } from '../../bench/bound.ts';
import type { Results } from '../../bench/result.ts';
import type { DriverBenchTransport, DriverBenchmark, DriverLoadResult, DriverLoadRound } from '../../bench/driver-bench/result.ts';
import { formatInteger, formatNumber, formatPercent } from './format.ts';
import { bold, bullets, table } from './markdown.ts';

export const DRIVER_SECTION_TITLE = '## Is the driver stronger than the server?';

const KIND_TEXT = { bench: "the bench's clients", untapped: 'the same, no byte accounting', reference: 'reference: a bare load' } as const;

/** The round with the highest rate, or undefined for a load that did not run. */
export function bestRound(load: DriverLoadResult): DriverLoadRound | undefined {
  return load.rounds.reduce<DriverLoadRound | undefined>(
    (best, round) => (best === undefined || round.ratePerSecond > best.ratePerSecond ? round : best),
    undefined,
  );
}

function ran(load: DriverLoadResult): boolean {
  return load.skipped === undefined && load.rounds.length > 0;
}

/** Which side a round saturated, by the bound rule's threshold (bench/bound.ts, SATURATED). */
function roundLimit(round: DriverLoadRound): string {
  if (round.driverEventLoopUtilization !== undefined && round.driverEventLoopUtilization >= SATURATED) return `${bold('driver')} ⚠`;
  if (round.serverEventLoopUtilization >= SATURATED) return 'server';
  return round.driverEventLoopUtilization === undefined ? "server not saturated; the load's event loop not measured" : 'neither';
}

const list = (rounds: DriverLoadRound[], pick: (round: DriverLoadRound) => number | undefined, format: (value: number) => string): string =>
  rounds.map((round) => ((value) => (value === undefined ? '-' : format(value)))(pick(round))).join(' / ');

const cores = (value: number): string => formatNumber(value, 2);
const busy = (value: number): string => formatPercent(value, 0);

function loadRow(load: DriverLoadResult): string[] {
  const best = bestRound(load);
  if (!ran(load) || best === undefined) {
    return [load.name, KIND_TEXT[load.kind], `not run: ${load.skipped ?? 'no round was recorded'}`, '-', '-', '-', '-', '-', '-'];
  }
  return [
    load.name,
    KIND_TEXT[load.kind],
    formatInteger(best.ratePerSecond),
    list(load.rounds, (round) => round.ratePerSecond, formatInteger),
    list(load.rounds, (round) => round.serverCpuCores, cores),
    list(load.rounds, (round) => round.serverEventLoopUtilization, busy),
    list(load.rounds, (round) => round.driverCpuCores, cores),
    list(load.rounds, (round) => round.driverEventLoopUtilization, busy),
    roundLimit(best),
  ];
}

/** A computed figure and its goal, or why it could not be computed. */
export interface GoalCheck {
  /** undefined when a load it needs did not run. */
  value?: number;
  met?: boolean;
  /** The figure, its formula and the goal, in words (markdown). */
  text: string;
}

interface Best {
  load: DriverLoadResult;
  round: DriverLoadRound;
}

function bestOf(loads: DriverLoadResult[]): Best | undefined {
  return loads
    .filter(ran)
    .map((load) => ({ load, round: bestRound(load)! }))
    .reduce<Best | undefined>(
      (best, candidate) => (best === undefined || candidate.round.ratePerSecond > best.round.ratePerSecond ? candidate : best),
      undefined,
    );
}

const metText = (met: boolean): string => (met ? 'met' : bold('not met'));
const rateText = (best: Best): string => `${best.load.name} ${formatInteger(best.round.ratePerSecond)}`;

/** The bench's clients over the better reference, best rounds (computed). */
export function benchOverReference(transport: DriverBenchTransport, goal: number): GoalCheck {
  const bench = bestOf(transport.loads.filter((load) => load.kind === 'bench'));
  const reference = bestOf(transport.loads.filter((load) => load.kind === 'reference'));
  const goalText = `goal: ${formatNumber(goal, 2)}x or more`;
  if (bench === undefined || reference === undefined) {
    return { text: `not measured in this run: ${bench === undefined ? "the bench's clients did not run" : 'no reference ran'} (${goalText})` };
  }
  const value = bench.round.ratePerSecond / reference.round.ratePerSecond;
  const met = value >= goal;
  return {
    value,
    met,
    text: `${formatNumber(value, 2)}x (computed: best round of ${rateText(bench)} / best round of the better reference, ${rateText(reference)}); ${goalText}: ${metText(met)}`,
  };
}

/** What the tap costs: 1 − tapped / untapped, best rounds (computed). */
export function tappingCost(transport: DriverBenchTransport, goal: number): GoalCheck {
  const bench = bestOf(transport.loads.filter((load) => load.kind === 'bench'));
  const untapped = bestOf(transport.loads.filter((load) => load.kind === 'untapped'));
  const goalText = `goal: ${formatPercent(goal, 0)} or less`;
  if (bench === undefined || untapped === undefined) {
    return { text: `not measured in this run: ${bench === undefined ? "the bench's clients" : 'the untapped clients'} did not run (${goalText})` };
  }
  const value = 1 - bench.round.ratePerSecond / untapped.round.ratePerSecond;
  const met = value <= goal;
  return {
    value,
    met,
    text:
      `${formatPercent(value)} (computed: 1 − best round of ${rateText(bench)} / best round of ${rateText(untapped)}` +
      `${value < 0 ? '; below 0: the tapped clients did better than the untapped' : ''}); ${goalText}: ${metText(met)}`,
  };
}

/** What the best round of the better reference says about the server: nothing saturated it, when it was driver-bound itself. */
function readingOf(transport: DriverBenchTransport): string | undefined {
  const reference = bestOf(transport.loads.filter((load) => load.kind === 'reference'));
  if (reference === undefined) return undefined;
  const { round, load } = reference;
  const server = `the server's event loop ${busy(round.serverEventLoopUtilization)} busy`;
  if (round.driverEventLoopUtilization !== undefined && round.driverEventLoopUtilization >= SATURATED && round.serverEventLoopUtilization < SATURATED) {
    return bold(
      `The better reference, ${load.name}, was itself driver-bound in its best round (its event loop ${busy(round.driverEventLoopUtilization)} busy, ${server}): ` +
        "nothing saturated this server, so the ratio compares two drivers, not the bench's driver against the server's limit.",
    );
  }
  if (round.serverEventLoopUtilization >= SATURATED) {
    return `The better reference, ${load.name}, saturated the server in its best round (${server}): the ratio sets the bench's clients against the server's limit.`;
  }
  return `Neither side of the better reference, ${load.name}, was saturated in its best round (${server}): the ratio compares what the loads asked of the server, not its limit.`;
}

/** The bench's own clients, driver-bound in their best round: what the bench's runs on this transport measure first. */
function benchBoundText(transport: DriverBenchTransport): string | undefined {
  const bench = bestOf(transport.loads.filter((load) => load.kind === 'bench'));
  const driver = bench?.round.driverEventLoopUtilization;
  if (bench === undefined || driver === undefined || driver < SATURATED) return undefined;
  return bold(
    `The bench's own clients were driver-bound in their best round (their event loop ${busy(driver)} busy, the server's ` +
      `${busy(bench.round.serverEventLoopUtilization)}): at this load a ${transport.transport} run measures the driver before the server.`,
  );
}

/** How far apart the rounds of one load fell: 1 − worst / best, the widest load's (computed). */
function spreadText(transport: DriverBenchTransport): string | undefined {
  const spreads = transport.loads
    .filter((load) => ran(load) && load.rounds.length > 1)
    .map((load) => ({ load, spread: 1 - Math.min(...load.rounds.map((round) => round.ratePerSecond)) / bestRound(load)!.ratePerSecond }));
  const widest = spreads.reduce<(typeof spreads)[number] | undefined>(
    (wide, entry) => (wide === undefined || entry.spread > wide.spread ? entry : wide),
    undefined,
  );
  if (widest === undefined) return undefined;
  return (
    `The rounds of one load differ by up to ${formatPercent(widest.spread, 0)} here (${widest.load.name}; computed: 1 − worst round / best round): ` +
    'a ratio nearer its goal than that is within the noise of this machine.'
  );
}

function transportPart(transport: DriverBenchTransport, benchmark: DriverBenchmark): string {
  const { goals } = benchmark;
  const unit = transport.unit === 'requests' ? 'requests/s' : 'messages/s';
  const heading =
    `### ${transport.transport}: ${transport.workload}, ${formatInteger(transport.clients)} connections` +
    (transport.payloadBytes > 0 ? `, ${formatInteger(transport.payloadBytes)} B messages` : '');
  const rows = transport.loads.map(loadRow);
  const reading = readingOf(transport);
  const spread = spreadText(transport);
  return [
    heading,
    table(
      [
        'load',
        'kind',
        `best round (${unit})`,
        `every round (${unit}, in the order run)`,
        'server CPU (cores, every round)',
        'server event loop busy (every round)',
        'driver CPU (cores, every round)',
        'driver event loop busy (every round)',
        'saturated in the best round',
      ],
      rows,
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    bullets([
      `**The bench's clients against the better reference**: ${benchOverReference(transport, goals.benchOverReference).text}.`,
      `**Tapping cost** (what counting every byte costs the clients): ${tappingCost(transport, goals.tappingCostAtMost).text}.`,
    ]),
    ...[benchBoundText(transport), reading, spread].filter((text): text is string => text !== undefined),
  ].join('\n\n');
}

export function driverSection(results: Results): string {
  const benchmark = results.driverBenchmark;
  if (benchmark === undefined) {
    return [
      DRIVER_SECTION_TITLE,
      'Not recorded in these results: they have no driver benchmark (`npm run bench -- --profile driver` runs it), so nothing here says whether the driver could outrun the servers.',
    ].join('\n\n');
  }
  return [
    DRIVER_SECTION_TITLE,
    "A figure is the server's only if the driver could have asked for more. On one server per transport, the benchmark held the bench's " +
      'own clients, the same clients with no byte accounting (untapped), and bare loads that do nothing but load (references), ' +
      `each for a ${formatNumber(benchmark.warmupSeconds, 1)} s warm-up and a ${formatNumber(benchmark.windowSeconds, 1)} s window, ` +
      `in ${formatInteger(benchmark.rounds)} ${benchmark.rounds === 1 ? 'round' : 'rounds whose order rotates'}; each rate is what the server took per second by its own counter (measured). ` +
      "CPU is in cores over the window; an event loop's share busy is its utilization; wrk runs outside this process, so its event loop is not measured.",
    `**How to read it**: a load whose event loop was ${formatPercent(SATURATED, 0)} busy or more (⚠) measured itself, not the server; ` +
      "the bench's clients are strong enough when they take the server as far as the better reference does. A reference that is itself " +
      'driver-bound while the server is not saturated means nothing saturated the server: the ratio then compares drivers.',
    ...(results.suite.name === 'driver'
      ? []
      : [
          `This is the short check a whole suite makes before its runs, ${formatInteger(benchmark.rounds)} ${benchmark.rounds === 1 ? 'round' : 'rounds'} of ` +
            'under a few seconds a load: on a shared 2-core machine one such round can land well off the next one, so a goal "not met" here is ' +
            'a reason to run the benchmark on its own, `npm run bench -- --profile driver` (longer rounds, several of them; the committed ' +
            '`reports/sample-driver/report.md`), which is the one to quote. Every run of this suite says its own bound either way.',
        ]),
    ...benchmark.transports.map((transport) => transportPart(transport, benchmark)),
  ].join('\n\n');
}
