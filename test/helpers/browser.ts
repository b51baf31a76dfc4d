import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Debian's chromium, driven by playwright-core: no browser download. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Skip reason for browser tests on a machine without chromium (false when it is there). */
export const browserSkip: string | false = existsSync(CHROMIUM)
  ? false
  : `no browser at ${CHROMIUM}: apt-get install -y chromium`;

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
