/** Drives the demo page (scripts/demo/) the way a user would: type a message, press send, read the answer. */
import type { Page } from 'playwright-core';
import { echoReply } from '../../servers/contract.ts';

/**
 * Sends `message` over one transport of an open demo page and waits, at most `timeoutMs` per
 * step, until its exact answer (`Received:  ` and the message, two spaces) is on the page;
 * returns the answer's line, latency included.
 */
export async function echoInDemo(page: Page, transport: string, message: string, timeoutMs: number): Promise<string> {
  await page.fill('#message', message, { timeout: timeoutMs });
  await page.locator(`button[data-transport="${transport}"]:enabled`).click({ timeout: timeoutMs });
  // Exact text, read from the DOM: playwright's text matching would fold the two spaces into one.
  await page.waitForFunction(
    ([name, expected]) => [...document.querySelectorAll(`#replies-${name} .reply`)].some((reply) => reply.textContent === expected),
    [transport, echoReply(message)] as const,
    { timeout: timeoutMs },
  );
  return (await page.locator(`#replies-${transport} li`).first().textContent({ timeout: timeoutMs })) ?? '';
}
