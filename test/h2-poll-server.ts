/**
 * For tests: a small short-poll server over HTTP/2 and TLS (node:http2, h2 by ALPN only), with a
 * throwaway self-signed certificate made by Debian's openssl, answering as the suite's short-poll
 * server does (servers/http-responses.ts: JSON with Content-Type and Content-Length) on the routes
 * the browser uses: GET /stats, POST /clients, GET /messages (always empty). It stands in for the
 * suite's own server speaking --http 2 over TLS.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROUTES } from '../servers/contract.ts';

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  spkiSha256Base64: string;
}

export interface H2PollServer {
  host: string;
  port: number;
  certificate: TestCertificate;
  /** Requests served, as method and path. */
  requests: string[];
  stop(): Promise<void>;
}

/** A self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost, from openssl, its files removed at once. */
export async function testCertificate(): Promise<TestCertificate> {
  const directory = await mkdtemp(path.join(tmpdir(), 'wirecost-test-cert-'));
  try {
    const certPath = path.join(directory, 'cert.pem');
    const keyPath = path.join(directory, 'key.pem');
    await promisify(execFile)(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=wirecost test',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { timeout: 30_000 },
    );
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return { certPem, keyPem, spkiSha256Base64: createHash('sha256').update(spki).digest('base64') };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

export async function startH2PollServer(tlsVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<H2PollServer> {
  const certificate = await testCertificate();
  const requests: string[] = [];
  const server = http2.createSecureServer(
    { cert: certificate.certPem, key: certificate.keyPem, minVersion: tlsVersion, maxVersion: tlsVersion, allowHTTP1: false },
    (req, res) => {
      const { pathname } = new URL(req.url, 'https://127.0.0.1');
      requests.push(`${req.method} ${pathname}`);
      const json = (status: number, value: unknown): void => {
        const body = JSON.stringify(value);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (req.method === 'GET' && pathname === ROUTES.stats) return json(200, { requests: requests.length });
      if (req.method === 'POST' && pathname === ROUTES.clients) return json(201, { clientId: randomUUID() });
      if (req.method === 'GET' && pathname === ROUTES.messages) return json(200, { messages: [] });
      json(404, { code: 'not-found' });
    },
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const host = '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the test server has no TCP address');
  return {
    host,
    port: address.port,
    certificate,
    requests,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}
