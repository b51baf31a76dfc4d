import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { type Running, startServer } from '../helpers/server.js';

/**
 * The served /client.js in Chromium: a page of the server imports it, and on each transport
 * alone receives every publication in order.
 */
const COUNT = 50;

describe('/client.js in Chromium', { skip: browserSkip }, () => {
  let s: Running;
  let browser: Browser;

  before(async () => {
    s = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await s.close();
  });

  for (const transport of ['ws', 'sse', 'poll'] as const) {
    it(`${transport}: every publication, in order`, async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${s.base}/health`);
      const channel = `browser-${transport}`;
      await page.evaluate(
        async ({ base, transport, channel }) => {
          const { Holdfast } = (await import(`${base}/client.js`)) as {
            Holdfast: new (
              url: string,
              opts: unknown,
            ) => {
              transport: string;
              subscribe(c: string, h: unknown): unknown;
              on(e: string, f: (s: string) => void): void;
            };
          };
          const got: number[] = [];
          const w = globalThis as unknown as Record<string, unknown>;
          w['got'] = got;
          const hf = new Holdfast(base, { transports: [transport] });
          w['hf'] = hf;
          await new Promise<void>((resolve) => {
            hf.subscribe(channel, {
              onMessage: (data: { n: number }) => got.push(data.n),
            });
            hf.on('state', (st) => {
              if (st === 'connected') resolve();
            });
          });
        },
        { base: s.base, transport, channel },
      );
      for (let n = 1; n <= COUNT; n++) await s.publish(channel, { n });
      await page.waitForFunction(
        (count) => (globalThis as unknown as { got: number[] }).got.length >= count,
        COUNT,
        {
          timeout: 15_000,
        },
      );
      const got = await page.evaluate(() => (globalThis as unknown as { got: number[] }).got);
      const used = await page.evaluate(
        () => (globalThis as unknown as { hf: { transport: string } }).hf.transport,
      );
      assert.deepEqual(
        got,
        Array.from({ length: COUNT }, (_, i) => i + 1),
      );
      assert.equal(used, transport);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});
