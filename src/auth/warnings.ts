import type { Config } from '../config/config.js';

/** Bytes below which an HMAC secret can be found from one token by trying secrets offline. */
export const MIN_HMAC_SECRET_BYTES = 32;

/**
 * Warnings for the start banner about access options that work but are easy to attack
 * (docs/AUTH.md "Keys and algorithms"); empty when there is nothing to say.
 */
export function accessWarnings(
  c: Pick<Config, 'tokenHmacSecret' | 'tokenJwksUrl' | 'tokenAudience'>,
): string[] {
  const out: string[] = [];
  const secretBytes = Buffer.byteLength(c.tokenHmacSecret);
  if (secretBytes > 0 && secretBytes < MIN_HMAC_SECRET_BYTES) {
    out.push(
      `tokenHmacSecret is shorter than ${MIN_HMAC_SECRET_BYTES} bytes: anyone who sees one token can search for it offline and then sign tokens for any user; use a long random one (e.g. openssl rand -base64 48)`,
    );
  }
  if (c.tokenJwksUrl !== '' && c.tokenAudience === '') {
    out.push(
      'tokenJwksUrl without tokenAudience: every token your identity provider signs, for any of its applications, is taken as a connection token; set tokenAudience',
    );
  }
  return out;
}
