/**
 * CPU per token verification (docs/BENCHMARKS.md "Connecting with tokens"): jose's jwtVerify,
 * as the server calls it, on N distinct tokens per algorithm, in one process, one at a time.
 *
 * Usage: npm run build && node dist/bench/auth/verify-cost.js [--tokens 5000]
 */
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { options } from '../serve-proc.js';

const opts = options({ tokens: '5000' });

type VerifyKey = Exclude<Parameters<typeof jwtVerify>[1], (...a: never[]) => unknown>;
type SignKey = Parameters<SignJWT['sign']>[0];

/** Wall and CPU (user + system, all threads) microseconds per verification. */
type Alg = 'HS256' | 'HS256-bytes' | 'ES256' | 'RS256' | 'EdDSA';

/**
 * `HS256` verifies with the secret imported once as a CryptoKey, as the server does;
 * `HS256-bytes` hands jose the raw secret, which it imports again at every verification.
 */
async function cost(alg: Alg, n: number): Promise<[number, number]> {
  let signKey: SignKey;
  let verifyKey: VerifyKey;
  if (alg === 'HS256' || alg === 'HS256-bytes') {
    const secret = new TextEncoder().encode('bench-secret-0123456789abcdef0123456789abcdef');
    signKey = secret;
    verifyKey =
      alg === 'HS256-bytes'
        ? secret
        : await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  } else {
    const pair = await generateKeyPair(alg, { extractable: true });
    signKey = pair.privateKey;
    verifyKey = pair.publicKey;
  }
  const jwsAlg = alg === 'HS256-bytes' ? 'HS256' : alg;
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    tokens.push(
      await new SignJWT({ channels: ['room:1'] })
        .setProtectedHeader({ alg: jwsAlg })
        .setSubject(`u${i}`)
        .setExpirationTime('1h')
        .sign(signKey),
    );
  }
  for (const t of tokens.slice(0, 200)) await jwtVerify(t, verifyKey, { algorithms: [jwsAlg] });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const t of tokens) await jwtVerify(t, verifyKey, { algorithms: [jwsAlg] });
  const wall = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / n];
}

async function main(): Promise<void> {
  const n = Number(opts.tokens);
  console.log(`jose jwtVerify, ${n} distinct tokens each, node ${process.version}`);
  for (const alg of ['HS256', 'HS256-bytes', 'ES256', 'RS256', 'EdDSA'] as const) {
    const [wall, cpu] = await cost(alg, n);
    console.log(`${alg.padEnd(6)} ${wall.toFixed(1)} µs wall, ${cpu.toFixed(1)} µs CPU per verification`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
