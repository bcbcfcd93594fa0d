/**
 * What a real browser's polls cost over HTTPS and HTTP/2: Debian's chromium polls a short-poll
 * server that speaks HTTP/2 over TLS (h2, by ALPN): the suite's own, started with the run's
 * certificate (--tls-cert, --tls-key, --http 2), or one it is given. It polls through a relay that
 * keeps every byte of each connection as it crossed (ciphertext), and the header blocks of each
 * poll are counted exactly:
 *
 * - Chromium writes its TLS secrets to the file SSLKEYLOGFILE names (NSS key log format);
 * - the relay's accountant of each connection (wire.ts: protocol http2, tls) is given that
 *   connection's lines (by its client random) once the browser has closed, and splits every
 *   byte: TLS's record layer `tls`, the handshake `setup`, each poll's HEADERS blocks after HPACK
 *   `headers`, in the order they were sent (headerSeries);
 * - the same bytes and lines, read again here (h2-heads.ts), name each block's stream, method,
 *   path and status, so that the polls are told from the page's other requests (the navigation,
 *   the favicon, the registration). The sizes read here must be the accountant's, block for
 *   block, or the measurement fails.
 *
 * Chromium trusts the run's certificate by its public key (--ignore-certificate-errors-spki-list
 * with the SHA-256 of its SubjectPublicKeyInfo): it then treats the certificate as valid, as if a
 * CA it trusts had issued it, and does everything it does on a trusted connection (no
 * interstitial, its connections pooled and reused as usual). Trust is decided inside the
 * browser: the handshake carries the same certificate either way, and the requests the same
 * headers, so the bytes are those a trusted certificate of the same size gives. (playwright's
 * ignoreHTTPSErrors would skip verification altogether, a state a user never browses in.)
 *
 * The page: Chromium opens the server's /stats (a JSON document of the server's origin), and
 * from it the page registers (POST /clients). Once that connection is idle, the relay ends it,
 * as a server ends an idle connection, and the page polls GET /messages?client=…&after=… again
 * and again, each poll after the last one's answer, as the echo demo's short-polling client
 * does, with nothing to deliver: the polls are same-origin fetches with every header Chromium
 * gives a fetch, on a connection of their own, where the first poll carries its header fields
 * whole (HPACK's dynamic table is empty) and later ones refer to the table. The page's own
 * connection is kept too: there its first request (the document) carried the fields whole, and
 * a poll made on it would have found them in the table already.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { ROUTES, type TlsVersion } from '../../servers/contract.ts';
import { ServerProcess } from '../server-process.ts';
import { COOKIE_NAME, cookieValue } from '../clients/http-connection.ts';
import type { HeaderField } from '../wire/hpack.ts';
import { HEAD_KIND, pathOf, purposeOf } from '../wire/http-exchange.ts';
import { HEADER_SERIES_LENGTH, addWireBytes, emptyWireBytes, type ByteKind, type WireBytes } from '../wire.ts';
import { trustCertificateArg, type ChromiumLaunch } from './chromium.ts';
import { clientRandom, fieldValue, http2Heads, keyLogLines, type Http2Head } from './h2-heads.ts';
import { ByteRelay, type RelayedConnection } from './relay.ts';

/** Polls the page makes: the first and the tenth are compared, so at least 10. */
export const HTTP2_POLLS = 12;
export const MIN_HTTP2_POLLS = 10;
const STEP_TIMEOUT_MS = 30_000;
/** The page's connection is ended once it has carried nothing for this long (its favicon fetched too). */
const QUIET_MS = 1000;
/** Bytes kept per connection each way: all of them (a dozen polls take a few kilobytes). */
const CAPTURE_BYTES = 1024 * 1024;
const HOST = '127.0.0.1';

export const TRUST_METHOD =
  "--ignore-certificate-errors-spki-list: Chromium trusts the run's certificate by its public key's SHA-256 (the handshake and the headers are those of a trusted certificate)";

/**
 * The certificate the server presents, as Chromium is to trust it: bench/tls-certificate.ts's
 * TlsCertificate (createTlsCertificate) is one. Its files are needed only when the measurement
 * starts the server itself.
 */
