import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { type TokenConfig, TokenVerifier } from '../../src/auth/tokens.js';
import { ConfigError } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';

const SECRET = 'a-test-secret-of-enough-length-0123456789';
const BASE: TokenConfig = {
  tokenHmacSecret: '',
  tokenPublicKey: '',
  tokenJwksUrl: '',
  jwksMinRefetch: 30,
  tokenAudience: '',
  tokenIssuer: '',
  proxyTimeout: 2000,
};
const cfg = (over: Partial<TokenConfig>): TokenConfig => ({ ...BASE, ...over });
const now = () => Math.floor(Date.now() / 1000);

function sign(
  claims: Record<string, unknown>,
  key: Uint8Array | KeyObject,
  alg = 'HS256',
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, ...header }).sign(key);
}
const hmac = (s = SECRET) => new TextEncoder().encode(s);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof HoldfastError && err.code === code);
}

describe('HMAC tokens', () => {
  const v = new TokenVerifier(cfg({ tokenHmacSecret: SECRET }));

  test('HS256, HS384 and HS512 give the identity of their claims', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const exp = now() + 60;
      const id = await v.verify(
        await sign({ sub: '42', exp, channels: ['room:1', 'feed:*'], info: { name: 'Ann' } }, hmac(), alg),
      );
      assert.deepEqual(id, {
        user: '42',
        info: { name: 'Ann' },
        channels: ['room:1', 'feed:*'],
        expiresAt: exp * 1000,
      });
    }
  });

  test('a token without exp never expires (expiresAt 0)', async () => {
    const id = await v.verify(await sign({ sub: '7' }, hmac()));
    assert.equal(id.expiresAt, 0);
    assert.deepEqual(id.channels, []);
    assert.equal(id.info, undefined);
  });

  test('an expired token: token_expired', async () => {
    await refused(v.verify(await sign({ sub: '42', exp: now() - 5 }, hmac())), 'token_expired');
  });

  test('another secret, a changed payload, malformed text: invalid_token', async () => {
    await refused(v.verify(await sign({ sub: '42' }, hmac('another-secret-0123456789'))), 'invalid_token');
    const good = await sign({ sub: '42' }, hmac());
    const [h, , s] = good.split('.');
    await refused(v.verify(`${h}.${b64({ sub: '1' })}.${s}`), 'invalid_token');
    for (const bad of ['', 'abc', 'a.b.c', 'x'.repeat(9000), `${h}.!!.${s}`])
      await refused(v.verify(bad), 'invalid_token');
  });

  test('attack: alg none (unsigned) is refused', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'admin' })}.`;
    await refused(v.verify(unsigned), 'invalid_token');
    // Also with a signature of sorts attached, and with the alg spelled otherwise.
    await refused(v.verify(`${unsigned}AAAA`), 'invalid_token');
    await refused(v.verify(`${b64({ alg: 'None' })}.${b64({ sub: 'admin' })}.`), 'invalid_token');
  });

  test('claims out of shape: invalid_token', async () => {
    const bad = [
      {},
      { sub: '' },
      { sub: 42 },
      { sub: 'x'.repeat(257) },
      { sub: '1', channels: 'room' },
      { sub: '1', channels: [1] },
      { sub: '1', channels: [''] },
      { sub: '1', info: { blob: 'x'.repeat(5000) } },
    ];
    for (const claims of bad) await refused(v.verify(await sign(claims, hmac())), 'invalid_token');
  });

  test('aud and iss are checked when configured', async () => {
    const w = new TokenVerifier(cfg({ tokenHmacSecret: SECRET, tokenAudience: 'hf', tokenIssuer: 'app' }));
    assert.equal((await w.verify(await sign({ sub: '1', aud: 'hf', iss: 'app' }, hmac()))).user, '1');
    await refused(w.verify(await sign({ sub: '1', aud: 'other', iss: 'app' }, hmac())), 'invalid_token');
    await refused(w.verify(await sign({ sub: '1', aud: 'hf' }, hmac())), 'invalid_token');
    await refused(w.verify(await sign({ sub: '1', iss: 'app' }, hmac())), 'invalid_token');
  });

  test('nbf in the future: invalid_token', async () => {
    await refused(v.verify(await sign({ sub: '1', nbf: now() + 600 }, hmac())), 'invalid_token');
  });
});

describe('public keys', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  test('RSA: RS256 and PS256 verify; HS256 and ES256 headers are refused', async () => {
    const v = new TokenVerifier(cfg({ tokenPublicKey: rsaPem }));
    assert.equal((await v.verify(await sign({ sub: 'r' }, rsa.privateKey, 'RS256'))).user, 'r');
    assert.equal((await v.verify(await sign({ sub: 'p' }, rsa.privateKey, 'PS384'))).user, 'p');
    await refused(v.verify(await sign({ sub: 'x' }, hmac(), 'HS256')), 'invalid_token');
  });

  test('attack: HS256 signed with the public key PEM as the secret (key confusion) is refused', async () => {
    const forged = await sign({ sub: 'admin' }, new TextEncoder().encode(rsaPem), 'HS256');
    await refused(new TokenVerifier(cfg({ tokenPublicKey: rsaPem })).verify(forged), 'invalid_token');
    // With an HMAC secret configured too, HS256 is checked against that secret only.
    await refused(
      new TokenVerifier(cfg({ tokenPublicKey: rsaPem, tokenHmacSecret: SECRET })).verify(forged),
      'invalid_token',
    );
    // Hand-made the same way with node:crypto, in case a library signs differently.
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'admin' })}`;
    const sig = createHmac('sha256', rsaPem).update(input).digest('base64url');
    await refused(
      new TokenVerifier(cfg({ tokenPublicKey: rsaPem })).verify(`${input}.${sig}`),
      'invalid_token',
    );
  });

  test('EC keys admit only the ES alg of their curve', async () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const v = new TokenVerifier(
      cfg({ tokenPublicKey: p256.publicKey.export({ type: 'spki', format: 'pem' }).toString() }),
    );
    assert.equal((await v.verify(await sign({ sub: 'e' }, p256.privateKey, 'ES256'))).user, 'e');
    await refused(v.verify(await sign({ sub: 'e' }, p384.privateKey, 'ES384')), 'invalid_token');
  });

  test('Ed25519: EdDSA; from a PEM file path', async () => {
    const ed = generateKeyPairSync('ed25519');
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-key-'));
    const file = join(dir, 'ed.pem');
    writeFileSync(file, ed.publicKey.export({ type: 'spki', format: 'pem' }));
    const v = new TokenVerifier(cfg({ tokenPublicKey: file }));
    assert.equal((await v.verify(await sign({ sub: 'd' }, ed.privateKey, 'EdDSA'))).user, 'd');
    const other = generateKeyPairSync('ed25519');
    await refused(v.verify(await sign({ sub: 'd' }, other.privateKey, 'EdDSA')), 'invalid_token');
  });

  test('an X.509 certificate gives its public key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-cert-'));
    const keyFile = join(dir, 'k.pem');
    writeFileSync(keyFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    let cert: string;
    try {
      cert = execFileSync(
        'openssl',
        ['req', '-new', '-x509', '-key', keyFile, '-subj', '/CN=hf', '-days', '1'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
    } catch {
      test.skip('openssl is not available to make a certificate');
      return;
    }
    const v = new TokenVerifier(cfg({ tokenPublicKey: cert }));
    assert.equal((await v.verify(await sign({ sub: 'c' }, rsa.privateKey, 'RS256'))).user, 'c');
  });

  test('a key that is not a public key stops the boot with a ConfigError', () => {
    assert.throws(
      () =>
        new TokenVerifier(
          cfg({ tokenPublicKey: '-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----' }),
        ),
      ConfigError,
    );
    assert.throws(() => new TokenVerifier(cfg({ tokenPublicKey: '/no/such/file.pem' })), ConfigError);
    const priv = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    // A private key PEM yields a public key with createPublicKey: allowed, it checks the same.
    assert.doesNotThrow(() => new TokenVerifier(cfg({ tokenPublicKey: priv })));
  });
});

