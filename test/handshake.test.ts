import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeAccept, handshakeSteps, WEBSOCKET_GUID } from '../servers/handshake.ts';

describe('handshake', () => {
  it("computes RFC 6455's example", () => {
    assert.equal(computeAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it("computes the textbook's example", () => {
    assert.equal(computeAccept('f7cb4ezEAl6C3wRaU6JORA=='), 'rE91AJhfC+6JdVcVXOGJEADEJdQ=');
  });

  it('shows each step: key + GUID, SHA-1 in hex, base64 of the digest', () => {
    const steps = handshakeSteps('dGhlIHNhbXBsZSBub25jZQ==');
    assert.equal(steps.concatenated, `dGhlIHNhbXBsZSBub25jZQ==${WEBSOCKET_GUID}`);
    assert.equal(steps.sha1Hex, 'b37a4f2cc0624f1690f64606cf385945b2bec4ea');
    assert.equal(Buffer.from(steps.sha1Hex, 'hex').toString('base64'), steps.accept);
  });
});
