/**
 * CPU per token verification (docs/BENCHMARKS.md "Connecting with tokens"): the server's
 * TokenVerifier (jose's jwtVerify; the HMAC secret imported once as a WebCrypto key, a public key
 * as a KeyObject) on N distinct tokens per algorithm, one at a time in one process; for HS256
 * also jose handed the secret as a KeyObject, which it imports again at every verification.
 *
 * Usage: npm run build && node dist/bench/auth/verify-cost.js [--tokens 5000]
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { exportSPKI, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { TokenVerifier } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/config.js';
import { options } from '../serve-proc.js';

const opts = options({ tokens: '5000' });
const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';

type Alg = 'HS256' | 'ES256' | 'RS256' | 'EdDSA';

/** Wall and CPU (user + system, all threads) microseconds per verification. */
async function measure(tokens: string[], verify: (t: string) => Promise<unknown>): Promise<[number, number]> {
  for (const t of tokens.slice(0, 200)) await verify(t);
  const rest = tokens.slice(200);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const t of rest) await verify(t);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3 / rest.length;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / rest.length];
}

async function run(alg: Alg, n: number): Promise<void> {
  let sign: Parameters<SignJWT['sign']>[0];
  let flags: Record<string, string>;
  let raw: KeyObject | null = null;
  if (alg === 'HS256') {
    sign = new TextEncoder().encode(SECRET);
    raw = createSecretKey(Buffer.from(SECRET));
    flags = { tokenHmacSecret: SECRET };
  } else {
    const pair = await generateKeyPair(alg, { extractable: true });
    sign = pair.privateKey;
    const pem = await exportSPKI(pair.publicKey);
    flags = { tokenPublicKey: pem };
  }
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    tokens.push(
      await new SignJWT({ channels: ['room:1'] })
        .setProtectedHeader({ alg })
        .setSubject(`u${i}`)
        .setExpirationTime('1h')
        .sign(sign),
    );
  }
  // A cache smaller than the run's tokens would not matter (each is verified once), but keep
  // every verification a real one: a fresh verifier per pass.
  const verifier = new TokenVerifier(loadConfig({ flags }), { cacheSize: n + 1 });
  const [w1, c1] = await measure(tokens, (t) => verifier.verify(t));
  let line = `${alg.padEnd(6)} server ${c1.toFixed(1)} µs CPU (${w1.toFixed(1)} wall)`;
  if (raw !== null) {
    const key = raw;
    const [w2, c2] = await measure(tokens, (t) => jwtVerify(t, key, { algorithms: [alg] }));
    line += `; jose handed the secret as a KeyObject ${c2.toFixed(1)} µs CPU (${w2.toFixed(1)} wall)`;
  }
  console.log(line);
}

async function main(): Promise<void> {
  const n = Number(opts.tokens);
  console.log(`per verification, ${n} distinct tokens each, node ${process.version}`);
  for (const alg of ['HS256', 'ES256', 'RS256', 'EdDSA'] as const) await run(alg, n);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