describe('JWKS', () => {
  const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys: Record<string, unknown>[] = [];
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys }));
  });
  after(() => server.close());

  test('cached, refetched on an unknown kid, no more often than the cooldown', async () => {
    keys.push({ ...(await exportJWK(a.publicKey)), kid: 'a', alg: 'ES256' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const v = new TokenVerifier(cfg({ tokenJwksUrl: url, jwksMinRefetch: 3600 }));
    assert.equal((await v.verify(await sign({ sub: '1' }, a.privateKey, 'ES256', { kid: 'a' }))).user, '1');
    assert.equal((await v.verify(await sign({ sub: '2' }, a.privateKey, 'ES256', { kid: 'a' }))).user, '2');
    assert.equal(fetches, 1);
    // A forged kid: refused; within the cooldown a second forged kid fetches nothing more.
    await refused(v.verify(await sign({ sub: 'x' }, b.privateKey, 'ES256', { kid: 'zz1' })), 'invalid_token');
    const after1 = fetches;
    await refused(v.verify(await sign({ sub: 'x' }, b.privateKey, 'ES256', { kid: 'zz2' })), 'invalid_token');
    assert.equal(fetches, after1);
    assert.ok(fetches <= 2);
    // HS256 is never checked against a JWKS.
    await refused(v.verify(await sign({ sub: 'x' }, hmac(), 'HS256', { kid: 'a' })), 'invalid_token');

    // With a short cooldown, a new key of the provider is found by its kid.
    keys.push({ ...(await exportJWK(b.publicKey)), kid: 'b', alg: 'ES256' });
    const w = new TokenVerifier(cfg({ tokenJwksUrl: url, jwksMinRefetch: 1 }));
    assert.equal((await w.verify(await sign({ sub: '3' }, b.privateKey, 'ES256', { kid: 'b' }))).user, '3');
  });

  test('a JWKS that cannot be fetched: backend_unavailable, not a door opened', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const v = new TokenVerifier(cfg({ tokenJwksUrl: `http://127.0.0.1:${port}/jwks` }));
    await refused(
      v.verify(await sign({ sub: '1' }, a.privateKey, 'ES256', { kid: 'a' })),
      'backend_unavailable',
    );
  });
});

