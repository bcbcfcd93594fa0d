/** The byte accountant on HTTP/2, from frames built by hand: the same split whatever the chunking. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HTTP2_FLAG, HTTP2_FRAME, HTTP2_PREFACE } from '../bench/wire/http2.ts';
import { accountAnyChunking, bytesOf, split, utf8Bytes, type Step } from './wire-helpers.ts';

const FRAME_HEADER_BYTES = 9;

/** An HTTP/2 frame (RFC 9113 §4.1). */
function frame(type: number, flags: number, streamId: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const data = bytesOf(payload);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUIntBE(data.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, data]);
}

/** An HPACK string literal, no Huffman (lengths under 127). */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  assert.ok(bytes.length < 127);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** HPACK field representations (RFC 7541 §6), with static table indices under 15 or under 63. */
const hpack = {
  indexed: (index: number): Buffer => Buffer.from([0x80 | index]),
  /** A literal whose name is at `nameIndex`, added to the dynamic table. */
  withIndexing: (nameIndex: number, value: string): Buffer => Buffer.concat([Buffer.from([0x40 | nameIndex]), hpackString(value)]),
  /** A literal with a new name, not added to the table. */
  withoutIndexing: (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]),
};

// Static table indices (RFC 7541 Appendix A).
const METHOD_GET = 2;
const METHOD_POST = 3;
const PATH = 4;
const SCHEME_HTTPS = 7;
const STATUS_200 = 8;
const STATUS = 8; // the name ":status", for a literal status
const AUTHORITY = 1;
/** The first dynamic table entry. */
const DYNAMIC_1 = 62;

function requestBlock(method: number, path: Buffer): Buffer {
  return Buffer.concat([hpack.indexed(method), hpack.indexed(SCHEME_HTTPS), hpack.withIndexing(AUTHORITY, '127.0.0.1:8443'), path]);
}

function statusBlock(status: string, contentType?: string): Buffer {
  const statusField = status === '200' ? hpack.indexed(STATUS_200) : Buffer.concat([Buffer.from([0x00 | STATUS]), hpackString(status)]);
  return contentType === undefined ? statusField : Buffer.concat([statusField, hpack.withoutIndexing('content-type', contentType)]);
}

const SETTINGS_PAYLOAD = Buffer.from([0x00, 0x03, 0x00, 0x00, 0x00, 0x64]); // MAX_CONCURRENT_STREAMS 100
const WINDOW_UPDATE_PAYLOAD = Buffer.from([0x00, 0x0f, 0x00, 0x01]);

