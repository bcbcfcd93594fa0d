/**
 * The certificate of a bench's TLS runs: made once for the whole bench (not per run), naming
 * 127.0.0.1, localhost and the netns link's server address, so that every server the bench starts
 * presents it and every client trusts it as its CA. Its directory, key and all, is removed when the
 * bench is done with it, and at the latest when the process exits or a signal ends it.
 */
import { rmSync } from 'node:fs';
import { SERVER_ADDRESS } from './link/netns.ts';
import { createTlsCertificate, removeTlsCertificate, type TlsCertificate } from './tls-certificate.ts';

/** What a run needs of the certificate: the server's files, and the PEM its clients trust. */
export type RunCertificate = Pick<TlsCertificate, 'directory' | 'certPath' | 'keyPath' | 'certPem'>;

const live = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function removeAll(): void {
  for (const directory of live) rmSync(directory, { recursive: true, force: true });
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeAll();
  unwatchAll();
  // nobody else handles it: end the process as the signal would have
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function unwatchAll(): void {
  process.off('exit', removeAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Makes the certificate (for the loopback addresses and the netns link's server), removed on exit and on SIGINT, SIGTERM and SIGHUP if not before. */
export async function createRunCertificate(): Promise<TlsCertificate> {
  const certificate = await createTlsCertificate({ extraAddresses: [SERVER_ADDRESS] });
  if (live.size === 0) {
    process.on('exit', removeAll);
    for (const signal of SIGNALS) process.once(signal, onSignal);
  }
  live.add(certificate.directory);
  return certificate;
}

/** Removes the certificate's directory. */
export async function removeRunCertificate(certificate: Pick<TlsCertificate, 'directory'>): Promise<void> {
  await removeTlsCertificate(certificate);
  live.delete(certificate.directory);
  if (live.size === 0) unwatchAll();
}

/** The run certificates not yet removed (for tests). */
export function liveRunCertificates(): string[] {
  return [...live];
}
