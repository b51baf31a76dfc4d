import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TokenVerifier } from '../../src/auth/tokens.js';
import { mintOptions, mintToken, parseTtl, TokenUsageError } from '../../src/cli/token.js';
import { loadConfig } from '../../src/config/config.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SECRET = 'cli-token-secret-0123456789abcdef';

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOLDFAST_')));
    execFile(
      process.execPath,
      [MAIN, 'token', ...args],
      { env: { ...clean, ...env }, timeout: 20_000 },
      (error, out, err) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), out, err }),
    );
  });
}

test('parseTtl', () => {
  assert.equal(parseTtl('90'), 90);
  assert.equal(parseTtl('90s'), 90);
  assert.equal(parseTtl('15m'), 900);
  assert.equal(parseTtl('1h'), 3600);
  assert.equal(parseTtl('7d'), 7 * 86400);
  assert.equal(parseTtl('0'), 0);
  for (const bad of ['', '1w', '-1', '1.5h', 'h']) assert.throws(() => parseTtl(bad), TokenUsageError);
});

test('a minted token verifies with the same secret, with its claims', async () => {
  const nowMs = Date.now();
  const t = await mintToken(
    { secret: SECRET, user: '42', channels: ['a', 'b*'], ttlSeconds: 3600, info: { name: 'Ann' } },
    nowMs,
  );
  const id = await new TokenVerifier(loadConfig({ flags: { tokenHmacSecret: SECRET } })).verify(t);
  assert.deepEqual(id, {
    user: '42',
    channels: ['a', 'b*'],
    info: { name: 'Ann' },
    expiresAt: (Math.floor(nowMs / 1000) + 3600) * 1000,
  });
  const forever = await mintToken({ secret: SECRET, user: '1', ttlSeconds: 0 });
  assert.equal(
    (await new TokenVerifier(loadConfig({ flags: { tokenHmacSecret: SECRET } })).verify(forever)).expiresAt,
    0,
  );
  await assert.rejects(mintToken({ secret: '', user: '1', ttlSeconds: 1 }), /no HMAC secret/);
  await assert.rejects(mintToken({ secret: SECRET, user: '', ttlSeconds: 1 }), TokenUsageError);
  await assert.rejects(
    mintToken({ secret: SECRET, user: '1', ttlSeconds: 1, info: 'x'.repeat(5000) }),
    TokenUsageError,
  );
});

test('mintOptions: the secret from --secret, else the environment or the config file', () => {
  assert.equal(mintOptions({ user: '1', secret: 's1' }, {}).secret, 's1');
  assert.equal(mintOptions({ user: '1' }, { HOLDFAST_TOKEN_HMAC_SECRET: 's2' }).secret, 's2');
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-token-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ tokenHmacSecret: 's3' }));
  assert.equal(mintOptions({ user: '1', config: file }, {}).secret, 's3');
  assert.deepEqual(mintOptions({ user: '1', channels: 'a, b,,c' }, {}).channels, ['a', 'b', 'c']);
  assert.deepEqual(mintOptions({ user: '1', info: '{"a":1}' }, {}).info, { a: 1 });
  assert.throws(() => mintOptions({ user: '1', info: '{' }, {}), TokenUsageError);
});

test('holdfast token: prints a token; without a secret says how to give one', async () => {
  const ok = await run(['--user', '42', '--channels', 'room:1', '--ttl', '10m'], {
    HOLDFAST_TOKEN_HMAC_SECRET: SECRET,
  });
  assert.equal(ok.code, 0, ok.err);
  const token = ok.out.trim();
  const id = await new TokenVerifier(loadConfig({ flags: { tokenHmacSecret: SECRET } })).verify(token);
  assert.equal(id.user, '42');
  assert.deepEqual(id.channels, ['room:1']);
  const none = await run(['--user', '42']);
  assert.equal(none.code, 2);
  assert.match(none.err, /no HMAC secret: give --secret, set HOLDFAST_TOKEN_HMAC_SECRET/);
  assert.equal(none.out, '');
});
