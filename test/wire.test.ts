import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionAccountant, addWireBytes, emptyWireBytes, tapSocket, type WireBytes } from '../bench/wire.ts';
import {
  account,
  accountAnyChunking,
  assertBalanced,
  bytesOf,
  chunked,
  cut,
  latin1Bytes,
  split,
  tcpFrame,
  tcpHeader,
  utf8Bytes,
  type Step,
} from './wire-helpers.ts';

// ---------------------------------------------------------------------------------------------
// Helpers: building frames (feeding a conversation and checking the invariant: wire-helpers.ts).
// ---------------------------------------------------------------------------------------------

const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/** An RFC 6455 frame, built by hand; client frames are masked. */
function wsFrame(opcode: number, payload: Buffer | string, options: { masked: boolean; fin?: boolean }): Buffer {
  const data = bytesOf(payload);
  const extendedBytes = data.length < 126 ? 0 : data.length < 65_536 ? 2 : 8;
  const maskKey = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const header = Buffer.alloc(2 + extendedBytes + (options.masked ? maskKey.length : 0));
  header[0] = ((options.fin ?? true) ? 0x80 : 0) | opcode;
  header[1] = (options.masked ? 0x80 : 0) | (extendedBytes === 0 ? data.length : extendedBytes === 2 ? 126 : 127);
  if (extendedBytes === 2) header.writeUInt16BE(data.length, 2);
  if (extendedBytes === 8) header.writeBigUInt64BE(BigInt(data.length), 2);
  if (!options.masked) return Buffer.concat([header, data]);
  maskKey.copy(header, header.length - maskKey.length);
  const masked = Buffer.from(data.map((byte, index) => byte ^ (maskKey[index % 4] ?? 0)));
  return Buffer.concat([header, masked]);
}

const UPGRADE_REQUEST =
  'GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const UPGRADE_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' + 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

// ---------------------------------------------------------------------------------------------
// Known answers from hand-written bytes.
// ---------------------------------------------------------------------------------------------

test('wire bytes: emptyWireBytes is all zero and addWireBytes sums every field', () => {
  const into = emptyWireBytes();
  assert.deepEqual(into, { up: split({}), down: split({}) });
  addWireBytes(into, { up: split({ payload: 1, headers: 2 }), down: split({ framing: 3, setup: 4, tls: 5 }) });
  addWireBytes(into, { up: split({ payload: 10, tls: 6 }), down: split({ setup: 40 }) });
  assert.deepEqual(into, { up: split({ payload: 11, headers: 2, tls: 6 }), down: split({ framing: 3, setup: 44, tls: 5 }) });
});

test('websocket: a text message costs 2/4/10 framing bytes down and 6/8/14 up, by length', () => {
  const cases = [
    { payloadBytes: 10, downFramingBytes: 2, upFramingBytes: 6 },
    { payloadBytes: 125, downFramingBytes: 2, upFramingBytes: 6 },
    { payloadBytes: 126, downFramingBytes: 4, upFramingBytes: 8 },
    { payloadBytes: 65_535, downFramingBytes: 4, upFramingBytes: 8 },
    { payloadBytes: 65_536, downFramingBytes: 10, upFramingBytes: 14 },
  ];
  for (const { payloadBytes, downFramingBytes, upFramingBytes } of cases) {
    const text = 'x'.repeat(payloadBytes);
    const steps: Step[] = [
      ['up', UPGRADE_REQUEST],
      // The server's first frame comes in the same chunk as the 101.
      ['down', Buffer.concat([Buffer.from(UPGRADE_RESPONSE), wsFrame(OPCODE_TEXT, text, { masked: false })])],
      ['up', wsFrame(OPCODE_TEXT, text, { masked: true })],
    ];
    const wire = payloadBytes > 1000 ? account('websocket', steps) : accountAnyChunking('websocket', steps);
    assert.deepEqual(wire.down, split({ setup: UPGRADE_RESPONSE.length, framing: downFramingBytes, payload: payloadBytes }), `${payloadBytes} down`);
    assert.deepEqual(wire.up, split({ setup: UPGRADE_REQUEST.length, framing: upFramingBytes, payload: payloadBytes }), `${payloadBytes} up`);
  }
});

