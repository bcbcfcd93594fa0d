/**
 * Claim 6: the textbook frames WebSocket messages as `\x00 … \xFF`. That is the hixie-76 draft,
 * replaced by RFC 6455 in 2011; the frames this run's WebSocket connection carried decide which
 * one the wire speaks.
 */
import type { Results } from '../../bench/result.ts';
import type { Direction } from '../../bench/wire.ts';
import { code } from './markdown.ts';
import { decodedSample, sampleRuns, splitHttpHead } from './samples.ts';
import { restingOn, type ClaimVerdict } from './verdict.ts';
import {
  HIXIE_FRAMING_BYTES,
  annotateFrame,
  findFrame,
  framePayloadPreview,
  hixieFrameHex,
  opcodeName,
  type FrameField,
  type FrameHeader,
} from './websocket-frame.ts';

const HIXIE_START = 0x00;
/** Payload bytes the report shows of a frame. */
const PREVIEW_BYTES = 16;

export interface SampledFrame {
  direction: Direction;
  /** Where the frame starts in the sample of its direction. */
  sampleOffset: number;
  header: FrameHeader;
  fields: FrameField[];
  /** The same text as hixie-76 would have framed it, in hex. */
  hixieHex: string;
}

export interface FramingClaim {
  verdict: ClaimVerdict;
  frames: SampledFrame[];
}

/** The first frame after the HTTP head of `bytes` that `accept` takes. */
function sampledFrame(bytes: Buffer, direction: Direction, accept: (header: FrameHeader) => boolean): SampledFrame | undefined {
  const split = splitHttpHead(bytes);
  if (split === undefined) return undefined;
  const found = findFrame(split.rest, accept);
  if (found === undefined) return undefined;
  const fields = annotateFrame(split.rest, found.offset, PREVIEW_BYTES);
  if (fields === undefined) return undefined;
  const preview = framePayloadPreview(split.rest, found.offset, found.header, PREVIEW_BYTES);
  return {
    direction,
    sampleOffset: bytes.length - split.rest.length + found.offset,
    header: found.header,
    fields,
    hixieHex: hixieFrameHex(preview, found.header.payloadBytes),
  };
}

export function framingClaim(results: Results): FramingClaim {
  const claim = 'WebSocket frames are `\\x00`, the text, `\\xFF` (2 bytes of framing)';
  const rule =
    'Supported if the first frame after the 101 response starts with 0x00 (the hixie-76 draft the textbook shows); ' +
    'contradicted if it parses as an RFC 6455 frame header.';
  const sample = decodedSample(results, 'websocket');
  const afterHead = sample === undefined ? undefined : splitHttpHead(sample.down)?.rest;
  if (sample === undefined || afterHead === undefined || afterHead.length === 0) {
    return { verdict: { claim, verdict: 'not measured in this run', figure: 'no WebSocket frame was captured in this run', rule }, frames: [] };
  }
  const used = sampleRuns(results, sample.sample);
  if (afterHead[0] === HIXIE_START) {
    return {
      verdict: restingOn({ claim, verdict: 'supported', figure: 'the first frame after the 101 response starts with 0x00 (hixie-76)', rule }, used),
      frames: [],
    };
  }
  const frames = [sampledFrame(sample.down, 'down', () => true), sampledFrame(sample.up, 'up', (header) => header.masked)].filter(
    (frame): frame is SampledFrame => frame !== undefined,
  );
  const first = frames.find((frame) => frame.direction === 'down');
  if (first === undefined) {
    return {
      verdict: restingOn({ claim, verdict: 'not measured in this run', figure: 'the first frame after the 101 response is not all in the sample', rule }, used),
      frames,
    };
  }
  const figure =
    `The first frame the server sent is an RFC 6455 ${opcodeName(first.header.opcode)} frame: ${first.header.headerBytes} bytes of header ` +
    `for ${first.header.payloadBytes} bytes of payload; hixie-76 would have spent ${HIXIE_FRAMING_BYTES}.`;
  const evidence = [
    `The frame is the first after the 101 response in the capture of ${code(sample.sample.runId)} (measured).`,
    'hixie-76 is draft-hixie-thewebsocketprotocol-76, the obsolete draft the textbook shows.',
  ];
  return { verdict: restingOn({ claim, verdict: 'contradicted', figure, evidence, rule }, used), frames };
}
