/**
 * Runs the WebSocket cases that mask or unmask in a process of their own, so that ws loads
 * the masking code the environment selects (see wsMasker); started by run.ts as
 *
 *   node --import tsx bench/micro/masker-process.ts <masker> <timeMs> <size,size,...> <seed>
 *
 * It prints one JSON line per case (a MeasuredCase) and exits 0; it exits 1 when ws chose
 * another masker than the one it was started for.
 */
import { microCases } from './cases.ts';
import { measureCases } from './measure.ts';
import { wsMasker } from './ws-internals.ts';

const [expected, timeMs, sizes, seed] = process.argv.slice(2);
const masker = wsMasker();
if (masker !== expected) {
  process.stderr.write(`ws masks with ${masker} in this process, not ${expected}\n`);
  process.exit(1);
}
const cases = microCases((sizes ?? '').split(',').map(Number), masker).filter((microCase) => microCase.masking);
await measureCases(cases, { timeMs: Number(timeMs), seed: Number(seed) }, (measured) => process.stdout.write(`${JSON.stringify(measured)}\n`));
