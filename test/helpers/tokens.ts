import { SignJWT } from 'jose';

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
