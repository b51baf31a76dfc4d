import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type Running, startServer } from '../helpers/server.js';

/**
 * The client library as it is shipped (scripts/build-client.mjs): one minified ES module with no
 * imports, at most 6 KB gzipped, served at GET /client.js with a long cache lifetime, an ETag of
 * its content, gzip and CORS, and exported by the package as `holdfast/client`.
 */
const BUNDLE = new URL('../../client/holdfast.js', import.meta.url);
const MAX_GZIP_BYTES = 6 * 1024;

let s: Running;
before(async () => {
  s = await startServer();
});
after(() => s.close());

test('the bundle is at most 6 KB gzipped, and a module that needs nothing else', async () => {
  const text = readFileSync(BUNDLE);
  const gz = gzipSync(text, { level: 9 }).length;
  assert.ok(gz <= MAX_GZIP_BYTES, `${gz} bytes gzipped, over ${MAX_GZIP_BYTES}`);
  assert.doesNotMatch(text.toString(), /\bfrom\s*["'](?!data:)/, 'no import of another module');
  assert.doesNotMatch(text.toString(), /["']node:/, 'no Node built-in');
  const mod = (await import(BUNDLE.href)) as Record<string, unknown>;
  assert.equal(typeof mod['Holdfast'], 'function');
  assert.equal(typeof mod['HoldfastClientError'], 'function');
});

test('the package exports it as holdfast/client', async () => {
  // Through a variable: tsc runs before the bundle and its declarations exist.
  const specifier = 'holdfast/client';
  const viaPackage = (await import(specifier)) as Record<string, unknown>;
  const direct = (await import(BUNDLE.href)) as Record<string, unknown>;
  assert.equal(viaPackage['Holdfast'], direct['Holdfast']);
});

test('GET /client.js: the bundle, cached a day with its hash as ETag, gzip when asked, 304 when unchanged', async () => {
  const bytes = readFileSync(BUNDLE);
  const plain = await fetch(`${s.base}/client.js`, { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(plain.headers.get('cache-control'), 'public, max-age=86400');
  assert.equal(plain.headers.get('access-control-allow-origin'), '*');
  const etag = plain.headers.get('etag');
  assert.match(etag ?? '', /^"[\w-]{22}"$/);
  assert.deepEqual(Buffer.from(await plain.arrayBuffer()), bytes);

  const raw = await new Promise<{ status: number; encoding: string | undefined; body: Buffer }>(
    (resolve, reject) => {
      import('node:http').then(({ get }) => {
        get(`${s.base}/client.js`, { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              encoding: res.headers['content-encoding'],
              body: Buffer.concat(chunks),
            }),
          );
        }).on('error', reject);
      }, reject);
    },
  );
  assert.equal(raw.status, 200);
  assert.equal(raw.encoding, 'gzip');
  assert.ok(raw.body.length <= MAX_GZIP_BYTES);
  assert.deepEqual(gunzipSync(raw.body), bytes);

  const again = await fetch(`${s.base}/client.js`, { headers: { 'if-none-match': `"other", ${etag}` } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get('etag'), etag);
  const post = await fetch(`${s.base}/client.js`, { method: 'POST' });
  assert.equal(post.status, 405);
});
