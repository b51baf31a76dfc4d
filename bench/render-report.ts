/**
 * Renders a bench report.html to a PNG with headless Chromium, to look at it as a user would.
 * Usage: node dist/bench/render-report.js <report.html> <out.png> [width]
 * Chromium: /usr/bin/chromium, or CHROMIUM_PATH (test/helpers/browser.ts).
 */
import { resolve } from 'node:path';
import { launchBrowser } from '../test/helpers/browser.js';

const [html, png, width] = process.argv.slice(2);
if (html === undefined || png === undefined) {
  console.error('usage: render-report <report.html> <out.png> [width]');
  process.exit(2);
}
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: Number(width ?? 1240), height: 900 } });
  await page.goto('file://' + resolve(html));
  await page.screenshot({ path: png, fullPage: true });
} finally {
  await browser.close();
}
