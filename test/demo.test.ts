import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../bench/browser/chromium.ts';
import { echoInDemo } from '../bench/browser/demo-driver.ts';
import { DEMO_TRANSPORTS, DEMO_WAITS, startEchoSite, type DemoTransport, type EchoSite } from '../scripts/demo/site.ts';
import { echoReply } from '../servers/contract.ts';
import { waitFor } from './helpers.ts';

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

  /** The messages echoed on each transport, and their replies: the payload each relay must have counted. */
  const echoed = new Map<DemoTransport, string[]>(DEMO_TRANSPORTS.map((transport) => [transport, []]));

  for (const transport of DEMO_TRANSPORTS) {
    it(`echoes a typed message over ${transport}, with its latency`, { timeout: 60_000 }, async () => {
      const message = `hi over ${transport} ✓`;
      const line = await echoInDemo(page, transport, message, STEP_TIMEOUT_MS);
      echoed.get(transport)!.push(message);
      assert.match(line, new RegExp(`^Received: {2}${message} \\d+\\.\\d ms$`));
    });
  }

  it("shows each transport's bytes as the relays counted them", { timeout: 60_000 }, async () => {
    // what the relays counted as payload is what the page sent and got, and nothing else
    for (const transport of DEMO_TRANSPORTS) {
      const messages = echoed.get(transport)!;
      const { up, down } = site.relays[transport].bytes;
      assert.deepEqual(
        { up: up.payload, down: down.payload },
        {
          up: messages.reduce((sum, message) => sum + Buffer.byteLength(message), 0),
          down: messages.reduce((sum, message) => sum + Buffer.byteLength(echoReply(message)), 0),
        },
        `${transport}: payload is the messages and their echoes`,
      );
    }
    // and the page's tables show the relays' counts, every part and the total, sent and received
    // (polls go on: read both until they agree)
    const parts = ['payload', 'headers', 'framing', 'setup', 'total'] as const;
    let shown: Record<string, string[][]> = {};
    const expected = (): Record<string, string[][]> =>
      Object.fromEntries(
        DEMO_TRANSPORTS.map((transport) => {
          const { up, down } = site.relays[transport].bytes;
          return [transport, parts.map((part) => [part, up[part].toLocaleString('en'), down[part].toLocaleString('en')])];
        }),
      );
    await waitFor(
      async () => {
        // no named functions inside: the page has none of the helpers tsx's output would call
        shown = await page.evaluate(
          (transports) =>
            Object.fromEntries(
              transports.map((transport) => [
                transport,
                Array.from(document.querySelectorAll(`#counters-${transport} tbody tr`)).map((row) =>
                  Array.from(row.querySelectorAll('th, td'), (cell) => cell.textContent ?? ''),
                ),
              ]),
            ),
          DEMO_TRANSPORTS as readonly string[],
        );
        return isDeepStrictEqual(shown, expected());
      },
      { timeoutMs: 10_000, everyMs: 100, what: "the page's counters to show the relays' counts" },
    ).catch((error: unknown) => {
      assert.deepEqual(shown, expected(), String(error));
    });
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
    if (shots !== undefined) rmSync(shots, { recursive: true, force: true });
    await browser?.close();
    await site?.stop();
  });

  for (const width of WIDTHS) {
    it(`at ${width} pixels: every table inside its card, and one send over all four answered on each`, { timeout: 60_000 }, async (t) => {
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
