/**
 * What a real browser sends: Debian's chromium runs the echo demo (scripts/demo/) against our
 * servers, and the relays between them keep the bytes of each connection as they were. From
 * those bytes, not from the browser's own figures: one fetch poll and its response head, one
 * fetch that sends a message, one EventSource request and its response head, one WebSocket
 * upgrade and its 101, and the frames of one short text message up (masked) and down. Asked
 * for (BrowserOptions.http2), it also polls a server over HTTPS and HTTP/2 and counts each
 * poll's header blocks (measure-http2.ts).
 */
import { findFrame, hex } from '../../scripts/report/websocket-frame.ts';
import type { BrowserFigures } from '../result.ts';
import { startEchoSite, type EchoSite } from '../../scripts/demo/site.ts';
import { echoReply, utf8Bytes } from '../../servers/contract.ts';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, type ChromiumLaunch } from './chromium.ts';
import { echoInDemo } from './demo-driver.ts';
import { capturedHeads, type CapturedHead } from './http-heads.ts';
import { COOKIE_NAME, cookieValue } from '../clients/http-connection.ts';
import type { ByteRelay } from './relay.ts';
import { measureHttp2Polls, type BrowserHttp2Measurement, type BrowserHttp2Options } from './measure-http2.ts';

/** One HTTP exchange as the browser made it: the request (head and body) and the response's head. */
export interface BrowserExchange {
  request: string;
  requestBytes: number;
  responseHead: string;
  responseHeaderBytes: number;
}

/** One WebSocket frame as it crossed the wire. */
export interface BrowserFrame {
  hex: string;
  bytes: number;
  headerBytes: number;
  payloadBytes: number;
}

/** Results' `browser`: the report's BrowserFigures, and the exchanges and frames they come from. */
export interface BrowserMeasurement extends BrowserFigures {
  userAgent: string;
  /** The message the page sent on every transport. */
  message: string;
  poll: BrowserExchange;
  /** POST /messages: how a polling or SSE page sends a message. */
  send: BrowserExchange;
  eventSource: BrowserExchange;
  upgrade: BrowserExchange;
  /** The message, client to server (masked). */
  frameUp: BrowserFrame;
  /** Its echo, server to client. */
  frameDown: BrowserFrame;
  /** Polls over HTTPS and HTTP/2 (measure-http2.ts), when asked for: BrowserFigures.http2 and the exchanges it comes from. */
  http2?: BrowserHttp2Measurement;
}

/**
 * What became of the measurement: made; skipped, when chromium is not here to make it (or the
 * suite has nothing to set it beside); or failed, with the error, when chromium is here and the
 * measurement went wrong.
 */
export type BrowserOutcome = BrowserMeasurement | { skipped: string } | { failed: string };

/** What measureBrowser uses from the machine; the tests replace them. */
export interface BrowserDependencies {
  /** Why chromium cannot run here, or undefined when it can. */
  missing?: () => string | undefined;
  launch?: (options?: ChromiumLaunch) => Promise<Browser>;
}

/** What the measurement is asked to do. */
export interface BrowserOptions {
  /** A cookie of this many bytes (name=value, as --cookie-bytes) in the browser's jar for the servers' host; 0 or absent: none. */
  cookieBytes?: number;
  /**
   * Also poll over HTTPS and HTTP/2 (BrowserFigures.http2, measure-http2.ts): the run's certificate (createTlsCertificate's),
   * for the suite's short-poll server to present (--http 2) and Chromium to trust; absent: HTTP/1.1 only.
   */
  http2?: BrowserHttp2Options;
}

/** Five bytes, as the textbook's "Hello": a frame of 2 + 4 (mask) + 5 bytes going up. */
export const BROWSER_MESSAGE = 'hello';
const STEP_TIMEOUT_MS = 15_000;
const CAPTURE_BYTES = 16 * 1024;
const WS_OPCODE_TEXT = 0x1;

/** A request and the head of its response, with the bytes of the connection they were on. */
interface HeadPair {
  up: Buffer;
  down: Buffer;
  request: CapturedHead;
  response: CapturedHead;
}

/** The first request whose start line begins with `prefix`, on any connection of the relay, with the response to it. */
function findExchange(relay: ByteRelay, prefix: string): HeadPair {
  for (const { capture } of relay.connections) {
    const up = capture.bytes('up');
    const down = capture.bytes('down');
    const requests = capturedHeads(up, 'request');
    const index = requests.findIndex((head) => head.startLine.startsWith(prefix));
    const request = requests[index];
    // Responses come in the order of the requests on a connection (no pipelining without them).
    const response = capturedHeads(down, 'response')[index];
    if (request !== undefined && response !== undefined) return { up, down, request, response };
  }
  throw new Error(`the browser made no request "${prefix} …" that was answered (connections: ${relay.connections.map((c) => c.firstLine).join('; ')})`);
}

