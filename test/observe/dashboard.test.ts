import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { HoldfastServer } from '../../src/server/server.js';
import { browserSkip, launchBrowser } from '../helpers/browser.js';
import { mintToken, TOKEN_SECRET } from '../helpers/tokens.js';
import { API_KEY, publish, startServer, WsClient } from './helpers.js';

/** The page's globals, as seen from functions run inside the browser. */
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));

describe('/dashboard access', () => {
  let server: HoldfastServer;
  let base: string;

  before(async () => {
    ({ server, base } = await startServer());
  });
  after(() => server.close());

  it('shows a login form, not the page, without the key', async () => {
    const res = await fetch(base + '/dashboard');
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.match(html, /<form method="post" action="\/dashboard\/login">/);
    assert.doesNotMatch(html, /chart-connections/);
    const stream = await fetch(base + '/dashboard/stream');
    assert.equal(stream.status, 401);
    await stream.arrayBuffer();
    const wrongCookie = await fetch(base + '/dashboard/stream', {
      headers: { cookie: 'holdfast_dashboard=' + API_KEY },
    });
    assert.equal(wrongCookie.status, 401);
    await wrongCookie.arrayBuffer();
  });

  it('logs in through the form with an HttpOnly, SameSite=Strict cookie that is not the key', async () => {
    const wrong = await fetch(base + '/dashboard/login', {
      method: 'POST',
      body: new URLSearchParams({ key: 'nope' }),
      redirect: 'manual',
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.match(await wrong.text(), /not right/);

    const ok = await fetch(base + '/dashboard/login', {
      method: 'POST',
      body: new URLSearchParams({ key: API_KEY }),
      redirect: 'manual',
    });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/dashboard');
    const cookie = ok.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^holdfast_dashboard=[A-Za-z0-9_-]{20,};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.ok(!cookie.includes(API_KEY));

    const page = await fetch(base + '/dashboard', { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /chart-connections/);
  });

  it('accepts X-API-Key and serves uPlot itself', async () => {
    const page = await fetch(base + '/dashboard', { headers: { 'x-api-key': API_KEY } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('set-cookie'), null, 'a key in a header makes no login');
    await page.arrayBuffer();
    const lib = await fetch(base + '/dashboard/uplot.js');
    assert.equal(lib.status, 200);
    assert.match(lib.headers.get('content-type') ?? '', /javascript/);
    assert.match(await lib.text(), /uPlot/);
  });

  it('streams a snapshot over SSE to an authenticated client', async () => {
    const ac = new AbortController();
    const res = await fetch(base + '/dashboard/stream', {
      headers: { 'x-api-key': API_KEY },
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: stats')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    ac.abort();
    const data = /event: stats\ndata: (.*)\n/.exec(text)?.[1];
    assert.ok(data !== undefined);
    const snap = JSON.parse(data) as { workers: number; connections: { total: number }; presence: unknown };
    assert.equal(snap.workers, 1);
    assert.equal(snap.connections.total, 0);
    assert.equal(snap.presence, null, 'no namespace keeps presence');
  });
});

/** Reads a dashboard stream's stats events until `done` holds for one (or the stream ends). */
async function statsUntil(
  base: string,
  done: (snap: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const ac = new AbortController();
  const res = await fetch(base + '/dashboard/stream', {
    headers: { 'x-api-key': API_KEY },
    signal: ac.signal,
  });
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) throw new Error('the stream ended');
      text += Buffer.from(value).toString();
      for (
        let m = /event: stats\ndata: (.*)\n\n/.exec(text);
        m !== null;
        m = /event: stats\ndata: (.*)\n\n/.exec(text)
      ) {
        text = text.slice(m.index + m[0].length);
        const snap = JSON.parse(m[1]!) as Record<string, unknown>;
        if (done(snap)) return snap;
      }
    }
  } finally {
    ac.abort();
  }
}

describe('/dashboard presence counts', () => {
  let server: HoldfastServer;
  let base: string;
  let port: number;
  const clients: WsClient[] = [];

  before(async () => {
    ({ server, base, port } = await startServer({
      tokenHmacSecret: TOKEN_SECRET,
      namespaces: { '': {}, room: { presence: true } },
    }));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server.close();
  });

  it('lists the busiest presence channels with their members, the most first', async () => {
    for (const [user, channel] of [
      ['ada', 'room:big'],
      ['bob', 'room:big'],
      ['cy', 'room:small'],
    ] as const) {
      const c = await WsClient.open(port, await mintToken(user));
      await c.subscribe(channel);
      clients.push(c);
    }
    const snap = await statsUntil(
      base,
      (s) => Array.isArray(s['presence']) && (s['presence'] as unknown[]).length === 2,
    );
    assert.deepEqual(snap['presence'], [
      { channel: 'room:big', clients: 2 },
      { channel: 'room:small', clients: 1 },
    ]);
  });
});

describe('/dashboard in a browser', { skip: browserSkip }, () => {
  let server: HoldfastServer;
  let base: string;
  let port: number;
  let browser: Browser;
  const clients: WsClient[] = [];
  let publishing: NodeJS.Timeout | null = null;

  before(async () => {
    ({ server, base, port } = await startServer({
      tokenHmacSecret: TOKEN_SECRET,
      namespaces: { '': {}, room: { presence: true } },
    }));
    browser = await launchBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    if (publishing !== null) clearInterval(publishing);
    await browser?.close();
    for (const c of clients) await c.close();
    await server.close();
  });

  const figure = (page: Page, name: string): Promise<string> =>
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText(), not the DOM property
    page.locator(`[data-figure="${name}"]`).innerText();

  it('shows figures that move while the test publishes', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    page.on('response', (r) => {
      const loginForm = r.status() === 401 && r.url() === base + '/dashboard';
      if (r.status() >= 400 && !loginForm) errors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(base + '/dashboard');
    await page.fill('#key', API_KEY);
    await Promise.all([page.waitForURL(base + '/dashboard'), page.click('button[type=submit]')]);
    await page.waitForFunction(() => document.querySelector('[data-figure="workers"]')?.textContent === '1');
    assert.equal(await figure(page, 'connections'), '0');
    const before = await figure(page, 'total-in');

    for (let i = 0; i < 3; i++) {
      const c = await WsClient.open(port, await mintToken(`fan${i}`));
      await c.subscribe('scores');
      if (i < 2) await c.subscribe('room:match-chat');
      clients.push(c);
    }
    let n = 0;
    publishing = setInterval(() => {
      publish(base, 'scores', { n: n++, score: '2-1' }).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
    }, 40);

    await page.waitForFunction(
      () => document.querySelector('[data-figure="connections"]')?.textContent === '3',
    );
    await page.waitForFunction(
      (b) => {
        const total = document.querySelector('[data-figure="total-in"]')?.textContent ?? b;
        const rate = Number(document.querySelector('[data-figure="rate-out"]')?.textContent ?? '0');
        return total !== b && rate > 0;
      },
      before,
      { timeout: 10_000 },
    );
    assert.notEqual(await figure(page, 'total-in'), before);
    assert.match(await figure(page, 'latency'), /ms$/);
    assert.equal(await figure(page, 'subscriptions'), '5');
    await page.waitForFunction(() =>
      document.querySelector('#presence')?.textContent?.includes('room:match-chat'),
    );
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText(), not the DOM property
    assert.match(await page.locator('#presence').innerText(), /room:match-chat\s+2/);
    // let the charts draw a few seconds of lines for the screenshots
    await page.waitForTimeout(4000);
    assert.ok((await page.locator('.uplot').count()) >= 6);
    await page.screenshot({ path: ARTIFACTS + 'dashboard-desktop.png', fullPage: true });

    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await phone.addCookies((await context.cookies()).map((c) => ({ ...c })));
    const small = await phone.newPage();
    await small.goto(base + '/dashboard');
    await small.waitForFunction(
      () => document.querySelector('[data-figure="connections"]')?.textContent === '3',
    );
    await small.waitForTimeout(3000);
    await small.screenshot({ path: ARTIFACTS + 'dashboard-phone.png', fullPage: true });
    const login = await browser.newContext({ viewport: { width: 390, height: 700 } });
    const loginPage = await login.newPage();
    await loginPage.goto(base + '/dashboard');
    await loginPage.screenshot({ path: ARTIFACTS + 'dashboard-login-phone.png' });
    await Promise.all([context.close(), phone.close(), login.close()]);
    assert.deepEqual(errors, []);
  });
});

describe('/dashboard odd requests', () => {
  let server: HoldfastServer;
  let base: string;

  before(async () => {
    ({ server, base } = await startServer());
  });
  after(() => server.close());

  it('answers an oversized login form with 413 before closing', async () => {
    const res = await fetch(base + '/dashboard/login', {
      method: 'POST',
      body: new URLSearchParams({ key: 'k'.repeat(10_000) }),
      redirect: 'manual',
    });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'payload_too_large');
  });

  it('answers HEAD on the stream with its head and ends', async () => {
    const res = await fetch(base + '/dashboard/stream', {
      method: 'HEAD',
      headers: { 'x-api-key': API_KEY },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  });
});
