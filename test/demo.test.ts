import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../bench/browser/chromium.ts';
import { echoInDemo } from '../bench/browser/demo-driver.ts';
import { DEMO_TRANSPORTS, DEMO_WAITS, startEchoSite, type EchoSite } from '../scripts/demo/site.ts';
import { echoReply } from '../servers/contract.ts';

const STEP_TIMEOUT_MS = 15_000;
const missing = chromiumMissing();
/** The window widths the page must be readable at, from a small laptop's to a large screen's. */
const WIDTHS = [800, 1200, 1920];

interface Layout {
  /** Each table, whether its box lies inside its card's (half a pixel of rounding allowed), and both boxes. */
  tables: { id: string; inCard: boolean; table: DOMRect; card?: DOMRect }[];
  /** Pairs of cards whose boxes overlap. */
  overlapping: string[];
  /** How far the page scrolls sideways, in pixels. */
  sideways: number;
}

/** Measures the page's layout in the browser (as text: tsx would add helpers of its own to a function). */
const LAYOUT_SCRIPT = `(() => {
  const inside = (inner, outer) =>
    inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
  const tables = [...document.querySelectorAll('table')].map((table) => {
    const card = table.closest('.card');
    const box = table.getBoundingClientRect();
    const cardBox = card === null ? undefined : card.getBoundingClientRect();
    return { id: table.id, inCard: cardBox !== undefined && inside(box, cardBox), table: box.toJSON(), card: cardBox && cardBox.toJSON() };
  });
  const cards = [...document.querySelectorAll('.card')].map((card) => card.getBoundingClientRect());
  const overlapping = [];
  cards.forEach((a, i) =>
    cards.forEach((b, j) => {
      if (j > i && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlapping.push(i + ' and ' + j);
    }),
  );
  return { tables, overlapping, sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth };
})()`;

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
    // payload, headers, framing, setup and total, sent and received
    await page.waitForFunction(() => document.querySelectorAll('#counters-websocket tbody tr').length === 5, undefined, { timeout: STEP_TIMEOUT_MS });
  });
});

describe('the echo demo laid out at 800, 1200 and 1920 pixels wide', { skip: missing }, () => {
  let site: EchoSite;
  let browser: Browser;
  /** Where the screenshots go, to be looked at: outside the repository. */
  let shots: string;

  before(async () => {
    site = await startEchoSite();
    browser = await launchChromium();
    shots = mkdtempSync(path.join(tmpdir(), 'wirecost-demo-'));
  });

  after(async () => {
    await browser?.close();
    await site?.stop();
  });

  for (const width of WIDTHS) {
    it(`at ${width} pixels: every table inside its card, and one send over all four answered on each`, async (t) => {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      try {
        await page.goto(site.url, { timeout: STEP_TIMEOUT_MS });
        const message = `all four at ${width}`;
        await page.fill('#message', message, { timeout: STEP_TIMEOUT_MS });
        await page.locator('#send-all:enabled').click({ timeout: STEP_TIMEOUT_MS });
        await page.waitForFunction(
          ([names, expected]) =>
            names.every((name) => [...document.querySelectorAll(`#replies-${name} .reply`)].some((reply) => reply.textContent === expected)),
          [DEMO_TRANSPORTS, echoReply(message)] as const,
          { timeout: STEP_TIMEOUT_MS },
        );
        // the side-by-side table has every answer's latency and what the send cost; the chart a line per transport
        await page.waitForFunction(
          (names) =>
            names.every((name) => /\d/.test(document.getElementById(`since-${name}`)?.textContent ?? '')) &&
            document.querySelectorAll('#chart polyline').length === names.length,
          DEMO_TRANSPORTS,
          { timeout: STEP_TIMEOUT_MS },
        );
        for (const transport of DEMO_TRANSPORTS) {
          assert.match((await page.textContent(`#latency-${transport}`, { timeout: STEP_TIMEOUT_MS })) ?? '', /^\d+\.\d ms$/, transport);
        }
        // each transport says how it waits: the poll interval, the hold time
        assert.match(
          (await page.textContent('#waits-short-poll', { timeout: STEP_TIMEOUT_MS })) ?? '',
          new RegExp(`every ${DEMO_WAITS.shortPollIntervalMs.toLocaleString('en')} ms`),
        );
        assert.match((await page.textContent('#waits-long-poll', { timeout: STEP_TIMEOUT_MS })) ?? '', new RegExp(`for ${DEMO_WAITS.longPollHoldMs / 1000} s`));

        const layout = (await page.evaluate(LAYOUT_SCRIPT)) as Layout;
        const shot = path.join(shots, `demo-${width}.png`);
        await page.screenshot({ path: shot, fullPage: true, timeout: STEP_TIMEOUT_MS });
        t.diagnostic(`screenshot: ${shot}`);
        assert.equal(layout.tables.length, 1 + DEMO_TRANSPORTS.length, 'the side-by-side table and one per transport');
        assert.deepEqual(
          layout.tables.filter((table) => !table.inCard),
          [],
          'a table leaves its card',
        );
        assert.deepEqual(layout.overlapping, [], 'cards overlap');
        assert.equal(layout.sideways, 0, 'the page scrolls sideways');
      } finally {
        await page.close();
      }
    });
  }
});
