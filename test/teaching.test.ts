import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What `npm run <script>` prints: the same file, run by node with tsx. */
async function output(script: string, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, timeout: 30_000 });
  return stdout;
}

describe('npm run handshake', () => {
  it("walks through the textbook's key and shows a live 101 with the same accept value", async () => {
    const text = await output('scripts/handshake.ts');
    assert.match(text, /1\. .*\n {3}f7cb4ezEAl6C3wRaU6JORA==\n/);
    assert.match(text, /2\. .*\n {3}f7cb4ezEAl6C3wRaU6JORA==258EAFA5-E914-47DA-95CA-C5AB0DC85B11\n/);
    assert.match(text, /3\. .*\n {3}ac4f7500985f0bee897557155ce1891000c425d4\n/);
    assert.match(text, /4\. .*\n {3}rE91AJhfC\+6JdVcVXOGJEADEJdQ=\n/);
    assert.match(text, /> Sec-WebSocket-Key: f7cb4ezEAl6C3wRaU6JORA==\\r\\n/);
    assert.match(text, /< HTTP\/1\.1 101 Switching Protocols\\r\\n/);
    assert.match(text, /< Sec-WebSocket-Accept: rE91AJhfC\+6JdVcVXOGJEADEJdQ=\\r\\n/);
    assert.match(text, /step 4 exactly/);
  });

  it('takes another key, and a fresh one for the live upgrade when it is not a valid key', async () => {
    const text = await output('scripts/handshake.ts', ['dGhlIHNhbXBsZSBub25jZQ==']);
    // RFC 6455 §1.3's example.
    assert.match(text, /s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
    assert.match(await output('scripts/handshake.ts', ['not-a-key']), /is not 16 bytes in base64[^]*< HTTP\/1\.1 101 /);
  });
});

describe('npm run frames', () => {
  it('prints the frames of 5, 126 and 65,536 bytes with their length forms, and the hixie-76 framing', async () => {
    const text = await output('scripts/frames.ts');
    const up = text.split('Frame ').filter((frame) => frame.includes('client to server:'));
    assert.equal(up.length, 3);
    assert.match(up[0]!, /byte 1 +85 .*MASK=1 .*payload length 5\n/);
    assert.match(up[0]!, /masking key/);
    assert.match(up[0]!, /unmasked: "Hello"/);
    assert.match(up[0]!, /hixie-76 draft: 00 48 65 6c 6c 6f ff = 7 bytes/);
    assert.match(up[1]!, /payload length 126: a 16-bit length follows[^]*bytes 2-3 +00 7e +extended payload length \(16-bit\): payload length 126/);
    assert.match(
      up[2]!,
      /payload length 127: a 64-bit length follows[^]*bytes 2-9 +00 00 00 00 00 01 00 00 +extended payload length \(64-bit\): payload length 65536/,
    );
    assert.match(up[2]!, /hixie-76 draft: .* = 65538 bytes/);
    assert.match(text, /server to client: 18 bytes on the wire = 2 of header \+ 16 of payload/);
  });
});
