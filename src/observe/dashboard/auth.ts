import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiKeyCheck } from '../../api/auth.js';

export const COOKIE = 'holdfast_dashboard';
/** A login lasts this long; the cookie only proves the API key was known, so rotate the key to revoke. */
const MAX_AGE_S = 7 * 86400;

/**
 * Dashboard access: the API key in `X-API-Key`, or a cookie set by the login form. The cookie
 * holds HMAC-SHA256(api key, label), never the key itself; it changes when the key changes.
 */
export class DashboardAuth {
  readonly #key: ApiKeyCheck;
  readonly #token: Buffer;

  constructor(apiKey: string) {
    this.#key = new ApiKeyCheck(apiKey);
    this.#token = Buffer.from(
      createHmac('sha256', apiKey).update('holdfast dashboard session v1').digest('base64url'),
    );
  }

  /** 'header' or 'cookie' when the request may see the dashboard, else null. */
  check(req: IncomingMessage): 'header' | 'cookie' | null {
    if (this.#key.matches(req.headers['x-api-key'])) return 'header';
    const offered = readCookie(req.headers.cookie, COOKIE);
    if (offered !== null) {
      const b = Buffer.from(offered);
      if (b.length === this.#token.length && timingSafeEqual(b, this.#token)) return 'cookie';
    }
    return null;
  }

  keyMatches(key: string): boolean {
    return this.#key.matches(key);
  }

  setCookie(): string {
    return `${COOKIE}=${this.#token.toString()}; Path=/dashboard; Max-Age=${MAX_AGE_S}; HttpOnly; SameSite=Strict`;
  }

  static clearCookie(): string {
    return `${COOKIE}=; Path=/dashboard; Max-Age=0; HttpOnly; SameSite=Strict`;
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
