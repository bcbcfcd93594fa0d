/**
 * A throwaway certificate for one run's TLS: self-signed, ECDSA P-256, made by Debian's `openssl`
 * in a temporary directory the caller removes (removeTlsCertificate). Its subjectAltName names
 * 127.0.0.1, localhost and any other address the run uses (100.64.0.2 over an emulated link, say).
 * It is its own CA (basicConstraints CA:TRUE, keyCertSign): a client trusts it by taking it as its
 * CA (`ca` in node's tls, https, http2 and ws), and Chromium by its public key's SHA-256
 * (--ignore-certificate-errors-spki-list), which it carries as spkiSha256Base64. Nothing here is
 * ever committed: each run makes its own, and its key never leaves the directory.
 */
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The names every certificate carries: the loopback address and name a local run connects to. */
export const LOOPBACK_ADDRESSES: readonly string[] = ['127.0.0.1', 'localhost'];

/** A DNS name openssl's configuration can carry as it is: labels of letters, digits and hyphens. */
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface TlsCertificateOptions {
  /** Addresses (IP) or host names beyond LOOPBACK_ADDRESSES. */
  extraAddresses?: readonly string[];
  /** How long it is valid from now, in days (default 2: a certificate lives for a run). */
  validDays?: number;
  /** Where the temporary directory is made (default: the system's temp directory). */
  parentDirectory?: string;
}

export interface TlsCertificate {
  /** The temporary directory holding both files; the caller removes it (removeTlsCertificate). */
  directory: string;
  /** The certificate (PEM): the server's --tls-cert, and a client's CA. */
  certPath: string;
  /** Its private key (PEM, unencrypted, readable by its owner only): the server's --tls-key. */
  keyPath: string;
  certPem: string;
  keyPem: string;
  /** Every address and name in its subjectAltName, loopback first. */
  addresses: string[];
  /** SHA-256 of its SubjectPublicKeyInfo, base64: what Chromium's --ignore-certificate-errors-spki-list takes. */
  spkiSha256Base64: string;
}

/** subjectAltName entries: `IP:` for addresses, `DNS:` for names; anything else is refused. */
export function subjectAltName(addresses: readonly string[]): string {
  return addresses
    .map((address) => {
      if (isIP(address) !== 0) return `IP:${address}`;
      if (DNS_NAME.test(address)) return `DNS:${address}`;
      throw new Error(`"${address}" is neither an IP address nor a host name: it cannot go in a certificate's subjectAltName`);
    })
    .join(',');
}

/** openssl req's configuration: the subject, and the extensions of a self-signed server certificate that is its own CA. */
function opensslConfig(addresses: readonly string[]): string {
  return [
    '[req]',
    'distinguished_name = subject',
    'x509_extensions = extensions',
    'prompt = no',
    '[subject]',
    'CN = wirecost run certificate',
    '[extensions]',
    'basicConstraints = critical,CA:TRUE,pathlen:0',
    'keyUsage = critical,digitalSignature,keyCertSign',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${subjectAltName(addresses)}`,
    'subjectKeyIdentifier = hash',
    '',
  ].join('\n');
}

/** SHA-256 of a certificate's SubjectPublicKeyInfo (DER), base64. */
export function spkiSha256Base64(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Makes a certificate and its key in a new temporary directory; the caller removes it (removeTlsCertificate). */
export async function createTlsCertificate(options: TlsCertificateOptions = {}): Promise<TlsCertificate> {
  const addresses = [...new Set([...LOOPBACK_ADDRESSES, ...(options.extraAddresses ?? [])])];
  const validDays = options.validDays ?? 2;
  if (!Number.isInteger(validDays) || validDays < 1) throw new Error(`validDays must be a whole number of days, at least 1, not ${validDays}`);
  const config = opensslConfig(addresses); // refuses a bad address before anything is made
  const directory = await mkdtemp(path.join(options.parentDirectory ?? tmpdir(), 'wirecost-tls-'));
  try {
    const configPath = path.join(directory, 'openssl.cnf');
    const certPath = path.join(directory, 'cert.pem');
    const keyPath = path.join(directory, 'key.pem');
    await writeFile(configPath, config);
    const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(validDays)];
    await run('openssl', [...args, '-config', configPath, '-keyout', keyPath, '-out', certPath], { timeout: 30_000 });
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { directory, certPath, keyPath, certPem, keyPem, addresses, spkiSha256Base64: spkiSha256Base64(certPem) };
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

/** Removes a certificate's directory, key and all. */
export async function removeTlsCertificate(certificate: Pick<TlsCertificate, 'directory'>): Promise<void> {
  await rm(certificate.directory, { recursive: true, force: true });
}
