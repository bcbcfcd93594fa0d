/** The TCP server's bad input: each refused with an error frame, the connection goes on. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TcpFrameDecoder, encodeTcpFrame, TCP_HEADER_BYTES } from '../servers/tcp-framing.ts';
import { withServer, waitFor } from './helpers.ts';

describe('tcp server', () => {
  it('answers a bad control request and bad UTF-8 with error frames, then echoes', { timeout: 30_000 }, async () => {
    await withServer('tcp', [], async (server) => {
      const socket = net.connect(server.port, '127.0.0.1');
      const decoder = new TcpFrameDecoder(1 << 20);
      const frames: string[] = [];
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.push(chunk)) if (frame.kind !== 'too-large') frames.push(`${frame.kind} ${frame.payload.toString()}`);
      });
      socket.write(encodeTcpFrame('{"op":"push","ratePerSecond":0}', true));
      const badUtf8 = Buffer.alloc(TCP_HEADER_BYTES + 2);
      badUtf8.writeUInt32BE(2, 0);
      badUtf8.set([0xc3, 0x28], TCP_HEADER_BYTES);
      socket.write(badUtf8);
      socket.write(encodeTcpFrame('fine'));
      try {
        await waitFor(() => frames.length >= 3, { what: 'two error frames and an echo' });
      } finally {
        socket.destroy();
      }
      assert.match(frames[0] ?? '', /^control \{"code":"bad-request","error":"ratePerSecond must be/);
      assert.match(frames[1] ?? '', /^control \{"code":"bad-request","error":"the message is not valid UTF-8 text"\}$/);
      assert.equal(frames[2], 'message Received:  fine');
    });
  });

  it('splits a byte stream into frames wherever the chunks break', () => {
    const stream = Buffer.concat([encodeTcpFrame('héllo'), encodeTcpFrame('{"op":"broadcast","sizeBytes":1}', true), encodeTcpFrame('')]);
    const decoder = new TcpFrameDecoder(100);
    const frames = [...stream].flatMap((byte) => decoder.push(Buffer.from([byte])));
    assert.deepEqual(
      frames.map((frame) => (frame.kind === 'too-large' ? frame.kind : `${frame.kind}:${frame.payload.toString()}`)),
      ['message:héllo', 'control:{"op":"broadcast","sizeBytes":1}', 'message:'],
    );
  });
});
