import { SignJWT } from 'jose';
import WebSocket from 'ws';

/** The HMAC secret the presence end-to-end tests configure (tokenHmacSecret). */
export const TOKEN_SECRET = 'presence-test-secret-0123456789abcdef';

/** A connection token (HS256) as an application's backend would mint it (DESIGN.md "Connection token"). */
export async function mintToken(
  sub: string,
  extra: { info?: unknown; channels?: string[] } = {},
  secret = TOKEN_SECRET,
): Promise<string> {
  return new SignJWT({ ...extra })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

/**
 * Whether the server at `wsUrl` verifies connection tokens (the auth branch of issue 14): a
 * WebSocket with a malformed token must be refused (HTTP 401 or close 3506). Tests that need
 * identities skip, saying so, where it is accepted instead.
 */
export function tokensVerified(wsUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsUrl}?token=not-a-token`);
    const t = setTimeout(() => {
      ws.terminate();
      resolve(false);
    }, 3000);
    ws.on('unexpected-response', () => {
      clearTimeout(t);
      ws.terminate();
      resolve(true);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      clearTimeout(t);
      resolve(code === 3506);
    });
    ws.on('open', () => {
      // Still open after a ping round trip: the token was not looked at.
      ws.send(JSON.stringify({ id: 1, op: 'ping' }));
      ws.once('message', () => {
        clearTimeout(t);
        ws.close();
        resolve(false);
      });
    });
  });
}

/** The reason tests that need identities give when tokens are not verified yet. */
export const NEEDS_AUTH =
  'needs connection tokens verified (the auth branch of issue 14): without it no connection has an identity';
