/**
 * Claim 5, the textbook's handshake example, recomputed; and the live upgrade of this run (from
 * the WebSocket wire sample) checked the same way.
 */
import type { Results } from '../../bench/result.ts';
import { handshakeSteps, type HandshakeSteps } from '../../servers/handshake.ts';
import { code } from './markdown.ts';
import { decodedSample, headerValue, sampleRuns, splitHttpHead, startLine } from './samples.ts';
import { restingOn, type ClaimVerdict, type Verdict } from './verdict.ts';

const LIVE_NOT_MADE: Verdict = 'supported by the computation; the live check was not made';

/** The textbook's example (quoted). */
export const TEXTBOOK_KEY = 'f7cb4ezEAl6C3wRaU6JORA==';
export const TEXTBOOK_ACCEPT = 'rE91AJhfC+6JdVcVXOGJEADEJdQ=';

export interface LiveHandshake {
  requestLine: string;
  responseLine: string;
  /** Sec-WebSocket-Accept as the server sent it. */
  acceptOnWire: string;
  steps: HandshakeSteps;
  matches: boolean;
}

export interface HandshakeClaim {
  verdict: ClaimVerdict;
  textbook: HandshakeSteps;
  /** A string when the sample has no usable upgrade: why. */
  live: LiveHandshake | string;
}

/** The upgrade request and its 101 response from the WebSocket sample, or why there is none. */
function liveHandshake(results: Results): LiveHandshake | string {
  const sample = decodedSample(results, 'websocket');
  if (sample === undefined) return 'no WebSocket wire sample in this run';
  const request = splitHttpHead(sample.up);
  const response = splitHttpHead(sample.down);
  if (request === undefined || response === undefined) return 'the WebSocket sample does not hold a whole upgrade request and response';
  const key = headerValue(request.head, 'Sec-WebSocket-Key');
  const acceptOnWire = headerValue(response.head, 'Sec-WebSocket-Accept');
  if (key === undefined || acceptOnWire === undefined) return 'the WebSocket sample has no Sec-WebSocket-Key or Sec-WebSocket-Accept header';
  const steps = handshakeSteps(key);
  return { requestLine: startLine(request.head), responseLine: startLine(response.head), acceptOnWire, steps, matches: steps.accept === acceptOnWire };
}

export function handshakeClaim(results: Results): HandshakeClaim {
  const textbook = handshakeSteps(TEXTBOOK_KEY);
  const live = liveHandshake(results);
  const textbookHolds = textbook.accept === TEXTBOOK_ACCEPT;
  const liveText =
    typeof live === 'string'
      ? `live upgrade: the live check was not made (${live})`
      : `live upgrade: key ${code(live.steps.key)}, the server sent ${code(live.acceptOnWire)}, recomputed ${code(live.steps.accept)}: ${live.matches ? 'they match' : 'they DO NOT match'}`;
  const verdict: Verdict =
    !textbookHolds || (typeof live !== 'string' && !live.matches) ? 'contradicted' : typeof live === 'string' ? LIVE_NOT_MADE : 'supported';
  return {
    verdict: restingOn(
      {
        claim: `The handshake example: key ${code(TEXTBOOK_KEY)} gives Sec-WebSocket-Accept ${code(TEXTBOOK_ACCEPT)}`,
        verdict,
        figure:
          `Recomputed: ${code(textbook.accept)}, ${textbookHolds ? 'as the textbook says' : 'NOT what the textbook says'}; ` +
          (typeof live === 'string' ? 'the live check was not made.' : `the live upgrade's ${live.matches ? 'matches' : 'does NOT match'}.`),
        evidence: [`Recomputed (computed: base64(SHA-1(key + GUID))): ${code(textbook.accept)}.`, `${liveText.charAt(0).toUpperCase()}${liveText.slice(1)}.`],
        rule:
          "Supported when the recomputed accept value equals the textbook's and the one the server sent in this run's captured upgrade; " +
          `with no captured upgrade, "${LIVE_NOT_MADE}" at best; contradicted when either differs.`,
      },
      typeof live === 'string' ? [] : sampleRuns(results, decodedSample(results, 'websocket')?.sample),
    ),
    textbook,
    live,
  };
}
