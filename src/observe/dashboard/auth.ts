import type { IncomingMessage } from 'node:http';
import { type KeyGate, type KeyRefusal, viaHttps } from '../../api/auth.js';
import type { Sessions } from './sessions.js';

export const COOKIE = 'holdfast_dashboard';

/** What a session id looks like (sessions.ts: 32 random bytes, base64url): anything else is not asked about. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export interface DashboardAuthOptions {
  /** Seconds a login lasts: the cookie's Max-Age, and the session's life in the store. */
  ttlS: number;
  /** X-Forwarded-Proto is read (for the cookie's Secure attribute) only behind a trusted proxy. */
  trustProxy: boolean;
}

export type Access = { via: 'header' } | { via: 'cookie'; session: string } | KeyRefusal;

/**
 * Dashboard access: the API key in `X-API-Key` (through the server's KeyGate, so wrong keys are
 * throttled like the API's), checked on each request and making no session; or the cookie of a
 * login through the form: a session id (sessions.ts) that the server keeps until it expires or
 * its owner logs out. The cookie never holds the key.
 */
export class DashboardAuth {
  readonly #keys: KeyGate;
  readonly sessions: Sessions;
  readonly #opts: DashboardAuthOptions;

  constructor(keys: KeyGate, sessions: Sessions, opts: DashboardAuthOptions) {
    this.#keys = keys;
    this.sessions = sessions;
    this.#opts = opts;
  }

  /** How the request may see the dashboard, or the refusal to answer (401, or 429 for a throttled key). */
  async check(req: IncomingMessage): Promise<Access> {
    const key = req.headers['x-api-key'];
    if (key !== undefined) return this.#keys.verify(req, key) ?? { via: 'header' };
    const session = sessionOf(req);
    if (session !== null && (await this.sessions.valid(session))) return { via: 'cookie', session };
    // No key given: a 401 (or the address's 429 while it is throttled), never null.
    return this.#keys.verify(req, undefined) ?? { via: 'header' };
  }

  /** Checks a key typed into the login form; null when it is right. */
  verifyKey(req: IncomingMessage, key: string): KeyRefusal | null {
    return this.#keys.verify(req, key);
  }

  /** A new login's cookie. */
  async login(req: IncomingMessage): Promise<string> {
    const id = await this.sessions.create();
    return `${COOKIE}=${id}; Path=/dashboard; Max-Age=${this.#opts.ttlS}; HttpOnly; SameSite=Strict${this.#secure(req)}`;
  }

  /** Ends the request's session, if any, and returns the cookie that clears it. */
  async logout(req: IncomingMessage): Promise<string> {
    const session = sessionOf(req);
    if (session !== null) await this.sessions.end(session);
    return `${COOKIE}=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict${this.#secure(req)}`;
  }

  #secure(req: IncomingMessage): string {
    return viaHttps(req, this.#opts.trustProxy) ? '; Secure' : '';
  }
}

function sessionOf(req: IncomingMessage): string | null {
  const value = readCookie(req.headers.cookie, COOKIE);
  return value !== null && SESSION_ID.test(value) ? value : null;
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