describe('header injection (checked safe)', () => {
  const legit = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const evil = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const secret = 'a-symmetric-key-in-the-jwks-0123456789';
  let legitFetches = 0;
  let evilFetches = 0;
  const keys: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url === '/evil') evilFetches++;
    else legitFetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: req.url === '/evil' ? [] : keys }));
  });
  after(() => server.close());

  test('jwk, jku and x5u headers are never followed; a symmetric key in the JWKS checks nothing', async () => {
    const evilJwk = { ...(await exportJWK(evil.publicKey)), kid: 'legit', alg: 'ES256' };
    keys.push(
      { ...(await exportJWK(legit.publicKey)), kid: 'legit', alg: 'ES256' },
      { kty: 'oct', kid: 'sym', k: Buffer.from(secret).toString('base64url') },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pem = legit.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const v of [
      new TokenVerifier(cfg({ tokenJwksUrl: `${base}/jwks`, jwksMinRefetch: 3600 })),
      new TokenVerifier(cfg({ tokenPublicKey: pem })),
    ]) {
      for (const header of [
        { kid: 'legit', jwk: evilJwk },
        { kid: 'legit', jku: `${base}/evil` },
        { kid: 'legit', x5u: `${base}/evil` },
        { jwk: evilJwk },
      ]) {
        await refused(
          v.verify(await sign({ sub: 'admin' }, evil.privateKey, 'ES256', header)),
          'invalid_token',
        );
      }
      // The oct key of the JWKS (or the secret, against a public key) verifies no HS256 token.
      await refused(
        v.verify(await sign({ sub: 'admin' }, hmac(secret), 'HS256', { kid: 'sym' })),
        'invalid_token',
      );
      assert.equal(
        (await v.verify(await sign({ sub: 'ok' }, legit.privateKey, 'ES256', { kid: 'legit' }))).user,
        'ok',
      );
    }
    assert.equal(evilFetches, 0);
    assert.equal(legitFetches, 1);
  });
});

