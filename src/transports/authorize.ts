import type { Access, ConnectInfo } from '../auth/access.js';
import type { Config } from '../config/config.js';
import { type Disconnect, Disconnects, HoldfastError } from '../contract/codes.js';
import type { Identity } from '../contract/identity.js';
import type { HeaderLookup } from './request.js';

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
    for (const name of config.proxyHeaders) {
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