test('http2: preface, control frames, a registration, a message, a poll, an event stream and a push, split by purpose', () => {
  // stream 1: registration (setup route), its body and its answer setup
  const registerBlock = requestBlock(METHOD_POST, hpack.withIndexing(PATH, '/clients'));
  const registerBody = '{}';
  const registeredBlock = statusBlock('201', 'application/json');
  const registeredBody = '{"clientId":"0123456789a"}';
  // stream 3: a message, its DATA padded (pad length 3)
  const messageBlock = requestBlock(METHOD_POST, hpack.withIndexing(PATH, '/messages?client=x'));
  const message = 'héllo';
  const messageData = Buffer.concat([Buffer.from([3]), Buffer.from(message), Buffer.alloc(3)]);
  const acceptedBlock = statusBlock('202');
  // stream 5: a poll, its HEADERS padded and with priority, its block continued in a CONTINUATION
  const pollBlock = requestBlock(METHOD_GET, hpack.withIndexing(PATH, '/messages?client=x&after=0'));
  const pollHeadersPayload = Buffer.concat([Buffer.from([2]), Buffer.from([0x80, 0, 0, 0, 15]), pollBlock.subarray(0, 7), Buffer.alloc(2)]);
  const data = 'Received:  héllo';
  const pollBody = Buffer.from(JSON.stringify({ messages: [{ id: 1, data }] }));
  const pollAnswerBlock = statusBlock('200', 'application/json');
  // stream 7: an event stream, its events cut across DATA frames
  const streamBlock = requestBlock(METHOD_GET, hpack.withIndexing(PATH, '/events?client=x'));
  const streamAnswerBlock = statusBlock('200', 'text/event-stream');
  const events = Buffer.from('id: 1\ndata: one\n\n:\n\nid: 2\ndata: two\ndata: lines ✓\n\n');
  const eventData = 'one'.length + utf8Bytes('two\nlines ✓');
  // stream 2: pushed by the server while stream 7 is open, a request of no known purpose
  const promisedBlock = requestBlock(METHOD_GET, hpack.withIndexing(PATH, '/other'));
  const promise = Buffer.concat([Buffer.from([0, 0, 0, 2]), promisedBlock]);
  const pushedBody = 'pushed body';
  const goaway = Buffer.from([0, 0, 0, 7, 0, 0, 0, 0]);

  const steps: Step[] = [
    ['up', Buffer.concat([HTTP2_PREFACE, frame(HTTP2_FRAME.settings, 0, 0, SETTINGS_PAYLOAD), frame(HTTP2_FRAME.windowUpdate, 0, 0, WINDOW_UPDATE_PAYLOAD)])],
    ['down', Buffer.concat([frame(HTTP2_FRAME.settings, 0, 0, SETTINGS_PAYLOAD), frame(HTTP2_FRAME.settings, 0x1, 0)])],
    ['up', frame(HTTP2_FRAME.settings, 0x1, 0)],
    [
      'up',
      Buffer.concat([frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 1, registerBlock), frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream, 1, registerBody)]),
    ],
    [
      'down',
      Buffer.concat([frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 1, registeredBlock), frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream, 1, registeredBody)]),
    ],
    [
      'up',
      Buffer.concat([
        frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 3, messageBlock),
        frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream | HTTP2_FLAG.padded, 3, messageData),
      ]),
    ],
    ['down', frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders | HTTP2_FLAG.endStream, 3, acceptedBlock)],
    [
      'up',
      Buffer.concat([
        frame(HTTP2_FRAME.headers, HTTP2_FLAG.endStream | HTTP2_FLAG.padded | HTTP2_FLAG.priority, 5, pollHeadersPayload),
        frame(HTTP2_FRAME.continuation, HTTP2_FLAG.endHeaders, 5, pollBlock.subarray(7)),
      ]),
    ],
    [
      'down',
      Buffer.concat([
        frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 5, pollAnswerBlock),
        frame(HTTP2_FRAME.data, 0, 5, pollBody.subarray(0, 20)),
        frame(HTTP2_FRAME.ping, 0, 0, Buffer.alloc(8)),
        frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream, 5, pollBody.subarray(20)),
      ]),
    ],
    [
      'up',
      Buffer.concat([
        frame(HTTP2_FRAME.ping, 0x1, 0, Buffer.alloc(8)),
        frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders | HTTP2_FLAG.endStream, 7, streamBlock),
      ]),
    ],
    [
      'down',
      Buffer.concat([
        frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 7, streamAnswerBlock),
        frame(HTTP2_FRAME.data, 0, 7, events.subarray(0, 13)),
        frame(HTTP2_FRAME.pushPromise, HTTP2_FLAG.endHeaders, 7, promise),
        frame(HTTP2_FRAME.data, 0, 7, events.subarray(13, 40)),
        frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 2, statusBlock('200')),
        frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream, 2, pushedBody),
        frame(HTTP2_FRAME.data, 0, 7, events.subarray(40)),
        frame(HTTP2_FRAME.windowUpdate, 0, 0, WINDOW_UPDATE_PAYLOAD),
        frame(HTTP2_FRAME.rstStream, 0, 7, Buffer.alloc(4)),
        frame(HTTP2_FRAME.goaway, 0, 0, goaway),
      ]),
    ],
  ];
  const wire = accountAnyChunking('http2', steps);

  const frames = (count: number): number => count * FRAME_HEADER_BYTES;
  assert.deepEqual(
    wire.up,
    split({
      setup: HTTP2_PREFACE.length + registerBlock.length + registerBody.length + streamBlock.length,
      headers: messageBlock.length + pollBlock.length,
      payload: utf8Bytes(message),
      // 11 frame headers; SETTINGS, WINDOW_UPDATE and PING payloads; the pad length and padding; the priority fields
      framing: frames(11) + SETTINGS_PAYLOAD.length + WINDOW_UPDATE_PAYLOAD.length + 8 + (1 + 3) + (1 + 5 + 2),
    }),
  );
  assert.deepEqual(
    wire.down,
    split({
      setup: registeredBlock.length + registeredBody.length + streamAnswerBlock.length,
      headers: acceptedBlock.length + pollAnswerBlock.length + promisedBlock.length + statusBlock('200').length,
      payload: utf8Bytes(data) + eventData + pushedBody.length,
      framing:
        frames(19) +
        SETTINGS_PAYLOAD.length +
        WINDOW_UPDATE_PAYLOAD.length +
        8 + // PING
        4 + // RST_STREAM
        goaway.length +
        4 + // the promised stream id
        pollBody.length -
        utf8Bytes(data) +
        events.length -
        eventData,
    }),
  );
});

test('http2: a poll whose :path comes from the dynamic table is a poll, its answer payload and framing', () => {
  const path = '/messages?client=x&after=0';
  const firstBlock = requestBlock(METHOD_GET, hpack.withIndexing(PATH, path));
  // The second request: :authority is now dynamic entry 2, :path entry 1.
  const secondBlock = Buffer.concat([hpack.indexed(METHOD_GET), hpack.indexed(SCHEME_HTTPS), hpack.indexed(DYNAMIC_1 + 1), hpack.indexed(DYNAMIC_1)]);
  const data = 'x'.repeat(40);
  const pollBody = JSON.stringify({ messages: [{ id: 7, data }] });
  const answer = (stream: number): Buffer =>
    Buffer.concat([
      frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, stream, statusBlock('200')),
      frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream, stream, pollBody),
    ]);
  const wire = accountAnyChunking('http2', [
    ['up', Buffer.concat([HTTP2_PREFACE, frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders | HTTP2_FLAG.endStream, 1, firstBlock)])],
    ['down', answer(1)],
    ['up', frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders | HTTP2_FLAG.endStream, 3, secondBlock)],
    ['down', answer(3)],
  ]);
  assert.deepEqual(wire.up, split({ setup: HTTP2_PREFACE.length, headers: firstBlock.length + secondBlock.length, framing: 2 * FRAME_HEADER_BYTES }));
  assert.deepEqual(
    wire.down,
    split({ headers: 2 * statusBlock('200').length, payload: 2 * data.length, framing: 4 * FRAME_HEADER_BYTES + 2 * (pollBody.length - data.length) }),
  );
});

test('http2: a block that is not HPACK stays headers, and its stream, of no known purpose, carries payload', () => {
  const garbage = Buffer.from([0x80]); // index 0
  const wire = accountAnyChunking('http2', [
    [
      'up',
      Buffer.concat([HTTP2_PREFACE, frame(HTTP2_FRAME.headers, HTTP2_FLAG.endHeaders, 1, garbage), frame(HTTP2_FRAME.data, HTTP2_FLAG.endStream, 1, 'body')]),
    ],
  ]);
  assert.deepEqual(wire.up, split({ setup: HTTP2_PREFACE.length, headers: 1, payload: 4, framing: 2 * FRAME_HEADER_BYTES }));
});
