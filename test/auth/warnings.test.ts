import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessWarnings } from '../../src/auth/warnings.js';

const base = { tokenHmacSecret: '', tokenJwksUrl: '', tokenAudience: '' };

test('a short HMAC secret and a JWKS without an audience are warned about; good options are not', () => {
  assert.deepEqual(accessWarnings(base), []);
  assert.deepEqual(accessWarnings({ ...base, tokenHmacSecret: 'x'.repeat(32) }), []);
  const [short] = accessWarnings({ ...base, tokenHmacSecret: 'secret' });
  assert.match(short ?? '', /tokenHmacSecret is shorter than 32 bytes/);
  const [aud] = accessWarnings({ ...base, tokenJwksUrl: 'https://idp.test/jwks' });
  assert.match(aud ?? '', /tokenAudience/);
  assert.deepEqual(
    accessWarnings({ ...base, tokenJwksUrl: 'https://idp.test/jwks', tokenAudience: 'holdfast' }),
    [],
  );
});
