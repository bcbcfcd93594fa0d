/**
 * What a run spoke on the wire, as its config says: plaintext HTTP/1.1 (results from before TLS
 * and HTTP/2 have neither field), HTTP/1.1 over TLS (https, and wss and TLS for the WebSocket and
 * TCP transports), HTTP/2 over TLS (h2, as browsers speak it) or HTTP/2 in plaintext (h2c, for
 * experiments). One place, so that the tables and the claims name and pick them alike.
 */
import type { CompletedRun, NewTlsConnectionPoll, Results, RunConfig } from '../../bench/result.ts';
import type { TransportName } from '../../servers/contract.ts';

export type ProtocolId = 'http1' | 'http1-tls' | 'http2-tls' | 'h2c';

export interface Protocol {
  id: ProtocolId;
  /** Its name in a table's header. */
  label: string;
}

/** The protocols the report sets side by side, in order; h2c only where a run used it. */
export const PROTOCOLS: readonly Protocol[] = [
  { id: 'http1', label: 'HTTP/1.1' },
  { id: 'http1-tls', label: 'HTTP/1.1 over TLS' },
  { id: 'http2-tls', label: 'HTTP/2 over TLS' },
  { id: 'h2c', label: 'HTTP/2 without TLS (h2c)' },
];

/** The transports HTTP/2 can carry (--http 2); WebSocket and raw TCP are HTTP/1.1 and TCP only. */
export const HTTP2_TRANSPORTS: readonly TransportName[] = ['short-poll', 'long-poll', 'sse'];

export function protocolOf(config: RunConfig): ProtocolId {
  if (config.http === '2') return config.tls === undefined ? 'h2c' : 'http2-tls';
  return config.tls === undefined ? 'http1' : 'http1-tls';
}

export function isHttp2(run: { config: RunConfig }): boolean {
  return run.config.http === '2';
}

/** Whether the run is over TLS or HTTP/2: anything but the plaintext HTTP/1.1 results have always had. */
export function isProtocolRun(run: { config: RunConfig }): boolean {
  return run.config.tls !== undefined || run.config.http !== undefined;
}

/** The run's protocol in words, with its TLS version: "HTTP/2 over TLS 1.3". WebSocket and TCP are named as they are. */
export function protocolText(run: Pick<CompletedRun, 'transport' | 'config'>): string {
  const tls = run.config.tls === undefined ? '' : ` over TLS ${run.config.tls}`;
  if (run.transport === 'tcp') return run.config.tls === undefined ? 'TCP' : `TCP${tls}`;
  if (run.transport === 'websocket') return run.config.tls === undefined ? 'WebSocket (ws)' : `WebSocket${tls} (wss)`;
  if (run.config.http === '2') return run.config.tls === undefined ? 'HTTP/2 (h2c)' : `HTTP/2${tls}`;
  return `HTTP/1.1${tls}`;
}

/**
 * Round trips a full TLS handshake takes before the client may send its request: TLS 1.3 one
 * (RFC 8446 §2: ClientHello, then the server's flight with its Finished), TLS 1.2 two (RFC 5246
 * §7.3: the hellos, then the key exchange and both Finished messages). Computed from the version:
 * the runs do not time their handshakes (the "from 150 ms to 50 ms" measurement counts them on
 * new connections over the emulated link: tlsPollMeasured). A resumed session or TLS 1.3's 0-RTT
 * would take fewer.
 */
export const TLS_HANDSHAKE_ROUND_TRIPS: Readonly<Record<NonNullable<RunConfig['tls']>, number>> = { '1.3': 1, '1.2': 2 };

export const TLS_ROUND_TRIPS_FORMULA = 'a full handshake: TLS 1.3 one round trip (RFC 8446 §2), TLS 1.2 two (RFC 5246 §7.3)';

/** The poll on a new TLS connection of `tls`, as the "from 150 ms to 50 ms" measurement timed it; undefined where the results have none (no netns link, or made before it polled over TLS). */
export function tlsPollMeasured(results: Results, tls: NonNullable<RunConfig['tls']>): NewTlsConnectionPoll | undefined {
  const measured = results.firstMessage;
  if (measured === undefined || !('oneWayDelayMs' in measured)) return undefined;
  return measured.newTlsConnectionPoll?.find((poll) => poll.version === tls);
}

/** "1 round trip (TLS 1.3, computed)", or, where the results counted them on new connections over the emulated link, the count measured. */
export function handshakeRoundTripsText(tls: NonNullable<RunConfig['tls']>, measured?: NewTlsConnectionPoll): string {
  const trips = measured?.handshakeRoundTrips ?? TLS_HANDSHAKE_ROUND_TRIPS[tls];
  const how = measured === undefined ? 'computed' : 'measured on new connections over the emulated link';
  return `${trips} round trip${trips === 1 ? '' : 's'} (TLS ${tls}, ${how})`;
}
