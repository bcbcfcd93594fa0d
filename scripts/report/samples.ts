/** The wire samples of results.json: the first bytes of one connection, each way. */
import type { CompletedRun, Results, WireSample } from '../../bench/result.ts';
import type { TransportName } from '../../servers/contract.ts';

export interface DecodedSample {
  sample: WireSample;
  up: Buffer;
  down: Buffer;
}

export function decodedSample(results: Results, transport: TransportName): DecodedSample | undefined {
  const sample = results.samples.find((candidate) => candidate.transport === transport);
  if (sample === undefined) return undefined;
  return { sample, up: Buffer.from(sample.up, 'base64'), down: Buffer.from(sample.down, 'base64') };
}

/** The completed run a sample was captured from, as a list (empty when it is not in the results). */
export function sampleRuns(results: Results, sample: WireSample | undefined): CompletedRun[] {
  const run = sample === undefined ? undefined : results.runs.find((candidate) => candidate.id === sample.runId);
  return run?.state === 'completed' ? [run] : [];
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** An HTTP message head (latin1, as heads are octets) and the bytes after its blank line. */
export interface SplitHead {
  head: string;
  rest: Buffer;
}

/** Splits the HTTP head at the start of `bytes`; undefined when its blank line is not in the sample. */
export function splitHttpHead(bytes: Buffer): SplitHead | undefined {
  const end = bytes.indexOf(HEAD_END);
  if (end < 0) return undefined;
  return { head: bytes.subarray(0, end).toString('latin1'), rest: bytes.subarray(end + HEAD_END.length) };
}

/** The start line of a head: "GET /ws HTTP/1.1", "HTTP/1.1 101 Switching Protocols". */
export function startLine(head: string): string {
  return head.split('\r\n')[0] ?? '';
}

/** A header field's value (names are case-insensitive), trimmed; undefined when absent. */
export function headerValue(head: string, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return undefined;
}