describe('JWKS of a failing provider', () => {
  const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let failing = true;
  let fetches = 0;
  let jwk: Record<string, unknown> = {};
  const server: Server = createServer((_req, res) => {
    fetches++;
    if (failing) {
      res.writeHead(500);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  after(() => server.close());

  test('a flood of tokens while the JWKS cannot be fetched fetches it at most once per jwksMinRefetch', async () => {
    jwk = { ...(await exportJWK(a.publicKey)), kid: 'a', alg: 'ES256' };
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const v = new TokenVerifier(cfg({ tokenJwksUrl: url, jwksMinRefetch: 1 }));
    // Anyone can send these: only the header is read before the key set is needed.
    const forged = `${b64({ alg: 'ES256', kid: 'any' })}.${b64({ sub: 'x' })}.AAAA`;
    for (let i = 0; i < 20; i++) await refused(v.verify(forged), 'backend_unavailable');
    assert.equal(fetches, 1, 'one fetch for the whole flood');
    // The provider is back: after the cooldown the next token fetches the key set again.
    failing = false;
    const start = Date.now();
    while (Date.now() - start < 1100) await new Promise((r) => setTimeout(r, 50));
    const good = await sign({ sub: '1' }, a.privateKey, 'ES256', { kid: 'a' });
    assert.equal((await v.verify(good)).user, '1');
    assert.equal(fetches, 2);
    // Failing again, past the cooldown of that fetch: forged kids (the set still fresh) fetch once.
    const since = Date.now();
    while (Date.now() - since < 1100) await new Promise((r) => setTimeout(r, 50));
    failing = true;
    const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 20; i++) {
      const t = await sign({ sub: 'x' }, b.privateKey, 'ES256', { kid: `forged-${i}` });
      await assert.rejects(v.verify(t), HoldfastError);
    }
    assert.equal(fetches, 3, 'one more fetch for the second flood');
  });
});

describe('the cache of verified tokens', () => {
  test('verified once; evicted on expiry and by size', async () => {
    let clock = Date.now();
    const v = new TokenVerifier(cfg({ tokenHmacSecret: SECRET }), { cacheSize: 2, now: () => clock });
    const t1 = await sign({ sub: '1', exp: Math.floor(clock / 1000) + 10 }, hmac());
    assert.equal(v.cached(t1), undefined);
    const id = await v.verify(t1);
    assert.equal(v.cached(t1), id);
    assert.equal(await v.verify(t1), id, 'the same object: not verified again');
    clock += 11_000;
    assert.equal(v.cached(t1), undefined);
    await refused(v.verify(t1), 'token_expired');
    const t2 = await sign({ sub: '2' }, hmac());
    const t3 = await sign({ sub: '3' }, hmac());
    const t4 = await sign({ sub: '4' }, hmac());
    await v.verify(t2);
    await v.verify(t3);
    await v.verify(t4);
    assert.equal(v.cacheSize, 2);
    assert.equal(v.cached(t2), undefined, 'the oldest went');
    assert.equal(v.cached(t4)?.user, '4');
  });

  test('a full cache drops its oldest entry (and expired ones right behind it), not a walk over all', async () => {
    let clock = Date.now();
    const v = new TokenVerifier(cfg({ tokenHmacSecret: SECRET }), { cacheSize: 3, now: () => clock });
    const s = Math.floor(clock / 1000);
    const old = await sign({ sub: 'old' }, hmac());
    const soon = await sign({ sub: 'soon', exp: s + 5 }, hmac());
    const live = await sign({ sub: 'live' }, hmac());
    const later = await sign({ sub: 'later', exp: s + 5 }, hmac());
    for (const t of [old, soon, live]) await v.verify(t);
    clock += 6000;
    const fresh = await sign({ sub: 'fresh', exp: s + 60 }, hmac());
    await v.verify(fresh);
    // The oldest went, and the expired one behind it; the live one stays.
    assert.equal(v.cacheSize, 2);
    assert.equal(v.cached(live)?.user, 'live');
    assert.equal(v.cached(fresh)?.user, 'fresh');
    await refused(v.verify(later), 'token_expired');
  });

  test('a refused token is not cached', async () => {
    const v = new TokenVerifier(cfg({ tokenHmacSecret: SECRET }));
    const bad = await sign({ sub: '1' }, hmac('wrong-wrong-wrong-wrong'));
    await refused(v.verify(bad), 'invalid_token');
    assert.equal(v.cached(bad), undefined);
  });
});