export interface TrustedCertificate {
  /** SHA-256 of its SubjectPublicKeyInfo (DER), base64. */
  spkiSha256Base64: string;
  /** Its certificate and key files (PEM): the server's --tls-cert and --tls-key. */
  certPath?: string;
  keyPath?: string;
}

/** What the HTTP/2 measurement is given. */
export interface BrowserHttp2Options {
  /** The run's certificate; it must name 127.0.0.1 (the browser reaches the server through a relay on 127.0.0.1). */
  certificate: TrustedCertificate;
  /**
   * A short-poll server speaking HTTP/2 over TLS (ALPN h2) with that certificate on this address; absent: the suite's own
   * short-poll server is started (--tls-cert, --tls-key, --tls-version, --http 2) for the measurement and stopped after.
   */
  server?: { host: string; port: number };
  /** The TLS version of the server started here (default: the server's, 1.3). */
  tlsVersion?: TlsVersion;
  /** Polls to make, at least MIN_HTTP2_POLLS (default HTTP2_POLLS). */
  polls?: number;
}

/** One exchange: a request's header block and its response's. */
export interface BrowserHttp2Exchange {
  /** The connection it went over: 0 the page's (the document, the favicon, the registration), then in the order they were opened. */
  connection: number;
  stream: number;
  method: string;
  /** :path, query included. */
  target: string;
  /** :status of the response (undefined: none came). */
  status: number | undefined;
  /** The kind its heads count as (wire/http-exchange.ts): headers for a poll, setup for the registration and /stats. */
  kind: ByteKind;
  requestHeaderBytes: number;
  responseHeaderBytes: number | undefined;
}

/** BrowserFigures.http2, and the exchanges and bytes it comes from. */
export interface BrowserHttp2Measurement {
  /** Each poll's request header block, in bytes, in order (HEADERS and CONTINUATION fragments, after HPACK). */
  requests: number[];
  /** The header block of each poll's response, in the same order. */
  responses: number[];
  /** The TLS version the connection negotiated: "1.2" or "1.3". */
  tlsVersion: string;
  /** How Chromium was made to trust the run's certificate. */
  trust: string;
  /** TLS connections the browser opened to the server: the page's, ended by the relay once idle, and the polls'. */
  connections: number;
  /** Every exchange, connection by connection, each in the order of its streams. */
  exchanges: BrowserHttp2Exchange[];
  /** The fields of the first poll's request and response header blocks, decoded. */
  firstPoll: { request: HeaderField[]; response: HeaderField[] };
  /** Every byte of the browser's connections to the server, split (wire.ts; `tls` the record layer, `setup` the handshake among the rest). */
  bytes: WireBytes;
}

/** Runs in the page: registers, and gives the client's id. */
async function registerFromPage(clients: string): Promise<string> {
  const registered = await fetch(clients, { method: 'POST' });
  if (!registered.ok) throw new Error(`POST ${clients}: ${registered.status}`);
  return ((await registered.json()) as { clientId: string }).clientId;
}

/** Runs in the page: polls `polls` times, each poll after the last one's answer. */
async function pollFromPage({ polls, clientId, messages }: { polls: number; clientId: string; messages: string }): Promise<number> {
  let after = 0;
  for (let poll = 0; poll < polls; poll += 1) {
    const response = await fetch(`${messages}?client=${clientId}&after=${after}`);
    if (!response.ok) throw new Error(`GET ${messages}: ${response.status}`);
    for (const message of ((await response.json()) as { messages: { id: number }[] }).messages) after = Math.max(after, message.id);
  }
  return polls;
}

/** The exchanges of one connection, paired by stream, in the order of their requests. */
function exchangesOf(connection: number, up: readonly Http2Head[], down: readonly Http2Head[]): BrowserHttp2Exchange[] {
  return up.map((request) => {
    const method = fieldValue(request.fields, ':method') ?? '';
    const target = fieldValue(request.fields, ':path') ?? '';
    // the final response's block: informational ones (1xx) and trailers are not the response's head
    const response = down.find((head) => head.stream === request.stream && Number(fieldValue(head.fields, ':status') ?? 0) >= 200);
    const status = response === undefined ? undefined : Number(fieldValue(response.fields, ':status'));
    return {
      connection,
      stream: request.stream,
      method,
      target,
      status,
      kind: HEAD_KIND[purposeOf(method, pathOf(target), undefined)],
      requestHeaderBytes: request.bytes,
      responseHeaderBytes: response?.bytes,
    };
  });
}

