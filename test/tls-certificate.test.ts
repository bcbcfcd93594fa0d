/**
 * The run's throwaway certificate (bench/tls-certificate.ts): what it names and is, that a client
 * trusting it as its CA connects by address and by name while one that does not refuses it, and
 * that nothing of it stays behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { createTlsCertificate, removeTlsCertificate, subjectAltName } from '../bench/tls-certificate.ts';

const TEST_TIMEOUT_MS = 30_000;

/** Connects to a TLS server on 127.0.0.1 as `servername`, trusting `ca` (or the system's CAs); resolves with the error, if any. */
function handshake(port: number, servername: string | undefined, ca: string | undefined): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...(servername === undefined ? {} : { servername }), ...(ca === undefined ? {} : { ca }) });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => {
      socket.destroy();
      resolve(error);
    });
  });
}

describe('bench/tls-certificate.ts', () => {
  it('makes a self-signed P-256 certificate that is its own CA, naming loopback and the extra addresses', { timeout: TEST_TIMEOUT_MS }, async () => {
    const certificate = await createTlsCertificate({ extraAddresses: ['100.64.0.2', 'server.test'] });
    try {
      const x509 = new X509Certificate(certificate.certPem);
      assert.equal(x509.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost, IP Address:100.64.0.2, DNS:server.test');
      assert.deepEqual(certificate.addresses, ['127.0.0.1', 'localhost', '100.64.0.2', 'server.test']);
      assert.equal(x509.ca, true);
      assert.ok(x509.verify(x509.publicKey), 'signed by its own key');
      assert.equal(x509.issuer, x509.subject);
      assert.equal(x509.publicKey.asymmetricKeyType, 'ec');
      assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.ok(x509.checkPrivateKey(createPrivateKey(certificate.keyPem)), 'the key is the certificate’s');
      const validMs = Date.parse(x509.validTo) - Date.now();
      assert.ok(validMs > 0 && validMs <= 2 * 24 * 3600_000 + 60_000, `valid for the run, not for years (${x509.validTo})`);
      const spki = x509.publicKey.export({ type: 'spki', format: 'der' });
      assert.equal(certificate.spkiSha256Base64, createHash('sha256').update(spki).digest('base64'));
      assert.equal(statSync(certificate.keyPath).mode & 0o077, 0, 'the key is readable by its owner only');
      assert.ok(certificate.certPath.startsWith(certificate.directory) && certificate.keyPath.startsWith(certificate.directory));
    } finally {
      await removeTlsCertificate(certificate);
    }
    assert.equal(existsSync(certificate.directory), false, 'removed, key and all');
  });

  it(
    'is trusted as a CA: a client connects by address and by name; untrusted, or by a name it lacks, the handshake fails',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const certificate = await createTlsCertificate();
      const server = tls.createServer({ cert: certificate.certPem, key: certificate.keyPem }, (socket) => socket.end());
      server.on('tlsClientError', () => {});
      try {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as { port: number };
        assert.equal(await handshake(port, undefined, certificate.certPem), undefined);
        assert.equal(await handshake(port, 'localhost', certificate.certPem), undefined);
        assert.match(String(await handshake(port, undefined, undefined)), /self.signed certificate/);
        assert.match(String(await handshake(port, 'example.com', certificate.certPem)), /Host: example\.com\. is not in the cert's altnames/);
      } finally {
        server.close();
        await removeTlsCertificate(certificate);
      }
    },
  );

  it('refuses an address that is neither IP nor host name, before it makes anything', { timeout: TEST_TIMEOUT_MS }, async () => {
    const parentDirectory = await mkdtemp(path.join(tmpdir(), 'wirecost-tls-test-'));
    try {
      for (const bad of ['a,DNS:evil.test', 'line\nbreak', '', '-leading.test']) {
        await assert.rejects(createTlsCertificate({ extraAddresses: [bad], parentDirectory }), /neither an IP address nor a host name/);
      }
      assert.deepEqual(await readdir(parentDirectory), []);
    } finally {
      await rm(parentDirectory, { recursive: true, force: true });
    }
    assert.equal(subjectAltName(['::1', 'localhost']), 'IP:::1,DNS:localhost');
  });
});