test('websocket: a 65,536-byte message fed one byte at a time', () => {
  const text = 'y'.repeat(65_536);
  const wire = account(
    'websocket',
    [
      ['up', UPGRADE_REQUEST],
      ['down', UPGRADE_RESPONSE],
      ['down', wsFrame(OPCODE_TEXT, text, { masked: false })],
    ],
    1,
  );
  assert.deepEqual(wire.down, split({ setup: UPGRADE_RESPONSE.length, framing: 10, payload: 65_536 }));
});

test('websocket: binary is setup up and payload down, control frames (close, ping, pong) are setup whole, continuations follow their message', () => {
  const controlRequest = '{"op":"push","ratePerSecond":10,"sizeBytes":32,"count":3}';
  const wire = accountAnyChunking('websocket', [
    ['up', UPGRADE_REQUEST],
    ['down', UPGRADE_RESPONSE],
    ['up', wsFrame(OPCODE_BINARY, controlRequest, { masked: true })],
    ['down', wsFrame(OPCODE_BINARY, 'binary down', { masked: false })],
    // A text message in two fragments with a ping between them.
    ['down', wsFrame(OPCODE_TEXT, 'héllo ', { masked: false, fin: false })],
    ['down', wsFrame(OPCODE_PING, 'are you there', { masked: false })],
    ['down', wsFrame(OPCODE_CONTINUATION, 'wörld', { masked: false })],
    ['up', wsFrame(OPCODE_PONG, 'are you there', { masked: true })],
    // A binary message in two fragments going up: setup, both parts.
    ['up', wsFrame(OPCODE_BINARY, 'abc', { masked: true, fin: false })],
    ['up', wsFrame(OPCODE_CONTINUATION, 'defg', { masked: true })],
    ['up', wsFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]), { masked: true })],
    ['down', wsFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]), { masked: false })],
  ]);
  assert.deepEqual(
    wire.up,
    // every frame going up is a control request or a control frame: setup, headers included
    split({ setup: UPGRADE_REQUEST.length + (6 + controlRequest.length) + (6 + 13) + (6 + 3) + (6 + 4) + (6 + 2) }),
  );
  assert.deepEqual(
    wire.down,
    split({
      setup: UPGRADE_RESPONSE.length + (2 + 13) + (2 + 2),
      payload: 'binary down'.length + utf8Bytes('héllo ') + utf8Bytes('wörld'),
      // a message's framing is its data frames' headers: 2 bytes each, and nothing else
      framing: 2 + 2 + 2,
    }),
  );
});

