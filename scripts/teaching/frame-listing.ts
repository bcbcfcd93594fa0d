/**
 * One captured WebSocket frame as a reader sees it: field by field (scripts/report/websocket-frame.ts
 * takes it apart), then the same message as the obsolete hixie-76 draft framed it.
 */
import { HIXIE_FRAMING_BYTES, annotateFrame, framePayloadPreview, hixieFrameHex, type FrameHeader } from '../report/websocket-frame.ts';

/** Payload bytes shown of each frame. */
const PREVIEW_BYTES = 16;

export function frameListing(bytes: Buffer, offset: number, header: FrameHeader, title: string): string {
  const fields = annotateFrame(bytes, offset, PREVIEW_BYTES) ?? [];
  const hexWidth = Math.max(...fields.map((field) => field.hex.length));
  const rows = fields.map((field) => {
    const at = field.from === field.to ? `byte ${field.from}` : `bytes ${field.from}-${field.to}`;
    return `  ${at.padEnd(12)} ${field.hex.padEnd(hexWidth)}  ${field.field}: ${field.value}`;
  });
  const payloadStart = framePayloadPreview(bytes, offset, header, PREVIEW_BYTES);
  const frameBytes = header.headerBytes + header.payloadBytes;
  return [
    `${title}: ${frameBytes} bytes on the wire = ${header.headerBytes} of header + ${header.payloadBytes} of payload`,
    ...rows,
    `  hixie-76 draft: ${hixieFrameHex(payloadStart, header.payloadBytes)} = ${HIXIE_FRAMING_BYTES + header.payloadBytes} bytes (${HIXIE_FRAMING_BYTES} of framing)`,
  ].join('\n');
}
