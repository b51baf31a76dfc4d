import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { KeyGate } from '../../api/auth.js';
import { HoldfastError } from '../../contract/codes.js';
import { sseEvent } from '../../core/encode.js';
import { sendError, sendErrorAndClose } from '../../http/json.js';
import { type Snapshot, SnapshotBuilder } from '../snapshot.js';
import { type Access, DashboardAuth } from './auth.js';
import type { Sessions } from './sessions.js';

/**
 * GET /dashboard: a live page for the person running the server or a load test. The page and
 * its script are static files (assets/, copied next to the compiled code by `npm run build`);
 * uPlot is served from node_modules. Figures arrive once a second over a dedicated SSE stream,
 * /dashboard/stream, each event a Snapshot (observe/snapshot.ts) built from the same text
 * /metrics serves, so the page and Prometheus never disagree.
 */
interface Asset {
  type: string;
  body: Buffer;
}

let assets: Map<string, Asset> | null = null;

function loadAssets(): Map<string, Asset> {
  if (assets !== null) return assets;
  const dir = new URL('./assets/', import.meta.url);
  const read = (name: string): Buffer => readFileSync(new URL(name, dir));
  const require = createRequire(import.meta.url);
  assets = new Map([
    ['/dashboard', { type: 'text/html; charset=utf-8', body: read('index.html') }],
    ['login', { type: 'text/html; charset=utf-8', body: read('login.html') }],
    ['/dashboard/app.js', { type: 'text/javascript; charset=utf-8', body: read('app.js') }],
    ['/dashboard/app.css', { type: 'text/css; charset=utf-8', body: read('app.css') }],
    [
      '/dashboard/uplot.js',
      {
        type: 'text/javascript; charset=utf-8',
        body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')),
      },
    ],
    [
      '/dashboard/uplot.css',
      { type: 'text/css; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) },
    ],
  ]);
  return assets;
}

const MAX_STREAMS = 32;
const MAX_STREAM_BACKLOG = 256 * 1024;
const INTERVAL_MS = 1000;

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

const PRESENCE_EVERY_MS = 5000;

export class Dashboard {
  readonly #auth: DashboardAuth;
  readonly #scrape: () => Promise<string>;
  readonly #presence: (() => Promise<{ channel: string; clients: number }[]>) | null;
  /** The last presence answer and when it was asked (read at most every PRESENCE_EVERY_MS). */
  #presenceLast: { channel: string; clients: number }[] | null = null;
  #presenceAt = 0;
  /** Open streams, each with its login's session id (null: opened with X-API-Key). */
  readonly #streams = new Map<ServerResponse, string | null>();
  readonly #builder = new SnapshotBuilder();
  #last: Buffer | null = null;
  #timer: NodeJS.Timeout | null = null;
  #busy = false;

  /**
   * `scrape` returns the Prometheus text to show (the cluster's when in a cluster); `keys` checks
   * the API key; `sessions` keeps the logins (the primary's store when in a cluster); `presence`
   * gives the channels with the most presence members (null where no namespace keeps presence).
   */
  constructor(
    keys: KeyGate,
    sessions: Sessions,
    opts: { sessionTtlS: number; trustProxy: boolean },
    scrape: () => Promise<string>,
    presence: (() => Promise<{ channel: string; clients: number }[]>) | null = null,
  ) {
    this.#auth = new DashboardAuth(keys, sessions, { ttlS: opts.sessionTtlS, trustProxy: opts.trustProxy });
    this.#scrape = scrape;
    this.#presence = presence;
    loadAssets();
  }

  /** Handles any path under /dashboard. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = url.pathname === '/dashboard/' ? '/dashboard' : url.pathname;
    if (path === '/dashboard/login') {
      if (req.method !== 'POST') {
        sendError(res, new HoldfastError('method_not_allowed', 'Use POST.'));
        return;
      }
      void this.#login(req, res);
      return;
    }
    if (path === '/dashboard/logout') {
      if (req.method !== 'POST') {
        sendError(res, new HoldfastError('method_not_allowed', 'Use POST.'));
        return;
      }
      void this.#logout(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
      return;
    }
    if (path === '/dashboard') {
      void this.#page(req, res);
      return;
    }
    if (path === '/dashboard/stream') {
      void this.#stream(req, res);
      return;
    }
    const asset = loadAssets().get(path);
    if (asset === undefined || path === 'login') {
      sendError(res, new HoldfastError('not_found'));
      return;
    }
    serve(res, asset, { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  }

  async #page(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const access = await this.#auth.check(req);
      if ('error' in access) {
        const throttled = access.error.status === 429;
        this.#loginPage(res, throttled ? 429 : 401, throttled ? access.error.message : '', access.headers);
        return;
      }
      // A key in X-API-Key is checked on every request and makes no login: a script that polls
      // the page would otherwise fill the store, whose oldest logins (the operator's) then end.
      serve(res, loadAssets().get('/dashboard')!, PAGE_HEADERS);
    } catch (err) {
      sendError(res, err instanceof HoldfastError ? err : new HoldfastError('unavailable'));
    }
  }

  async #stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let access: Access;
    try {
      access = await this.#auth.check(req);
    } catch {
      access = { error: new HoldfastError('unavailable'), headers: {} };
    }
    if ('error' in access) {
      sendError(res, access.error, access.headers);
      return;
    }
    if (!res.destroyed) this.#openStream(req, res, access.via === 'cookie' ? access.session : null);
  }

  async #logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The session ends (on every worker) before the answer goes out.
    const cookie = await this.#auth.logout(req);
    res.writeHead(303, { location: '/dashboard', 'set-cookie': cookie, 'cache-control': 'no-store' });
    res.end();
  }

  #loginPage(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
    const page = loadAssets().get('login')!;
    const body = Buffer.from(page.body.toString('utf8').replace('{{message}}', message));
    serve(res, { type: page.type, body }, { ...PAGE_HEADERS, ...extra }, status);
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req, 4096);
    if (form === null) {
      sendErrorAndClose(req, res, new HoldfastError('payload_too_large'));
      return;
    }
    const key = form.get('key') ?? '';
    const refusal = this.#auth.verifyKey(req, key);
    if (refusal !== null) {
      if (refusal.error.status === 429) this.#loginPage(res, 429, refusal.error.message, refusal.headers);
      else this.#loginPage(res, 401, 'That key is not right.');
      return;
    }
    let cookie: string;
    try {
      cookie = await this.#auth.login(req);
    } catch {
      sendError(res, new HoldfastError('unavailable', 'No session could be made; retry.'));
      return;
    }
    res.writeHead(303, { location: '/dashboard', 'set-cookie': cookie, 'cache-control': 'no-store' });
    res.end();
  }

  #openStream(req: IncomingMessage, res: ServerResponse, session: string | null): void {
    if (this.#streams.size >= MAX_STREAMS) {
      sendError(res, new HoldfastError('unavailable', 'Too many dashboards open.'), { 'retry-after': '5' });
      return;
    }
    const head = {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    };
    if (req.method === 'HEAD') {
      // A HEAD response has no body, so Node would never send a stream's head: end it here.
      res.writeHead(200, head);
      res.end();
      return;
    }
    res.writeHead(200, { ...head, connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    if (this.#last !== null) res.write(this.#last);
    this.#streams.set(res, session);
    res.on('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    });
    if (this.#timer === null) {
      this.#timer = setInterval(() => void this.#tick(), INTERVAL_MS);
      this.#timer.unref();
      void this.#tick();
    }
  }

  /**
   * One push to every stream. A stream of a login ends when its session does (logout on any
   * worker, expiry, or eviction from the store): each push asks the store first, once per
   * session, alongside the scrape (at most MAX_STREAMS questions a second, over IPC with
   * workers). The page's EventSource then reconnects and is refused.
   */
  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const [text, ended, presence] = await Promise.all([
        this.#scrape(),
        this.#endedSessions(),
        this.#busiest(),
      ]);
      const snapshot: Snapshot = this.#builder.build(text);
      snapshot.presence = presence;
      const event = sseEvent('stats', snapshot);
      this.#last = event;
      for (const [res, session] of this.#streams) {
        if (session !== null && ended.has(session)) {
          this.#streams.delete(res);
          res.end();
        } else if (res.writableLength > MAX_STREAM_BACKLOG) res.destroy();
        else res.write(event);
      }
    } catch {
      // a failed scrape skips one frame; the page shows the gap
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The busiest presence channels, asked of the store at most every PRESENCE_EVERY_MS (on NATS
   * the answer lists every member); a store that fails shows none in that frame.
   */
  async #busiest(): Promise<{ channel: string; clients: number }[] | null> {
    if (this.#presence === null) return null;
    const now = Date.now();
    if (now - this.#presenceAt >= PRESENCE_EVERY_MS) {
      this.#presenceAt = now;
      this.#presenceLast = await this.#presence().catch(() => null);
    }
    return this.#presenceLast;
  }

  /** The sessions of open streams that are no longer valid. */
  async #endedSessions(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const session of this.#streams.values()) if (session !== null) ids.add(session);
    const ended = new Set<string>();
    await Promise.all(
      [...ids].map(async (id) => {
        if (!(await this.#auth.sessions.valid(id))) ended.add(id);
      }),
    );
    return ended;
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const res of this.#streams.keys()) res.destroy();
    this.#streams.clear();
  }
}

function serve(res: ServerResponse, asset: Asset, headers: Record<string, string>, status = 200): void {
  res.writeHead(status, { 'content-type': asset.type, 'content-length': asset.body.length, ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : asset.body);
}

/** An application/x-www-form-urlencoded body of at most `max` bytes, or null when larger. */
function readForm(req: IncomingMessage, max: number): Promise<URLSearchParams | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // Stop reading; the caller answers 413 and closes. Destroying here would lose the answer.
        req.removeAllListeners('data');
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', () => resolve(null));
  });
}
