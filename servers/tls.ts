/**
 * TLS on a server's listener, the same for every transport: the certificate and key, one TLS
 * version (min and max alike, so a run measures the version it names), and the failed
 * handshakes counted. Node's own handshake timeout (120 s) bounds a handshake never finished.
 */
import type tls from 'node:tls';
import type { ErrorCause, ServerTls } from './contract.ts';
import type { ServerMetrics } from './metrics.ts';

const PROTOCOL_BY_VERSION = { '1.3': 'TLSv1.3', '1.2': 'TLSv1.2' } as const;

/** Node's options for a TLS listener: certificate, key, and the version as both min and max. */
export function tlsServerOptions(settings: ServerTls, alpnProtocols?: string[]): tls.TlsOptions {
  const protocol = PROTOCOL_BY_VERSION[settings.version];
  return {
    cert: settings.certPem,
    key: settings.keyPem,
    minVersion: protocol,
    maxVersion: protocol,
    ...(alpnProtocols === undefined ? {} : { ALPNProtocols: alpnProtocols }),
  };
}

/** What a handshake that failed is counted as: a peer gone (`socket`), too slow (`timeout`), anything else bad input. */
export function tlsClientErrorCause(error: Error & { code?: string }): ErrorCause {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return 'socket';
  if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  return 'bad-request';
}

/**
 * Counts every handshake that fails (a client that is not TLS, speaks another version, or
 * does not trust the certificate) and closes its socket. It replaces any handler already there:
 * https.Server's own passes the error to 'clientError', which would answer HTTP on a socket that
 * never became TLS.
 */
export function countTlsClientErrors(server: tls.Server, metrics: ServerMetrics): void {
  server.removeAllListeners('tlsClientError');
  server.on('tlsClientError', (error: Error & { code?: string }, socket: tls.TLSSocket) => {
    metrics.error(tlsClientErrorCause(error));
    socket.destroy();
  });
}
