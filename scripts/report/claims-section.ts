/**
 * The section on the textbook's claims: how each verdict is decided, then the handshake and a
 * frame worked through. The verdicts themselves open the report (summary.ts).
 */
import type { Results } from '../../bench/result.ts';
import type { HandshakeSteps } from '../../servers/handshake.ts';
import { lighterHeadersClaim, oneConnectionClaim, pollingWasteClaim, serverPushClaim } from './claims.ts';
import { framingClaim, type SampledFrame } from './framing-claim.ts';
import { handshakeClaim } from './handshake-claim.ts';
import { bold, code, table } from './markdown.ts';
import type { ClaimVerdict } from './verdict.ts';
import { isHttp2 } from './protocols.ts';
import { DRIVER_BOUND_MARK } from './run-bound.ts';
import { HIXIE_FRAMING_BYTES } from './websocket-frame.ts';

/**
 * Every claim's verdict, in the report's order, numbered (pure; the tests read it). Claims 3 and
 * 4 are judged for HTTP/1.1, and, where the results have HTTP/2 runs, for HTTP/2 too: a second
 * verdict of the same number right after the first.
 */
export function claimVerdicts(results: Results): ClaimVerdict[] {
  const http2 = results.runs.some(isHttp2);
  const numbered: [string, ClaimVerdict][] = [
    ['1', oneConnectionClaim(results)],
    ['2', serverPushClaim(results)],
    ['3', lighterHeadersClaim(results, 'HTTP/1.1')],
    ...(http2 ? [['3', lighterHeadersClaim(results, 'HTTP/2')] as [string, ClaimVerdict]] : []),
    ['4', pollingWasteClaim(results, 'HTTP/1.1')],
    ...(http2 ? [['4', pollingWasteClaim(results, 'HTTP/2')] as [string, ClaimVerdict]] : []),
    ['5', handshakeClaim(results).verdict],
    ['6', framingClaim(results).verdict],
  ];
  return numbered.map(([number, verdict]) => ({ number, ...verdict }));
}

function stepsTable(steps: HandshakeSteps): string {
  return table(
    ['step', 'value'],
    [
      ['Sec-WebSocket-Key', code(steps.key)],
      ['key + GUID (RFC 6455 §4.2.2)', code(steps.concatenated)],
      ['SHA-1 of that, hex', code(steps.sha1Hex)],
      ['base64 of the SHA-1: Sec-WebSocket-Accept', code(steps.accept)],
    ],
  );
}

function handshakeDetail(results: Results): string {
  const { textbook, live } = handshakeClaim(results);
  const parts = ['### 5. The handshake, recomputed', "The textbook's key, step by step (computed with `servers/handshake.ts`):", stepsTable(textbook)];
  if (typeof live === 'string') {
    parts.push(`The live upgrade: the live check was not made (${live}), so only the textbook's arithmetic is checked.`);
  } else {
    parts.push(
      `The live upgrade of this run: ${code(live.requestLine)} answered by ${code(live.responseLine)} with Sec-WebSocket-Accept ` +
        `${code(live.acceptOnWire)}. Recomputed from its key (computed):`,
      stepsTable(live.steps),
      live.matches ? 'The recomputed value matches the one the server sent.' : bold('The recomputed value does NOT match the one the server sent.'),
    );
  }
  return parts.join('\n\n');
}

function frameDetail(frame: SampledFrame): string {
  const who = frame.direction === 'down' ? 'The first frame the server sent (down)' : 'The first masked frame the client sent (up)';
  const fields = table(
    ['bytes', 'hex', 'field', 'value'],
    frame.fields.map((field) => [field.from === field.to ? String(field.from) : `${field.from}–${field.to}`, code(field.hex), field.field, field.value]),
    ['right', 'left', 'left', 'left'],
  );
  return [
    `${who}, at byte ${frame.sampleOffset} of the sample: ${frame.header.headerBytes} bytes of framing (RFC 6455).`,
    fields,
    `The same text as hixie-76 framed it: ${code(frame.hixieHex)}: ${HIXIE_FRAMING_BYTES} bytes of framing (0x00 before, 0xFF after), ` +
      `${frame.header.payloadBytes + HIXIE_FRAMING_BYTES} bytes in all (computed: payload + ${HIXIE_FRAMING_BYTES}) against ` +
      `${frame.header.payloadBytes + frame.header.headerBytes} (payload + header).`,
  ].join('\n\n');
}

function framingDetail(results: Results): string {
  const { frames } = framingClaim(results);
  const intro =
    'The textbook frames each message as `\\x00`, the UTF-8 text, `\\xFF`. That is the framing of draft-hixie-thewebsocketprotocol-76, ' +
    'an obsolete draft; RFC 6455 (2011) replaced it with a header of 2 to 14 bytes: FIN, three reserved bits, an opcode, a MASK bit, ' +
    'a 7-bit payload length (126: a 16-bit length follows; 127: a 64-bit one), and, on frames from the client, a 4-byte masking key ' +
    'with which every payload byte is XORed.';
  if (frames.length === 0) return ['### 6. A frame on the wire', intro, 'No frame was captured in this run: not measured in this run.'].join('\n\n');
  return ['### 6. A frame on the wire', intro, ...frames.map(frameDetail)].join('\n\n');
}

export function claimsSection(results: Results): string {
  const verdicts = claimVerdicts(results);
  // a claim's second verdict (for HTTP/2) goes under its first, so the list keeps the claims' numbers
  const rules = verdicts
    .map((verdict, index) => {
      const line = `${bold(verdict.claim)}: ${bold(verdict.verdict)}. ${verdict.rule}`;
      return index > 0 && verdicts[index - 1]?.number === verdict.number ? `   - ${line}` : `${verdict.number ?? index + 1}. ${line}`;
    })
    .join('\n');
  return [
    "## The textbook's claims",
    'The verdicts, with the figures that decide them, open the report (Answers). Each is computed from the figures of this run by its rule ' +
      'below; the thresholds are constants of `scripts/report/claims.ts`. ' +
      `A verdict that uses a driver-bound run (${DRIVER_BOUND_MARK}) says so and names it: its figures there measure the driver ` +
      '(for the handshake and the frame, 5 and 6, the figures are captured bytes, which no load changes).',
    '**How each verdict is decided**:',
    rules,
    handshakeDetail(results),
    framingDetail(results),
  ].join('\n\n');
}
