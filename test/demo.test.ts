import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../bench/browser/chromium.ts';
import { echoInDemo } from '../bench/browser/demo-driver.ts';
import { DEMO_TRANSPORTS, startEchoSite, type EchoSite } from '../scripts/demo/site.ts';

const STEP_TIMEOUT_MS = 15_000;
const missing = chromiumMissing();

describe('the echo demo in Chromium', { skip: missing }, () => {
  let site: EchoSite;
  let browser: Browser;
  let page: Page;

  before(async () => {
    site = await startEchoSite();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(site.url, { timeout: STEP_TIMEOUT_MS });
  });

  after(async () => {
    await browser?.close();
    await site?.stop();
  });

  for (const transport of DEMO_TRANSPORTS) {
    it(`echoes a typed message over ${transport}, with its latency`, async () => {
      const message = `hi over ${transport}`;
      const line = await echoInDemo(page, transport, message, STEP_TIMEOUT_MS);
      assert.match(line, new RegExp(`^Received: {2}${message} \\d+\\.\\d ms$`));
    });
  }

  it("shows each transport's bytes as the relays counted them", async () => {
    const bytes = await page.evaluate(async () => (await fetch('/api/bytes')).json());
    for (const transport of DEMO_TRANSPORTS) {
      const { up, down } = site.relays[transport].bytes;
      assert.ok(up.payload > 0 && down.payload > 0, `${transport}: payload both ways`);
      assert.ok(bytes[transport].up.total > 0, `${transport}: the page's counters are served`);
    }
    await page.waitForFunction(() => document.querySelectorAll('#counters-websocket tr').length === 3, undefined, { timeout: STEP_TIMEOUT_MS });
  });
});
