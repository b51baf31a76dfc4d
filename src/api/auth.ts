import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HoldfastError } from '../contract/codes.js';
import { clientAddress } from '../http/address.js';
import { FailureThrottle } from './throttle.js';

export { clientAddress };

/**
 * Compares an offered API key with the configured one in constant time: both are hashed to
 * digests of one length first, so neither the key's length nor where a guess first differs
 * shows in the time taken.
 */
export class ApiKeyCheck {
  readonly #digest: Buffer;

  constructor(key: string) {
    this.#digest = createHash('sha256').update(key).digest();
  }

  matches(offered: string | string[] | undefined): boolean {
    if (typeof offered !== 'string' || offered.length === 0) return false;
    return timingSafeEqual(createHash('sha256').update(offered).digest(), this.#digest);
  }
}

/** Why a key was not accepted: the error to answer, with its headers (Retry-After on 429). */
export interface KeyRefusal {
  error: HoldfastError;
  headers: Record<string, string>;
}

export interface KeyGateOptions {
  /** Wrong keys one client address may offer per minute in this worker (0: no limit). */
  failuresPerMinute: number;
  /** The peer is a trusted reverse proxy: the client's address is the last X-Forwarded-For entry. */
  trustProxy: boolean;
  /**
   * Told when an address becomes blocked (once per address per window), with the seconds until
   * it may try again: the server logs it, so an operator whose publisher gets 429 sees why.
   */
  onBlocked?: (address: string, retryAfterS: number) => void;
}

/** Addresses whose failures are remembered at once; past it the oldest window is dropped. */
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Every check of the API key (HTTP API, /metrics, dashboard) goes through one gate per worker:
 * the constant-time comparison, and the throttle of wrong keys per client address
 * (api/throttle.ts). An address over its limit gets 429 `too_many_attempts` with Retry-After
 * for every key it offers, the right one included, until its window ends: otherwise guessing
 * would go on. So a client that shares an address with a guesser (the same NAT, or every client
 * behind a proxy when trustProxy is off) is locked out with it; README "Access" gives the
 * remedies. A request without any key is refused (401) without counting: that is not a guess.
 */
export class KeyGate {
  readonly #key: ApiKeyCheck;
  readonly #throttle: FailureThrottle;
  readonly #trustProxy: boolean;
  readonly #onBlocked: ((address: string, retryAfterS: number) => void) | null;

  constructor(apiKey: string, opts: KeyGateOptions) {
    this.#key = new ApiKeyCheck(apiKey);
    this.#throttle = new FailureThrottle({
      maxFailures: opts.failuresPerMinute,
      windowMs: 60_000,
      maxAddresses: MAX_TRACKED_ADDRESSES,
    });
    this.#trustProxy = opts.trustProxy;
    this.#onBlocked = opts.onBlocked ?? null;
  }

  /** Null when `offered` is the key and the client may try one now; else what to answer. */
  verify(req: IncomingMessage, offered: string | string[] | undefined, now = Date.now()): KeyRefusal | null {
    const address = clientAddress(req, this.#trustProxy);
    const wait = this.#throttle.blockedFor(address, now);
    if (wait > 0) {
      return {
        error: new HoldfastError('too_many_attempts', `Too many wrong keys; retry in ${wait} s.`),
        headers: { 'retry-after': String(wait) },
      };
    }
    if (this.#key.matches(offered)) return null;
    const given = typeof offered === 'string' && offered.length > 0;
    if (given && this.#throttle.failed(address, now) && this.#onBlocked !== null) {
      this.#onBlocked(address, this.#throttle.blockedFor(address, now));
    }
    return { error: new HoldfastError('unauthorized'), headers: {} };
  }
}

/** Whether the request reached the proxy over HTTPS (X-Forwarded-Proto, read only from a trusted proxy). */
export function viaHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if (!trustProxy) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',', 1)[0]?.trim().toLowerCase();
  return first === 'https';
}

/** The key in `Authorization: Bearer <key>` (what Prometheus' `authorization` setting sends), else X-API-Key. */
export function offeredKey(req: IncomingMessage): string | string[] | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m !== null) return m[1];
  }
  return req.headers['x-api-key'];
}

/** A warning for the start banner when the configured key is easy to guess, else null. */
export function apiKeyWarning(apiKey: string, generated: boolean): string | null {
  if (generated || apiKey.length >= MIN_KEY_LENGTH) return null;
  return `the API key is shorter than ${MIN_KEY_LENGTH} characters: it can be guessed; use a long random one (e.g. openssl rand -base64 24)`;
}

const MIN_KEY_LENGTH = 16;