/** Fails unless the blocks read here are the heads the accountant counted as headers, block for block, each way. */
function checkAgainstAccountant(
  connection: RelayedConnection,
  up: readonly Http2Head[],
  down: readonly Http2Head[],
  exchanges: readonly BrowserHttp2Exchange[],
): void {
  const kindOf = new Map(exchanges.map((exchange) => [exchange.stream, exchange.kind]));
  const counted = (heads: readonly Http2Head[]): number[] =>
    heads
      .filter((head) => kindOf.get(head.stream) === 'headers')
      .map((head) => head.bytes)
      .slice(0, HEADER_SERIES_LENGTH);
  const mine = { requests: counted(up), responses: counted(down) };
  const theirs = connection.headerSeries;
  if (mine.requests.join() !== theirs.requests.join() || mine.responses.join() !== theirs.responses.join()) {
    throw new Error(
      `the header blocks read (requests ${mine.requests.join(' ')}; responses ${mine.responses.join(' ')}) are not the heads the accountant ` +
        `counted (requests ${theirs.requests.join(' ')}; responses ${theirs.responses.join(' ')})`,
    );
  }
}

const isPoll = (exchange: BrowserHttp2Exchange): boolean => exchange.method === 'GET' && pathOf(exchange.target) === ROUTES.messages;

/**
 * The measurement, from what the relay kept and the browser's key log, once the browser has
 * closed; `pageConnections`: the connections opened before the relay ended them (the page's);
 * `pollsFirst` (the default): the polls' connection must begin with a poll, the first poll then
 * finding HPACK's tables empty.
 */
export function http2Measurement(
  relay: ByteRelay,
  keyLog: string,
  polls: number,
  pageConnections: number,
  { pollsFirst = true }: { pollsFirst?: boolean } = {},
): BrowserHttp2Measurement {
  const read = relay.connections.flatMap((connection, index) => {
    const up = connection.capture.bytes('up');
    const down = connection.capture.bytes('down');
    if (up.length !== connection.accountant.seen.up || down.length !== connection.accountant.seen.down) {
      throw new Error(`a connection carried more than the ${CAPTURE_BYTES} bytes kept of it each way`);
    }
    const random = clientRandom(up);
    const lines = random === undefined ? [] : keyLogLines(keyLog, random);
    for (const line of lines) connection.accountant.keylog(line);
    if (lines.length === 0) return []; // a connection that never finished its handshake, or whose keys the browser did not log
    const problem = connection.accountant.tlsProblem;
    if (problem !== undefined) throw new Error(`the accountant could not read the connection's TLS: ${problem}`);
    const heads = http2Heads({ up, down }, lines);
    const exchanges = exchangesOf(index, heads.up, heads.down);
    checkAgainstAccountant(connection, heads.up, heads.down, exchanges);
    return [{ index, heads, exchanges }];
  });
  if (read.length === 0) {
    throw new Error(`no connection to the server could be read (${relay.connections.length} opened; is SSLKEYLOGFILE honoured by this chromium?)`);
  }
  const polling = read.filter(({ exchanges }) => exchanges.some(isPoll));
  if (polling.length !== 1) throw new Error(`the polls went over ${polling.length} connections, not one`);
  const { index, heads, exchanges } = polling[0]!;
  if (index < pageConnections) throw new Error('the polls went over a connection the page had opened, not a new one');
  if (pollsFirst && !isPoll(exchanges[0]!)) throw new Error(`the polls' connection began with ${exchanges[0]!.method} ${exchanges[0]!.target}, not a poll`);
  const pollExchanges = exchanges.filter(isPoll);
  const answered = pollExchanges.filter((exchange) => exchange.status === 200 && exchange.responseHeaderBytes !== undefined);
  if (answered.length !== polls) throw new Error(`${answered.length} polls were answered 200 on the connection, not the ${polls} made`);
  const first = answered[0]!;
  const firstResponse = heads.down.find((head) => head.stream === first.stream && fieldValue(head.fields, ':status') === '200');
  const bytes = emptyWireBytes();
  addWireBytes(bytes, relay.bytes);
  return {
    requests: answered.map((exchange) => exchange.requestHeaderBytes),
    responses: answered.map((exchange) => exchange.responseHeaderBytes!),
    tlsVersion: heads.tlsVersion,
    trust: TRUST_METHOD,
    connections: relay.connections.length,
    exchanges: read.flatMap((connection) => connection.exchanges),
    firstPoll: { request: heads.up.find((head) => head.stream === first.stream)?.fields ?? [], response: firstResponse?.fields ?? [] },
    bytes,
  };
}

