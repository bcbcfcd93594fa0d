/**
 * Debian's chromium, driven by playwright-core: never a browser downloaded by playwright. The
 * flags keep it from talking to anything but the pages it is given (no QUIC, no background
 * fetches, no updates), so every byte on the relays is the page's.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What a launch may add: flags, and variables of the browser's environment (on top of this process's). */
export interface ChromiumLaunch {
  args?: string[];
  env?: Record<string, string>;
}

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`;
}

/**
 * The flag that makes Chromium trust a certificate whose public key (SubjectPublicKeyInfo) has
 * this SHA-256, base64: the run's own certificate, as if a CA it trusts had issued it. Chromium
 * honours it only with a profile directory of its own (--user-data-dir), which playwright always
 * gives it.
 */
export function trustCertificateArg(spkiSha256Base64: string): string {
  return `--ignore-certificate-errors-spki-list=${spkiSha256Base64}`;
}

/** A fresh browser: playwright gives each launch a new, empty profile directory. */
export function launchChromium(options: ChromiumLaunch = {}): Promise<Browser> {
  const env = options.env === undefined ? undefined : { ...(process.env as Record<string, string>), ...options.env };
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...(options.args ?? [])], ...(env === undefined ? {} : { env }) });
}
