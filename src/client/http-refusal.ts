import { retryAfterMs } from './backoff.js';
import { HoldfastClientError, serverError } from './errors.js';
import type { Ended } from './transport.js';

/**
 * How an SSE or long-poll request that was not answered 200 ends the connection: the server's
 * refusals (400, 401, 403 with a Holdfast code) stop the client, except `token_expired` (a new
 * token is fetched); 503 reconnects after `Retry-After`; anything else (a 404 from a proxy or a
 * path without the route, a 502) is a transport that cannot connect here.
 */
export async function refusal(res: Response, opened: boolean): Promise<Ended> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const error = serverError(body);
  const retry = retryAfterMs(res.headers.get('retry-after'));
  const refused = error !== null && (res.status === 400 || res.status === 401 || res.status === 403);
  if (refused) {
    const again = error.code === 'token_expired';
    return { opened: true, code: null, reason: error.message, reconnect: again, error, retryAfterMs: null };
  }
  if (res.status === 503) {
    return {
      opened: true,
      code: null,
      reason: error?.message ?? 'unavailable',
      reconnect: true,
      error: null,
      retryAfterMs: retry,
    };
  }
  return {
    opened,
    code: null,
    reason: `HTTP ${res.status}`,
    reconnect: true,
    error: error ?? new HoldfastClientError('unavailable', `HTTP ${res.status}`),
    retryAfterMs: retry,
  };
}

/** A request that failed before any answer (network, DNS, a reset). */
export function lost(opened: boolean, err: unknown): Ended {
  const reason = err instanceof Error ? err.message : 'connection lost';
  return { opened, code: null, reason, reconnect: true, error: null, retryAfterMs: null };
}

/** Headers of an SSE or long-poll request: the token goes in `Authorization`, never in the URL. */
export function requestHeaders(token: string | undefined, accept: string): Record<string, string> {
  const headers: Record<string, string> = { accept };
  if (token !== undefined) headers['authorization'] = 'Bearer ' + token;
  return headers;
}

/** `base` + `?channel=a&channel=b` + extra parameters. */
export function channelUrl(base: string, channels: readonly string[], extra: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const c of channels) params.append('channel', c);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return base + (base.includes('?') ? '&' : '?') + params.toString();
}