/**
 * Polls a short-poll server from Chromium over HTTP/2 and TLS and counts each poll's header
 * blocks: `options.server`, or the suite's own started with the run's certificate; `launch`
 * starts the browser with the flags and environment it is given; `cookieBytes` puts a cookie of
 * that many bytes (name=value) in its jar for 127.0.0.1, as --cookie-bytes does.
 */
export async function measureHttp2Polls(
  launch: (options?: ChromiumLaunch) => Promise<Browser>,
  options: BrowserHttp2Options,
  cookieBytes = 0,
): Promise<BrowserHttp2Measurement> {
  const polls = options.polls ?? HTTP2_POLLS;
  if (!Number.isInteger(polls) || polls < MIN_HTTP2_POLLS) throw new Error(`the HTTP/2 measurement makes at least ${MIN_HTTP2_POLLS} polls, not ${polls}`);
  const started = options.server === undefined ? await startServer(options) : undefined;
  try {
    return await measureThrough(launch, options, started ?? options.server!, polls, cookieBytes);
  } finally {
    await started?.stop();
  }
}

/** The suite's own short-poll server over HTTP/2 and TLS, with the run's certificate. */
function startServer(options: BrowserHttp2Options): Promise<ServerProcess> {
  const { certPath, keyPath } = options.certificate;
  if (certPath === undefined || keyPath === undefined) {
    throw new Error('the HTTP/2 measurement starts its server with the certificate: it needs its files (certPath, keyPath), or a server to poll');
  }
  return ServerProcess.start('short-poll', {
    host: HOST,
    tls: { certPath, keyPath, ...(options.tlsVersion === undefined ? {} : { version: options.tlsVersion }) },
    http: '2',
  });
}

async function measureThrough(
  launch: (options?: ChromiumLaunch) => Promise<Browser>,
  options: BrowserHttp2Options,
  server: { host: string; port: number },
  polls: number,
  cookieBytes: number,
): Promise<BrowserHttp2Measurement> {
  const directory = await mkdtemp(path.join(tmpdir(), 'wirecost-keylog-'));
  const keyLogPath = path.join(directory, 'sslkeylog.txt');
  const relay = await ByteRelay.start({ upstream: { host: server.host, port: server.port }, protocol: 'http2', tls: true, captureBytes: CAPTURE_BYTES }, HOST);
  try {
    const browser = await launch({ args: [trustCertificateArg(options.certificate.spkiSha256Base64)], env: { SSLKEYLOGFILE: keyLogPath } });
    try {
      const context = await browser.newContext();
      if (cookieBytes > 0) await context.addCookies([{ name: COOKIE_NAME, value: cookieValue(cookieBytes), domain: HOST, path: '/' }]);
      const page = await context.newPage();
      await page.goto(`https://${HOST}:${relay.port}${ROUTES.stats}`, { timeout: STEP_TIMEOUT_MS });
      const clientId = await page.evaluate(registerFromPage, ROUTES.clients);
      // the document, its favicon and the registration done, the page's connection is ended: the polls open their own
      await relay.quiet(QUIET_MS, STEP_TIMEOUT_MS);
      const pageConnections = relay.connections.length;
      relay.closeConnections();
      await page.evaluate(pollFromPage, { polls, clientId, messages: ROUTES.messages });
      await browser.close(); // its connections end, and its key log is complete
      const keyLog = await readFile(keyLogPath, 'utf8').catch(() => '');
      return http2Measurement(relay, keyLog, polls, pageConnections);
    } finally {
      await browser.close();
    }
  } finally {
    await relay.stop();
    await rm(directory, { recursive: true, force: true });
  }
}