test('http: a short-poll exchange by hand: heads are headers, the message and the data are payload', () => {
  const postHead = 'POST /messages?client=x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n';
  const acceptedHead = 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n';
  const pollHead = 'GET /messages?client=x&after=0 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n';
  const data = 'Received:  hello "é"';
  const pollBody = JSON.stringify({ messages: [{ id: 1, data }] });
  const pollResponseHead = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${utf8Bytes(pollBody)}\r\n\r\n`;
  const expectedUp = split({ headers: postHead.length + pollHead.length, payload: 5 });
  const expectedDown = split({
    headers: acceptedHead.length + pollResponseHead.length,
    payload: utf8Bytes(data),
    framing: utf8Bytes(pollBody) - utf8Bytes(data),
  });

  const inTurn = accountAnyChunking('http', [
    ['up', `${postHead}hello`],
    ['down', acceptedHead],
    ['up', pollHead],
    ['down', pollResponseHead + pollBody],
  ]);
  assert.deepEqual(inTurn, { up: expectedUp, down: expectedDown });

  // Both requests written back to back before any response: the same split.
  const backToBack = accountAnyChunking('http', [
    ['up', `${postHead}hello${pollHead}`],
    ['down', acceptedHead + pollResponseHead + pollBody],
  ]);
  assert.deepEqual(backToBack, { up: expectedUp, down: expectedDown });
});

test('http: error bodies and bodies that are no poll answer are headers', () => {
  const postHead = 'POST /messages?client=gone HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n';
  const errorBody = '{"error":"unknown client id","code":"unknown-client"}';
  const errorResponse = `HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${errorBody.length}\r\n\r\n${errorBody}`;
  const pollHead = 'GET /messages?client=x HTTP/1.1\r\nHost: h\r\n\r\n';
  const notAPollBody = '{"notMessages":[]}';
  const notAPollResponse = `HTTP/1.1 200 OK\r\nContent-Length: ${notAPollBody.length}\r\n\r\n${notAPollBody}`;
  const wire = accountAnyChunking('http', [
    ['up', `${postHead}hi`],
    ['down', errorResponse],
    ['up', pollHead],
    ['down', errorResponse],
    ['up', pollHead],
    ['down', notAPollResponse],
  ]);
  assert.deepEqual(wire.up, split({ headers: postHead.length + 2 * pollHead.length, payload: 2 }));
  assert.deepEqual(wire.down, split({ headers: 2 * errorResponse.length + notAPollResponse.length }));
});

test('http: an SSE stream in chunked encoding: payload is exactly the data, heads are setup', () => {
  const streamRequest = 'GET /events?client=x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: text/event-stream\r\n\r\n';
  const streamResponseHead = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n';
  const multiLine = 'first line\nsecond line';
  const multiByte = 'héllo ✓ 😀';
  const events = Buffer.from(`id: 1\ndata: first line\ndata: second line\n\n:\n\nid: 2\ndata: ${multiByte}\n\n`);
  // Chunk boundaries inside a data line, inside the heartbeat and inside a multi-byte character.
  const emojiOffset = events.indexOf('😀');
  const { body, framingBytes } = chunked(cut(events, [14, 38, emojiOffset + 2]));
  const expectedDown = split({
    setup: streamResponseHead.length,
    payload: utf8Bytes(multiLine) + utf8Bytes(multiByte),
    framing: framingBytes + events.length - utf8Bytes(multiLine) - utf8Bytes(multiByte),
  });
  const steps: Step[] = [
    ['up', streamRequest],
    ['down', Buffer.concat([Buffer.from(streamResponseHead), body])],
  ];
  const wire = accountAnyChunking('http', steps);
  assert.deepEqual(wire, { up: split({ setup: streamRequest.length }), down: expectedDown });
  assert.deepEqual(account('http', steps, 1), wire);
});

test('http: SSE lines may end in CRLF, LF or CR; an unfinished event stays framing', () => {
  const streamRequest = 'GET /events HTTP/1.1\r\n\r\n';
  const events = 'data:no space\r\ndata\r\n\r\nevent: ping\rdata: a\r\r: comment\n\ndata: never completed';
  const streamResponse = `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n${events}`;
  const headBytes = streamResponse.length - events.length;
  const wire = accountAnyChunking('http', [
    ['up', streamRequest],
    ['down', streamResponse],
  ]);
  // "no space\n" (the data line without value adds an empty line), then "a".
  const payloadBytes = 'no space\n'.length + 'a'.length;
  assert.deepEqual(wire.down, split({ setup: headBytes, payload: payloadBytes, framing: events.length - payloadBytes }));
});

test('http: setup routes, chunked request bodies, 100 Continue, HEAD, 204 and bodies until close', () => {
  const register = 'POST /clients HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n';
  const registered = 'HTTP/1.1 201 Created\r\nContent-Length: 26\r\n\r\n{"clientId":"0123456789a"}';
  const push = 'POST /push?client=x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n';
  const pushBody = chunked([Buffer.from('{"ratePerSecond":1,'), Buffer.from('"sizeBytes":8,"count":1}')]).body;
  const accepted = 'HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n';
  const message = 'POST /messages?client=x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n';
  const messageBody = chunked([Buffer.from('hel'), Buffer.from('lo')]);
  const continueHead = 'HTTP/1.1 100 Continue\r\n\r\n';
  const head = 'HEAD /other HTTP/1.1\r\n\r\n';
  const headResponse = 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n';
  const unregister = 'DELETE /clients?client=x HTTP/1.1\r\n\r\n';
  const noContent = 'HTTP/1.1 204 No Content\r\n\r\n';
  const other = 'GET /other HTTP/1.1\r\n\r\n';
  const untilCloseHead = 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n';
  const untilCloseBody = 'everything until the connection closes';
  const wire = accountAnyChunking('http', [
    ['up', register],
    ['down', registered],
    ['up', Buffer.concat([Buffer.from(push), pushBody])],
    ['down', accepted],
    ['up', message],
    ['down', continueHead],
    ['up', messageBody.body],
    ['down', accepted],
    ['up', head],
    ['down', headResponse],
    ['up', unregister],
    ['down', noContent],
    ['up', other],
    ['down', untilCloseHead + untilCloseBody],
  ]);
  assert.deepEqual(
    wire.up,
    split({
      setup: register.length + push.length + pushBody.length + unregister.length,
      headers: message.length + head.length + other.length,
      framing: messageBody.framingBytes,
      payload: 'hello'.length,
    }),
  );
  assert.deepEqual(
    wire.down,
    split({
      setup: registered.length + accepted.length + noContent.length,
      headers: continueHead.length + accepted.length + headResponse.length + untilCloseHead.length,
      payload: untilCloseBody.length,
    }),
  );
});

test('tcp: a message frame header is framing and its payload payload; a control frame is setup whole', () => {
  const control = '{"op":"push","ratePerSecond":100,"sizeBytes":16,"count":2}';
  const error = '{"code":"bad-request","error":"count must be an integer"}';
  const wire = accountAnyChunking('tcp', [
    ['up', Buffer.concat([tcpFrame(control, true), tcpFrame('héllo'), tcpFrame('')])],
    ['down', tcpFrame('Received:  héllo')],
    ['down', Buffer.concat([tcpFrame(error, true), tcpFrame('push 1 1764102011123.456 xx')])],
  ]);
  assert.deepEqual(wire.up, split({ framing: 2 * 4, setup: 4 + control.length, payload: utf8Bytes('héllo') }));
  assert.deepEqual(
    wire.down,
    split({ framing: 2 * 4, setup: 4 + error.length, payload: utf8Bytes('Received:  héllo') + 'push 1 1764102011123.456 xx'.length }),
  );
});

// ---------------------------------------------------------------------------------------------
// Real sockets: what the tap counts is what the socket carried.
// ---------------------------------------------------------------------------------------------

async function listening(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function closed(server: net.Server): Promise<void> {
  await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
}

/** The socket's own counters, against what the accountant saw and what it split. */
function assertSocketCounts(accountant: ConnectionAccountant, socket: net.Socket, wire: WireBytes): void {
  const counted = { up: socket.bytesWritten, down: socket.bytesRead };
  assert.deepEqual(accountant.seen, counted);
  assertBalanced(wire, counted);
}

test('tapSocket: a loopback TCP connection: every byte written (strings with their encoding, buffers, corked batches) and read', async () => {
  const control = '{"op":"broadcast","sizeBytes":64}';
  const reply = 'Received:  café';
  const error = '{"code":"bad-request","error":"nope"}';
  const server = net.createServer((socket) => {
    socket.resume();
    socket.on('end', () => socket.end(Buffer.concat([tcpFrame(reply), tcpFrame(error, true)])));
  });
  const port = await listening(server);

  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant('tcp', wire);
  const socket = net.connect(port, '127.0.0.1');
  tapSocket(socket, accountant);
  let callbacks = 0;
  const counted = (): void => {
    callbacks += 1;
  };
  // Written while connecting: the later writes are buffered and go out as one _writev batch.
  socket.write(tcpHeader(utf8Bytes(control), true), counted);
  socket.write(control, 'utf8', counted);
  socket.write(tcpHeader(4), counted); // 'café' is 4 bytes in latin1 (5 in UTF-8)
  socket.write('café', 'latin1', counted);
  await once(socket, 'connect');
  socket.cork();
  socket.write(tcpHeader(5), counted);
  socket.write(Buffer.from('hello'), counted);
  process.nextTick(() => socket.uncork());
  socket.end(tcpFrame('bye'), counted);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  await once(socket, 'close');
  await closed(server);

  assert.equal(callbacks, 7);
  assert.deepEqual(Buffer.concat(received), Buffer.concat([tcpFrame(reply), tcpFrame(error, true)]));
  assertSocketCounts(accountant, socket, wire);
  assert.deepEqual(wire.up, split({ framing: 3 * 4, setup: 4 + control.length, payload: latin1Bytes('café') + 'hello'.length + 'bye'.length }));
  assert.deepEqual(wire.down, split({ framing: 4, setup: 4 + error.length, payload: utf8Bytes(reply) }));
});

test('tapSocket: a write past the high-water mark still says so (false, then drain), and every byte is counted', async () => {
  const frame = tcpFrame('z'.repeat(64 * 1024));
  const arrived: Buffer[] = [];
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => arrived.push(chunk));
    socket.on('end', () => socket.end());
  });
  const port = await listening(server);
  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant('tcp', wire);
  const socket = net.connect(port, '127.0.0.1');
  tapSocket(socket, accountant);
  assert.ok(frame.length > socket.writableHighWaterMark);
  assert.equal(socket.write(frame.subarray(0, 4)), true, 'four bytes are under the high-water mark');
  assert.equal(socket.write(frame.subarray(4)), false, '64 KiB are over it: the caller is told to wait');
  await once(socket, 'drain');
  socket.end();
  await once(socket, 'close');
  await closed(server);
  assert.deepEqual(Buffer.concat(arrived), frame, 'the server got every byte, in order');
  assertSocketCounts(accountant, socket, wire);
  assert.deepEqual(wire.up, split({ framing: 4, payload: 64 * 1024 }));
});

/** An agent whose one keep-alive connection is tapped. */
class TappedAgent extends http.Agent {
  readonly tappedSockets: net.Socket[] = [];

  constructor(
    private readonly port: number,
    private readonly accountant: ConnectionAccountant,
  ) {
    super({ keepAlive: true, maxSockets: 1 });
  }

  override createConnection(): net.Socket {
    const socket = net.connect(this.port, '127.0.0.1');
    tapSocket(socket, this.accountant);
    this.tappedSockets.push(socket);
    return socket;
  }
}

function request(agent: http.Agent, port: number, method: string, path: string, bodyPieces: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const piece of bodyPieces) req.write(piece);
    req.end();
  });
}

test('tapSocket: node’s HTTP client on one keep-alive connection: message, poll and SSE stream', async () => {
  const data = 'Received:  héllo';
  const pollBody = JSON.stringify({ messages: [{ id: 1, data }] });
  const sseWrites = ['id: 2\ndata: two\ndata: lines\n\n', ':\n\n', 'id: 3\ndata: ✓\n\n'];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') {
        res.writeHead(202, { 'Content-Length': 0 }).end();
      } else if (req.url?.startsWith('/messages') === true) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(pollBody) }).end(pollBody);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        for (const piece of sseWrites) res.write(piece);
        res.end();
      }
    });
  });
  const port = await listening(server);
  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant('http', wire);
  const agent = new TappedAgent(port, accountant);

  // Two body writes without a length: node sends the message in chunked encoding.
  await request(agent, port, 'POST', '/messages?client=x', ['hél', 'lo']);
  assert.equal(await request(agent, port, 'GET', '/messages?client=x&after=0', []), pollBody);
  assert.equal(await request(agent, port, 'GET', '/events?client=x', []), sseWrites.join(''));
  const [socket] = agent.tappedSockets;
  assert.ok(socket !== undefined && agent.tappedSockets.length === 1, 'one connection for all three exchanges');
  const socketClosed = socket.closed ? Promise.resolve() : once(socket, 'close');
  server.closeAllConnections();
  agent.destroy();
  await socketClosed;
  await closed(server);

  assertSocketCounts(accountant, socket, wire);
  const messageFramingBytes = chunked([Buffer.from('hél'), Buffer.from('lo')]).framingBytes;
  assert.equal(wire.up.payload, utf8Bytes('héllo'));
  assert.equal(wire.up.framing, messageFramingBytes);
  assert.ok(wire.up.headers > 0 && wire.up.setup > 0, 'message and poll heads are headers, the stream request setup');
  const ssePayloadBytes = 'two\nlines'.length + utf8Bytes('✓');
  const sse = chunked(sseWrites.map((piece) => Buffer.from(piece)));
  assert.equal(wire.down.payload, utf8Bytes(data) + ssePayloadBytes);
  assert.equal(wire.down.framing, utf8Bytes(pollBody) - utf8Bytes(data) + sse.body.length - ssePayloadBytes);
  assert.ok(wire.down.headers > 0 && wire.down.setup > 0, 'message and poll heads are headers, the stream head setup');
});

test('tapSocket: a ws client: handshake is setup, frames are split, even those that came with the 101', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await once(wss, 'listening');
  const address = wss.address();
  assert.ok(typeof address === 'object' && address !== null);
  wss.on('connection', (ws) => {
    ws.send('welcome'); // goes out right behind the 101
    ws.on('message', (message, isBinary) => {
      if (!isBinary) ws.send(message, { binary: false });
    });
  });

  const wire = emptyWireBytes();
  const accountant = new ConnectionAccountant('websocket', wire);
  let socket: net.Socket | undefined;
  const createConnection = ((): net.Socket => {
    socket = net.connect(address.port, '127.0.0.1');
    tapSocket(socket, accountant);
    return socket;
  }) as unknown as typeof net.createConnection;
  const client = new WebSocket(`ws://127.0.0.1:${address.port}/ws`, { perMessageDeflate: false, createConnection });
  const welcome = once(client, 'message');
  await once(client, 'open');
  await welcome;
  client.send(Buffer.from('{"op":"x"}'), { binary: true });
  const echo = once(client, 'message');
  client.send('hello world');
  await echo;
  client.close(1000);
  await once(client, 'close');
  assert.ok(socket !== undefined);
  if (!socket.closed) await once(socket, 'close');
  await new Promise<void>((resolve) => wss.close(() => resolve()));

  assertSocketCounts(accountant, socket, wire);
  // Up: the text frame's 6 bytes of header are framing; the binary request and the close (6+2) are setup.
  // Down: welcome 2 + echo 2 are framing; the close (2+2) is setup.
  assert.equal(wire.up.payload, 'hello world'.length);
  assert.equal(wire.up.framing, 6);
  assert.equal(wire.up.headers, 0);
  assert.ok(wire.up.setup > 'GET /ws HTTP/1.1\r\n\r\n'.length + '{"op":"x"}'.length, 'the upgrade request and the binary message');
  assert.ok(wire.down.setup >= 'HTTP/1.1 101 Switching Protocols\r\n\r\n'.length, 'the 101 response');
  assert.equal(wire.down.payload, 'welcome'.length + 'hello world'.length);
  assert.equal(wire.down.framing, 2 + 2);
  assert.equal(wire.down.headers, 0);
});

test('header series: the bytes of each request and response head counted as headers, in order, registration heads (setup) left out', () => {
  const series = { requests: [] as number[], responses: [] as number[] };
  const accountant = new ConnectionAccountant('http', emptyWireBytes(), { headerSeries: series });
  const register = 'POST /clients HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n';
  const registered = 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"clientId":"c"}';
  const poll = (n: number): string => `GET /messages?client=c&after=${n} HTTP/1.1\r\nHost: a\r\n\r\n`;
  const empty = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"messages":[]}';
  accountant.written(Buffer.from(register));
  accountant.read(Buffer.from(registered));
  for (const n of [0, 10]) {
    accountant.written(Buffer.from(poll(n)));
    accountant.read(Buffer.from(empty));
  }
  const emptyHead = empty.length - '{"messages":[]}'.length;
  assert.deepEqual(series.requests, [poll(0).length, poll(10).length]);
  assert.deepEqual(series.responses, [emptyHead, emptyHead]);
});
