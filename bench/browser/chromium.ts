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

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium)`;
}

/** A fresh browser: playwright gives each launch a new, empty profile directory. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
