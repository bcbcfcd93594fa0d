import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Results } from '../bench/result.ts';
import { framingClaim } from '../scripts/report/framing-claim.ts';
import { TEXTBOOK_ACCEPT, handshakeClaim } from '../scripts/report/handshake-claim.ts';
import { annotateFrame, hixieFrameHex, parseFrameHeader } from '../scripts/report/websocket-frame.ts';
import { renderMarkdown } from '../scripts/report/render.ts';

const q3 = JSON.parse(readFileSync(new URL('./fixtures/q3-results.json', import.meta.url), 'utf8')) as Results;

describe('report: WebSocket frames annotated', () => {
  it('names the fields of RFC 6455\'s unmasked "Hello" (section 5.7)', () => {
    const fields = annotateFrame(Uint8Array.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    assert.ok(fields !== undefined);
    assert.deepEqual(
      fields.map((field) => field.hex),
      ['81', '05', '48 65 6c 6c 6f'],
    );
    assert.match(fields[0]!.value, /FIN=1 .*RSV1=0 RSV2=0 RSV3=0, opcode 1 \(text\)/);
    assert.match(fields[1]!.value, /MASK=0 .*payload length 5$/);
    assert.equal(fields[2]!.value, '"Hello"');
  });

  it('names the fields of RFC 6455\'s masked "Hello" and unmasks it', () => {
    const fields = annotateFrame(Uint8Array.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
    assert.ok(fields !== undefined);
    assert.match(fields[0]!.value, /FIN=1 .*opcode 1 \(text\)/);
    assert.match(fields[1]!.value, /MASK=1 .*payload length 5$/);
    assert.equal(fields[2]!.field, 'masking key');
    assert.equal(fields[2]!.hex, '37 fa 21 3d');
    assert.deepEqual([fields[3]!.from, fields[3]!.to, fields[3]!.value], [6, 10, 'unmasked: "Hello"']);
  });

  it('reads the 16-bit and 64-bit extended lengths', () => {
    // RFC 6455 §5.7: a 256-byte binary message in one unmasked frame, and a 64 KiB one.
    assert.equal(parseFrameHeader(Uint8Array.from([0x82, 0x7e, 0x01, 0x00]))?.payloadBytes, 256);
    const header64 = parseFrameHeader(Uint8Array.from([0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]));
    assert.deepEqual([header64?.payloadBytes, header64?.headerBytes, header64?.opcode], [65536, 10, 2]);
    const fields = annotateFrame(Uint8Array.from([0x82, 0x7e, 0x01, 0x00]));
    assert.equal(fields?.[2]?.field, 'extended payload length (16-bit)');
    assert.equal(fields?.[2]?.value, 'payload length 256');
    assert.equal(parseFrameHeader(Uint8Array.from([0x82, 0x7e, 0x01])), undefined, 'a cut header is not a header');
  });

  it('frames the same text the hixie-76 way: 0x00, the text, 0xFF', () => {
    assert.equal(hixieFrameHex(Buffer.from('Hello'), 5), '00 48 65 6c 6c 6f ff');
    assert.equal(hixieFrameHex(Buffer.from('He'), 5), '00 48 65 … ff');
  });

  it('annotates the first frames of the run on the wire', () => {
    const { verdict, frames } = framingClaim(q3);
    assert.equal(verdict.verdict, 'contradicted');
    const [down, up] = frames;
    // down: 81 7e 04 0b = FIN, text, unmasked, 16-bit length 1035 ("Received:  1 x…").
    assert.deepEqual([down?.direction, down?.header.payloadBytes, down?.header.headerBytes, down?.header.masked], ['down', 1035, 4, false]);
    // up: 81 fe 04 00, key 87 32 48 ce = FIN, text, masked, 16-bit length 1024.
    assert.deepEqual([up?.direction, up?.header.payloadBytes, up?.header.headerBytes, up?.fields[3]?.hex], ['up', 1024, 8, '87 32 48 ce']);
    assert.equal(up?.fields[4]?.value, 'unmasked: "1 xxxxxxxxxxxxxx"');
  });
});

describe('report: handshake claim', () => {
  it("recomputes the textbook's accept value and checks the live upgrade", () => {
    const claim = handshakeClaim(q3);
    assert.equal(claim.textbook.accept, 'rE91AJhfC+6JdVcVXOGJEADEJdQ=');
    assert.equal(claim.textbook.accept, TEXTBOOK_ACCEPT);
    assert.equal(claim.verdict.verdict, 'supported');
    assert.ok(typeof claim.live !== 'string');
    assert.deepEqual([claim.live.steps.key, claim.live.acceptOnWire, claim.live.matches], ['cBeHjWXCTkppNsoaOya6Fw==', 'vjYIHJB03ZDP+TmUlx04tCRYKeo=', true]);
  });

  it('says the live check was not made when the run captured no upgrade', () => {
    const withoutSample = { ...q3, samples: q3.samples.filter((sample) => sample.transport !== 'websocket') };
    const claim = handshakeClaim(withoutSample);
    assert.equal(claim.live, 'no WebSocket wire sample in this run');
    assert.equal(claim.verdict.verdict, 'supported by the computation; the live check was not made');
    assert.match(claim.verdict.figure, /the live check was not made\.$/);
    assert.match(claim.verdict.evidence?.join(' ') ?? '', /Live upgrade: the live check was not made \(no WebSocket wire sample in this run\)/);
    const cut = structuredClone(q3);
    const sample = cut.samples.find((candidate) => candidate.transport === 'websocket')!;
    sample.down = Buffer.from('HTTP/1.1 101 Swi', 'latin1').toString('base64');
    assert.equal(handshakeClaim(cut).verdict.verdict, 'supported by the computation; the live check was not made');
    assert.match(renderMarkdown(withoutSample), /\| 5 \| The handshake example[^\n]*\| \*\*supported by the computation; the live check was not made\*\* \|/);
  });

  it('is contradicted by an upgrade whose accept value is wrong', () => {
    const tampered = structuredClone(q3);
    const sample = tampered.samples[0]!;
    sample.down = Buffer.from(Buffer.from(sample.down, 'base64').toString('latin1').replace('vjYIHJB03ZDP', 'AAAAAAAAAAAA'), 'latin1').toString('base64');
    const claim = handshakeClaim(tampered);
    assert.equal(claim.verdict.verdict, 'contradicted');
    assert.ok(typeof claim.live !== 'string' && !claim.live.matches);
  });
});
