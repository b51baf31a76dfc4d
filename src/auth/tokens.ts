import { createPublicKey, type KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createRemoteJWKSet,
  customFetch,
  decodeProtectedHeader,
  type FetchImplementation,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { type Config, ConfigError } from '../config/config.js';
import { HoldfastError } from '../contract/codes.js';
import type { Identity } from '../contract/identity.js';

/**
 * Connection tokens (DESIGN.md "Public contract v2", docs/AUTH.md "Tokens"): JWTs verified with
 * `jose` against the keys of the configuration. Each key admits only the algorithms of its kind
 * (an HMAC secret HS256/384/512; a public key those of its type and curve; a JWKS the asymmetric
 * ones), so a token cannot pick how it is checked: `alg: none` and an HS256 token signed with a
 * public key's PEM (the key-confusion attack) are refused. Claims: `sub` (required), `exp` (a
 * token without it never expires), `nbf`, `channels`, `info`, and `aud`/`iss` when configured.
 */

/** The options tokens read. */
export type TokenConfig = Pick<
  Config,
  | 'tokenHmacSecret'
  | 'tokenPublicKey'
  | 'tokenJwksUrl'
  | 'jwksMinRefetch'
  | 'tokenAudience'
  | 'tokenIssuer'
  | 'proxyTimeout'
>;

/** Bounds of what a token may carry. */
export const TOKEN_LIMITS = {
  /** Characters of a whole token: a longer one is refused before any parsing. */
  tokenChars: 8192,
  subChars: 256,
  channels: 256,
  channelChars: 255,
  /** Bytes of `info` as JSON. */
  infoBytes: 4096,
} as const;

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const ASYMMETRIC_ALGS = [...RSA_ALGS, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const CURVE_ALG: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** The algorithms a public key can check, from its type (and curve). */
export function algorithmsOf(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGS;
    case 'rsa-pss':
      return RSA_ALGS.filter((a) => a.startsWith('PS'));
    case 'ec': {
      const alg = CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (alg === undefined)
        throw new ConfigError(
          `tokenPublicKey: EC curve ${key.asymmetricKeyDetails?.namedCurve} is not one of P-256, P-384, P-521`,
        );
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    case 'ed448':
      return ['EdDSA'];
    default:
      throw new ConfigError(
        `tokenPublicKey: a ${key.asymmetricKeyType} key cannot check JWTs (use RSA, EC or Ed25519/Ed448)`,
      );
  }
}

/** `tokenPublicKey`: PEM text, or the path of a PEM file; an SPKI public key or an X.509 certificate. */
export function loadPublicKey(option: string): KeyObject {
  let pem = option;
  if (!option.includes('-----BEGIN')) {
    try {
      pem = readFileSync(option, 'utf8');
    } catch (err) {
      throw new ConfigError(`tokenPublicKey: cannot read ${option}: ${(err as Error).message}`);
    }
  }
  try {
    if (pem.includes('-----BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
    const key = createPublicKey(pem);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch (err) {
    throw new ConfigError(
      `tokenPublicKey: expected a PEM public key (SPKI) or certificate: ${(err as Error).message}`,
    );
  }
}

/** A JWKS that could not be fetched: the identity provider's fault, not the token's. */
class JwksUnavailable extends Error {}

/**
 * The JWKS fetch, refused without a request for `cooldownMs` after one that failed. jose applies
 * its cooldown only to refetches after a successful fetch: while the set cannot be fetched, every
 * token (anyone can send one: only its header is read before the key set is needed) fetched it
 * again, a flood on a provider already failing.
 */
function gatedFetch(cooldownMs: number): FetchImplementation {
  let failedAt = Number.NEGATIVE_INFINITY;
  return async (url, options) => {
    if (Date.now() - failedAt < cooldownMs)
      throw new Error('the last fetch of the JWKS failed; not retried before jwksMinRefetch');
    try {
      const res = await fetch(url, options);
      if (res.status !== 200) failedAt = Date.now();
      return res;
    } catch (err) {
      failedAt = Date.now();
      throw err;
    }
  };
}

/** One way to check a signature: the key (or key set) and the algorithms it admits. */
interface Verifier {
  readonly algorithms: string[];
  readonly key: JWTVerifyGetKey;
}

type VerifyKey = Awaited<ReturnType<JWTVerifyGetKey>>;

const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/**
 * The HMAC secret as jose's key function, imported once per algorithm as a WebCrypto key: handed
 * the raw secret, jose imports it again at every verification, which measured dearer than the
 * imported key (docs/BENCHMARKS.md "Connecting with tokens"). A public key stays a KeyObject,
 * which measured cheaper to verify with than its imported WebCrypto key.
 */
function importedOnce(load: (alg: string) => Promise<VerifyKey>): JWTVerifyGetKey {
  const keys = new Map<string, Promise<VerifyKey>>();
  return (header) => {
    const alg = header.alg ?? '';
    let key = keys.get(alg);
    if (key === undefined) {
      key = load(alg);
      keys.set(alg, key);
    }
    return key;
  };
}

export interface TokenOptions {
  /** Verified tokens remembered (by token string) until they expire. */
  cacheSize?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/** Verifies connection tokens, and remembers those it verified until they expire. */
export class TokenVerifier {
  readonly #verifiers: Verifier[] = [];
  readonly #audience: string | undefined;
  readonly #issuer: string | undefined;
  readonly #now: () => number;
  readonly #cacheSize: number;
  /** Verified tokens in insertion order (the oldest is evicted first). */
  readonly #cache = new Map<string, Identity>();

  /** Throws ConfigError for a key that cannot be used. */
  constructor(config: TokenConfig, opts: TokenOptions = {}) {
    if (config.tokenHmacSecret !== '') {
      const secret = new TextEncoder().encode(config.tokenHmacSecret);
      this.#verifiers.push({
        algorithms: HMAC_ALGS,
        key: importedOnce((alg) =>
          webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: HMAC_HASH[alg]! }, false, [
            'verify',
          ]),
        ),
      });
    }
    if (config.tokenPublicKey !== '') {
      const key = loadPublicKey(config.tokenPublicKey);
      this.#verifiers.push({ algorithms: algorithmsOf(key), key: () => key });
    }
    if (config.tokenJwksUrl !== '') {
      const jwks = createRemoteJWKSet(new URL(config.tokenJwksUrl), {
        cooldownDuration: config.jwksMinRefetch * 1000,
        timeoutDuration: config.proxyTimeout,
        [customFetch]: gatedFetch(config.jwksMinRefetch * 1000),
      });
      const getKey: JWTVerifyGetKey = async (header, token) => {
        try {
          return await jwks(header, token);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err;
          throw new JwksUnavailable((err as Error).message);
        }
      };
      this.#verifiers.push({ algorithms: ASYMMETRIC_ALGS, key: getKey });
    }
    this.#audience = config.tokenAudience === '' ? undefined : config.tokenAudience;
    this.#issuer = config.tokenIssuer === '' ? undefined : config.tokenIssuer;
    this.#now = opts.now ?? Date.now;
    this.#cacheSize = opts.cacheSize ?? 10_000;
  }

  /** Whether any key is configured (else every token is invalid). */
  get configured(): boolean {
    return this.#verifiers.length > 0;
  }

  /** The identity of a token verified before and not expired; undefined otherwise. */
  cached(token: string): Identity | undefined {
    const id = this.#cache.get(token);
    if (id === undefined) return undefined;
    if (id.expiresAt !== 0 && id.expiresAt <= this.#now()) {
      this.#cache.delete(token);
      return undefined;
    }
    return id;
  }

  /**
   * The identity a token proves. Throws HoldfastError: invalid_token (bad signature, algorithm,
   * claims or form), token_expired, or backend_unavailable (the JWKS could not be fetched).
   */
  async verify(token: string): Promise<Identity> {
    const known = this.cached(token);
    if (known !== undefined) return known;
    if (token.length === 0 || token.length > TOKEN_LIMITS.tokenChars) throw invalid('malformed token');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw invalid('malformed token');
    }
    if (typeof alg !== 'string') throw invalid('no alg');
    const candidates = this.#verifiers.filter((v) => v.algorithms.includes(alg));
    if (candidates.length === 0) throw invalid(`algorithm ${alg.slice(0, 16)} is not accepted`);
    let failure: unknown = null;
    for (const v of candidates) {
      let payload: JWTPayload;
      try {
        payload = await this.#check(token, v);
      } catch (err) {
        if (isExpired(err)) throw new HoldfastError('token_expired');
        if (err instanceof JwksUnavailable)
          throw new HoldfastError('backend_unavailable', 'The token keys (JWKS) could not be fetched.');
        failure = err;
        continue;
      }
      const identity = identityOf(payload);
      this.#remember(token, identity);
      return identity;
    }
    throw invalid(failure instanceof Error ? failure.message : 'signature');
  }

  #check(token: string, v: Verifier): Promise<JWTPayload> {
    const opts = {
      algorithms: v.algorithms,
      audience: this.#audience,
      issuer: this.#issuer,
      currentDate: new Date(this.#now()),
    };
    return jwtVerify(token, v.key, opts).then((r) => r.payload);
  }

  /**
   * When full, the oldest goes (with any expired ones just behind it; others expired leave when
   * looked up or when they are the oldest). Not a walk over the whole cache: once it was full of
   * valid tokens, that walk made every new verification cost a pass over all of them.
   */
  #remember(token: string, identity: Identity): void {
    if (this.#cache.size >= this.#cacheSize) {
      const now = this.#now();
      let first = true;
      for (const [t, id] of this.#cache) {
        if (!first && (id.expiresAt === 0 || id.expiresAt > now)) break;
        this.#cache.delete(t);
        first = false;
      }
    }
    this.#cache.set(token, identity);
  }

  /** Tokens remembered now (tests). */
  get cacheSize(): number {
    return this.#cache.size;
  }
}

