/**
 * Connection tokens for the benchmarks: a key pair or secret per run, and tokens minted with
 * jose (as an application's backend would) for users u<i>. Minting happens before any timing.
 */
import { exportJWK, exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

export type BenchAlg = 'HS256' | 'ES256';

/** What client processes need to mint tokens: the algorithm and the signing key as a JWK. */
export interface MintSpec {
  alg: BenchAlg;
  key: JWK;
  ttlS: number;
}

/** A signing key and the `holdfast serve` flags that make the server verify its tokens. */
export async function benchKey(
  alg: BenchAlg,
  ttlS = 3600,
): Promise<{ spec: MintSpec; flags: Record<string, string> }> {
  if (alg === 'HS256') {
    const secret = 'bench-secret-0123456789abcdef0123456789abcdef';
    const key: JWK = { kty: 'oct', k: Buffer.from(secret).toString('base64url') };
    return { spec: { alg, key, ttlS }, flags: { 'token-hmac-secret': secret } };
  }
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  return {
    spec: { alg, key: await exportJWK(privateKey), ttlS },
    flags: { 'token-public-key': await exportSPKI(publicKey) },
  };
}

/** Tokens for users u<first> .. u<first + count - 1>, with `info` {"name": "u<i>"}. */
export async function mint(spec: MintSpec, first: number, count: number): Promise<string[]> {
  const key = await importJWK(spec.key, spec.alg);
  const exp = Math.floor(Date.now() / 1000) + spec.ttlS;
  const out: string[] = [];
  for (let i = first; i < first + count; i++) {
    out.push(
      await new SignJWT({ info: { name: `u${i}` } })
        .setProtectedHeader({ alg: spec.alg })
        .setSubject(`u${i}`)
        .setExpirationTime(exp)
        .sign(key),
    );
  }
  return out;
}

/** One token for `user` with `info`. */
export async function mintOne(spec: MintSpec, user: string, info: unknown): Promise<string> {
  const key = await importJWK(spec.key, spec.alg);
  return new SignJWT({ info })
    .setProtectedHeader({ alg: spec.alg })
    .setSubject(user)
    .setExpirationTime(Math.floor(Date.now() / 1000) + spec.ttlS)
    .sign(key);
}
