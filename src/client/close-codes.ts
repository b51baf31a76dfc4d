import { HoldfastClientError } from './errors.js';

/** 3005 `token expired` (src/contract/codes.ts Disconnects.tokenExpired): get a new token, then reconnect. */
export const TOKEN_EXPIRED = 3005;

/**
 * Whether a close code means "reconnect" (src/contract/codes.ts: 3000-3499 and RFC 6455's
 * transient ones) or "stop until something changes" (3500+, and the protocol faults a retry
 * would repeat).
 */
export function reconnects(code: number): boolean {
  if (code >= 3500) return false;
  return code !== 1000 && code !== 1002 && code !== 1003 && code !== 1007 && code !== 1009;
}

/** The error reported for a close code that stops the client. */
export function closeError(code: number, reason: string): HoldfastClientError {
  return new HoldfastClientError('disconnect', reason === '' ? `closed with ${code}` : reason, code);
}
