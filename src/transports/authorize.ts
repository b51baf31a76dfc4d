import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access, ConnectInfo } from '../auth/access.js';
import type { Config } from '../config/config.js';
import { type Disconnect, Disconnects, HoldfastError } from '../contract/codes.js';
import type { Identity } from '../contract/identity.js';
import type { NodeStats } from '../core/stats.js';
import { clientAddress } from '../http/address.js';
import { sendError } from '../http/json.js';
import { errorCors, type HeaderLookup, NodeHeaders, type StreamRequest } from './request.js';

/**
 * What every transport asks Access (auth/access.ts) the same way: who a connection is and
 * whether it may follow its channels, before anything of a channel is written. The answer known
 * at once (a cached token, no backend to ask) is taken without waiting, so the fast paths (which
 * decide synchronously) and node:http's routes answer a request alike.
 */

/** The ConnectInfo of a request; headers are copied only where a proxy is there to read them. */
export function connectInfo(
  transport: ConnectInfo['transport'],
  token: string | undefined,
  headers: HeaderLookup,
  remoteAddr: string | undefined,
  config: Config,
): ConnectInfo {
  const forwarded: Record<string, string> = {};
  if (config.connectProxy !== '' || config.subscribeProxy !== '' || config.publishProxy !== '') {
    // By lower-case name, as both paths hold headers (and as the proxy forwards them).
    for (const spelled of config.proxyHeaders) {
      const name = spelled.trim().toLowerCase();
      const v = headers.get(name);
      if (v !== undefined) forwarded[name] = v;
    }
  }
  return { transport, token, headers: forwarded, remoteAddr: remoteAddr ?? '' };
}

/**
 * The identity of a stream request that may follow every one of `channels`, when that is known
 * without waiting; undefined when only authorizeStream can tell (it may refuse).
 */
export function authorizedNow(
  access: Access,
  token: string | undefined,
  channels: readonly string[],
): Identity | null | undefined {
  const identity = access.identityNow(token);
  if (identity === undefined) return undefined;
  for (const channel of channels) if (!access.subscribeNow(identity, channel)) return undefined;
  return identity;
}

/**
 * The identity of a stream request that may follow every one of `channels`; throws the first
 * refusal (a HoldfastError) otherwise. Every channel is checked before any is subscribed.
 */
export async function authorizeStream(
  access: Access,
  c: ConnectInfo,
  channels: readonly string[],
): Promise<Identity | null> {
  const now = authorizedNow(access, c.token, channels);
  if (now !== undefined) return now;
  try {
    const identity = await access.authenticate(c);
    for (const channel of channels) await access.subscribe(identity, channel, c);
    return identity;
  } catch (err) {
    throw asRefusal(err);
  }
}

/** A refusal as a HoldfastError: anything else (a fault) refuses too, never lets in. */
export function asRefusal(err: unknown): HoldfastError {
  return err instanceof HoldfastError ? err : new HoldfastError('unavailable');
}

/** The close code of a WebSocket refused at the door (or whose refresh failed at expiry). */
export function disconnectFor(err: HoldfastError): Disconnect {
  switch (err.code) {
    case 'invalid_token':
      return Disconnects.invalidToken;
    case 'token_expired':
      return Disconnects.tokenExpired;
    case 'backend_unavailable':
      return Disconnects.backendUnavailable;
    case 'permission_denied':
      return Disconnects.forbidden;
    default:
      return Disconnects.internal;
  }
}

/**
 * Checks a refresh's new identity against the channels the connection follows (`following`, read
 * again at the end, for subscriptions made under the old identity while this waited): each one
 * the old identity was granted at once (its token's `channels`) must be granted by the new one,
 * or be allowed by the backend (the subscribe proxy, asked now). Channels the old identity could
 * follow only by the backend's leave stay: its answers are not tied to a token. So revoking a
 * channel in the tokens an application mints takes effect at the next refresh, as a
 * subscription token's expiry bounds a grant in Centrifugo. Throws the first refusal,
 * permission_denied naming the channel (or backend_unavailable).
 */
export async function regrant(
  access: Access,
  current: Identity | null,
  next: Identity,
  following: () => Iterable<string>,
  c: ConnectInfo,
): Promise<void> {
  const asked = new Set<string>();
  for (const channel of [...following()]) {
    if (!lost(access, current, next, channel)) continue;
    try {
      await access.subscribe(next, channel, c);
    } catch (err) {
      throw notGranted(asRefusal(err), channel);
    }
    asked.add(channel);
  }
  for (const channel of following()) {
    if (!asked.has(channel) && lost(access, current, next, channel))
      throw notGranted(new HoldfastError('permission_denied'), channel);
  }
}

/** Whether `channel` was granted to `current` at once and is not to `next`. */
function lost(access: Access, current: Identity | null, next: Identity, channel: string): boolean {
  return access.subscribeNow(current, channel) && !access.subscribeNow(next, channel);
}

function notGranted(err: HoldfastError, channel: string): HoldfastError {
  if (err.code !== 'permission_denied') return err;
  return new HoldfastError(
    'permission_denied',
    `The new token does not grant ${channel}, which this connection follows: unsubscribe it first.`,
  );
}

/**
 * node:http's SSE and long-poll routes, where access is enabled: the identity of `request` once
 * it may follow all its channels (null: anonymous), or undefined when the request was answered
 * instead (its refusal sent, counted in `stats`) or its client went away meanwhile.
 */
export async function authorizeHttpRequest(
  access: Access,
  transport: 'sse' | 'poll',
  request: StreamRequest,
  req: IncomingMessage,
  res: ServerResponse,
  config: Config,
  stats: NodeStats,
): Promise<Identity | null | undefined> {
  const headers = new NodeHeaders(req.headers);
  const info = connectInfo(transport, request.token, headers, clientAddress(req, config.trustProxy), config);
  let identity: Identity | null;
  try {
    identity = await authorizeStream(access, info, request.channels);
  } catch (err) {
    const refusal = err as HoldfastError;
    stats.reject(refusal.code);
    sendError(res, refusal, errorCors(refusal, req.headers.origin));
    return undefined;
  }
  return res.destroyed ? undefined : identity;
}
