import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { type Running, startServer } from '../helpers/server.js';

/**
 * Debian's chromium, driven by playwright-core (no browser download), loads the demo page,
 * which follows a channel with the browser's own WebSocket, EventSource and fetch long-poll.
 */
const skip = browserSkip;

let s: Running;
before(async () => {
  if (!skip) s = await startServer();
});
after(async () => {
  if (!skip) await s.close();
});

test('a browser receives a publication over WebSocket, SSE and long-poll', {
  skip,
  timeout: 60_000,
}, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(`${s.base}/?channel=browser`);
    for (const id of ['ws', 'sse', 'poll']) {
      await page.waitForFunction(`document.getElementById('${id}-state').textContent === 'live'`);
    }
    // The long-poll request must be held at the server before publishing.
    while (s.server.poll.sessions.size === 0) await new Promise((r) => setTimeout(r, 20));
    await s.publish('browser', { hello: 'browser' });
    for (const id of ['ws', 'sse', 'poll']) {
      await page.waitForFunction(`document.getElementById('${id}').children.length >= 1`);
      const text = await page.textContent(`#${id} li`);
      assert.equal(text, '#1 {"hello":"browser"}', id);
    }
    mkdirSync('artifacts', { recursive: true });
    await page.screenshot({ path: 'artifacts/demo-page.png' });
  } finally {
    await browser.close();
  }
});
