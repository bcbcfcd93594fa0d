/** --cookie-bytes: every HTTP request of the bench's clients carries a cookie of that many bytes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { cookieLine } from '../bench/clients/http-connection.ts';
import { HttpSession } from '../bench/clients/http-session.ts';
import { newClientWire } from '../bench/clients/transport-client.ts';
import { parseBenchArgs } from '../bench/cli.ts';

/** A server that answers every request 200 with an empty poll and keeps each request's head. */
async function headServer(): Promise<{ port: number; heads: string[]; close(): Promise<void> }> {
  const heads: string[] = [];
  const server = net.createServer((socket) => {
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
        heads.push(pending.slice(0, end + 4));
        pending = pending.slice(end + 4);
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{"messages":[]}');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return { port, heads, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a cookie on every request', () => {
  it('is a Cookie line whose value is exactly the bytes asked for', () => {
    for (const bytes of [1, 8, 100, 1000]) {
      const line = cookieLine(bytes);
      assert.match(line, /^Cookie: [^\r\n]+\r\n$/);
      assert.equal(Buffer.byteLength(line.slice('Cookie: '.length, -2)), bytes, String(bytes));
    }
    assert.equal(cookieLine(0), '');
    assert.equal(cookieLine(undefined), '');
  });

  it("rides on every request a session makes, and the accountant counts it in the poll's headers", async () => {
    const server = await headServer();
    const sizes = [0, 100];
    const headerBytes: number[] = [];
    try {
      for (const cookieBytes of sizes) {
        const options = { host: '127.0.0.1', port: server.port, pollIntervalMs: 0, perMessageDeflate: false, cookieBytes };
        const wire = newClientWire(options);
        const session = new HttpSession(options, wire);
        session.clientId = 'c1';
        for (let i = 0; i < 3; i++) assert.equal((await session.fetchBytes('GET', session.path('/messages', { after: 0 }))).status, 200);
        await session.close();
        headerBytes.push(wire.bytes.up.headers);
      }
      const withCookie = server.heads.slice(3);
      assert.equal(withCookie.length, 3);
      for (const head of withCookie) assert.match(head, /\r\nCookie: session=c{92}\r\n/);
      assert.ok(server.heads.slice(0, 3).every((head) => !head.includes('Cookie')));
      assert.equal(headerBytes[1]! - headerBytes[0]!, 3 * (100 + 'Cookie: \r\n'.length), 'each of 3 polls carries 110 more header bytes');
    } finally {
      await server.close();
    }
  });

  it('is set on the command line, and refused when it is no size', () => {
    const options = parseBenchArgs(['--transports', 'short-poll', '--cookie-bytes', '1000']);
    assert.ok(options !== 'help');
    assert.equal(options.overrides.values?.cookieBytes, 1000);
    assert.throws(() => parseBenchArgs(['--cookie-bytes', 'lots']), /--cookie-bytes/);
  });
});