function isExpired(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ERR_JWT_EXPIRED';
}

function invalid(why: string): HoldfastError {
  return new HoldfastError('invalid_token', `The connection token is not valid (${why}).`);
}

/** The Identity of a verified payload, or invalid_token for claims out of shape or bounds. */
export function identityOf(payload: JWTPayload): Identity {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > TOKEN_LIMITS.subChars)
    throw invalid(`"sub" must be a string of 1 to ${TOKEN_LIMITS.subChars} characters`);
  const raw = payload['channels'];
  let channels: string[] = [];
  if (raw !== undefined) {
    if (
      !Array.isArray(raw) ||
      raw.length > TOKEN_LIMITS.channels ||
      !raw.every((c) => typeof c === 'string' && c.length > 0 && c.length <= TOKEN_LIMITS.channelChars)
    )
      throw invalid(`"channels" must be an array of at most ${TOKEN_LIMITS.channels} names`);
    channels = raw as string[];
  }
  const info = payload['info'];
  if (info !== undefined && Buffer.byteLength(JSON.stringify(info)) > TOKEN_LIMITS.infoBytes)
    throw invalid(`"info" is over ${TOKEN_LIMITS.infoBytes} bytes`);
  const exp = payload.exp;
  return { user: sub, info, channels, expiresAt: exp === undefined ? 0 : exp * 1000 };
}