function exchange({ up, request, response }: HeadPair): BrowserExchange {
  return {
    request: up.subarray(request.offset, request.end).toString('utf8'),
    requestBytes: request.end - request.offset,
    responseHead: response.text,
    responseHeaderBytes: response.bytes,
  };
}

function textFrame(bytes: Buffer, from: number, what: string): BrowserFrame {
  const found = findFrame(bytes, (header) => header.opcode === WS_OPCODE_TEXT, from);
  if (found === undefined) throw new Error(`no text frame ${what} after the upgrade`);
  const { offset, header } = found;
  const frameBytes = header.headerBytes + header.payloadBytes;
  return { hex: hex(bytes.subarray(offset, offset + frameBytes)), bytes: frameBytes, headerBytes: header.headerBytes, payloadBytes: header.payloadBytes };
}

/** The bytes of the value (name=value …) of a request head's Cookie header; 0 when it has none. */
export function cookieHeaderBytes(head: string): number {
  const match = /\r\nCookie: ([^\r\n]*)\r\n/i.exec(head);
  return match === null ? 0 : Buffer.byteLength(match[1]!, 'latin1');
}

/** The figures, from what the relays of a site kept once the page has echoed BROWSER_MESSAGE on every transport. */
export function browserBytes(site: Pick<EchoSite, 'relays'>): Omit<BrowserMeasurement, 'name' | 'version' | 'userAgent'> {
  const poll = exchange(findExchange(site.relays['short-poll'], 'GET /messages'));
  const cookieBytes = cookieHeaderBytes(poll.request);
  const send = exchange(findExchange(site.relays['short-poll'], 'POST /messages'));
  const eventSource = exchange(findExchange(site.relays.sse, 'GET /events'));
  const upgrade = findExchange(site.relays.websocket, 'GET /ws');
  const frameUp = textFrame(upgrade.up, upgrade.request.end, 'up');
  const frameDown = textFrame(upgrade.down, upgrade.response.end, 'down');
  if (frameUp.payloadBytes !== utf8Bytes(BROWSER_MESSAGE) || frameDown.payloadBytes !== utf8Bytes(echoReply(BROWSER_MESSAGE))) {
    throw new Error(`the first text frames carry ${frameUp.payloadBytes} and ${frameDown.payloadBytes} bytes, not the message and its echo`);
  }
  return {
    message: BROWSER_MESSAGE,
    ...(cookieBytes > 0 ? { cookieBytes } : {}),
    pollRequestBytes: poll.requestBytes,
    pollResponseHeaderBytes: poll.responseHeaderBytes,
    websocketFrameBytes: frameDown.headerBytes,
    poll,
    send,
    eventSource,
    upgrade: exchange(upgrade),
    frameUp,
    frameDown,
  };
}

/**
 * Runs the demo in Debian's chromium and measures what it sent and got; skipped when chromium
 * is not installed, failed (with the error) when it is and the measurement went wrong.
 */
export async function measureBrowser(
  options: BrowserOptions = {},
  { missing = chromiumMissing, launch = launchChromium }: BrowserDependencies = {},
): Promise<BrowserOutcome> {
  const absent = missing();
  if (absent !== undefined) return { skipped: absent };
  const cookieBytes = options.cookieBytes ?? 0;
  const measured = async (): Promise<BrowserMeasurement> => {
    const http1 = await measureWith(launch, cookieBytes);
    // a browser of its own: its flags (the certificate it trusts) and its key log touch nothing of the HTTP/1.1 measurement
    return options.http2 === undefined ? http1 : { ...http1, http2: await measureHttp2Polls(launch, options.http2, cookieBytes) };
  };
  return measured().catch((error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) }));
}

async function measureWith(launch: () => Promise<Browser>, cookieBytes: number): Promise<BrowserMeasurement> {
  const site = await startEchoSite({ captureBytes: CAPTURE_BYTES });
  try {
    const browser = await launch();
    try {
      const context = await browser.newContext();
      // a cookie is the host's, whatever the port: every relay (and the page) is on 127.0.0.1, so every request of the page carries it
      if (cookieBytes > 0) await context.addCookies([{ name: COOKIE_NAME, value: cookieValue(cookieBytes), domain: '127.0.0.1', path: '/' }]);
      const page = await context.newPage();
      await page.goto(site.url, { timeout: STEP_TIMEOUT_MS });
      for (const transport of ['short-poll', 'sse', 'websocket']) await echoInDemo(page, transport, BROWSER_MESSAGE, STEP_TIMEOUT_MS);
      const userAgent = await page.evaluate(() => navigator.userAgent);
      const measured = browserBytes(site);
      if ((measured.cookieBytes ?? 0) !== (cookieBytes > 0 ? Math.max(cookieBytes, COOKIE_NAME.length + 1) : 0)) {
        throw new Error(`the browser's poll carried a cookie of ${measured.cookieBytes ?? 0} bytes, not the ${cookieBytes} asked for`);
      }
      return { name: 'Chromium', version: browser.version(), userAgent, ...measured };
    } finally {
      await browser.close();
    }
  } finally {
    await site.stop();
  }
}
