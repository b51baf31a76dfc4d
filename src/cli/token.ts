import type { Command } from 'commander';
import { SignJWT } from 'jose';
import { TOKEN_LIMITS } from '../auth/tokens.js';
import { ConfigError, loadConfig } from '../config/config.js';

/**
 * `holdfast token --user 42 [--channels a,b] [--ttl 1h] [--info JSON]`: a development connection
 * token (HS256) from the configured HMAC secret (docs/AUTH.md "Minting a token").
 */

export interface MintOptions {
  secret: string;
  user: string;
  channels?: string[];
  /** Seconds the token is valid; 0 for a token without `exp` (it never expires). */
  ttlSeconds: number;
  info?: unknown;
}

export class TokenUsageError extends Error {}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90`, `90s`, `15m`, `1h`, `7d` as seconds; `0` for no expiry. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (m === null)
    throw new TokenUsageError(
      `--ttl: expected a duration such as 90s, 15m, 1h or 7d (0: never), got ${JSON.stringify(text)}`,
    );
  const n = Number(m[1]) * UNITS[m[2] === '' ? 's' : m[2]!]!;
  if (!Number.isSafeInteger(n)) throw new TokenUsageError('--ttl: too long');
  return n;
}

export async function mintToken(opts: MintOptions, nowMs = Date.now()): Promise<string> {
  if (opts.secret === '')
    throw new TokenUsageError(
      'no HMAC secret: give --secret, set HOLDFAST_TOKEN_HMAC_SECRET, or tokenHmacSecret in the --config file',
    );
  if (opts.user.length === 0 || opts.user.length > TOKEN_LIMITS.subChars)
    throw new TokenUsageError(`--user: expected 1 to ${TOKEN_LIMITS.subChars} characters`);
  const claims: Record<string, unknown> = {};
  if (opts.channels !== undefined && opts.channels.length > 0) claims['channels'] = opts.channels;
  if (opts.info !== undefined) {
    if (Buffer.byteLength(JSON.stringify(opts.info)) > TOKEN_LIMITS.infoBytes)
      throw new TokenUsageError(`--info: at most ${TOKEN_LIMITS.infoBytes} bytes of JSON`);
    claims['info'] = opts.info;
  }
  const now = Math.floor(nowMs / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.user)
    .setIssuedAt(now);
  if (opts.ttlSeconds > 0) jwt.setExpirationTime(now + opts.ttlSeconds);
  return jwt.sign(new TextEncoder().encode(opts.secret));
}

/** The options of `holdfast token` as given, into MintOptions (the secret from flags, env or config file). */
export function mintOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): MintOptions {
  let secret = typeof flags['secret'] === 'string' ? flags['secret'] : '';
  if (secret === '') {
    const file = typeof flags['config'] === 'string' ? flags['config'] : undefined;
    secret = loadConfig({ env, file }).tokenHmacSecret;
  }
  let info: unknown;
  if (typeof flags['info'] === 'string') {
    try {
      info = JSON.parse(flags['info']);
    } catch {
      throw new TokenUsageError(`--info: expected JSON, got ${JSON.stringify(flags['info'].slice(0, 80))}`);
    }
  }
  const channels =
    typeof flags['channels'] === 'string'
      ? flags['channels']
          .split(',')
          .map((c) => c.trim())
          .filter((c) => c !== '')
      : undefined;
  return {
    secret,
    user: String(flags['user'] ?? ''),
    channels,
    ttlSeconds: parseTtl(typeof flags['ttl'] === 'string' ? flags['ttl'] : '1h'),
    info,
  };
}

export function tokenCommand(program: Command): void {
  program
    .command('token')
    .description('Mint a development connection token (HS256) from the configured HMAC secret.')
    .requiredOption('--user <id>', 'the user id (sub claim)')
    .option('--channels <list>', 'comma-separated channels or prefix* patterns of token-only namespaces')
    .option('--ttl <duration>', 'validity: 90s, 15m, 1h, 7d; 0 for a token that never expires', '1h')
    .option('--info <json>', 'JSON shown in presence (info claim)')
    .option('--secret <secret>', 'the HMAC secret (else HOLDFAST_TOKEN_HMAC_SECRET or --config)')
    .option('-c, --config <file>', 'JSON config file (also HOLDFAST_CONFIG)')
    .action(async (flags: Record<string, unknown>) => {
      try {
        process.stdout.write(`${await mintToken(mintOptions(flags, process.env))}\n`);
      } catch (err) {
        if (err instanceof TokenUsageError || err instanceof ConfigError) {
          console.error(`holdfast token: ${err.message}`);
          process.exit(2);
        }
        throw err;
      }
    });
}
