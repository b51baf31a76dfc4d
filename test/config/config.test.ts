import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, envName, loadConfig } from '../../src/config/config.js';

test('defaults, then file, then environment, then flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ port: 9000, historySize: 50, allowedOrigins: ['https://a.example'] }));
  const c = loadConfig({
    file,
    env: { HOLDFAST_PORT: '9001', HOLDFAST_API_KEY: 'k' },
    flags: { historySize: '60' },
  });
  assert.equal(c.port, 9001);
  assert.equal(c.historySize, 60);
  assert.deepEqual(c.allowedOrigins, ['https://a.example']);
  assert.equal(c.apiKey, 'k');
  assert.equal(c.apiKeyGenerated, false);
  assert.equal(loadConfig().port, 8080);
});

test('a missing API key is generated', () => {
  const c = loadConfig();
  assert.equal(c.apiKeyGenerated, true);
  assert.ok(c.apiKey.length >= 20);
});

test('bad values fail with the option and the source named', () => {
  assert.throws(
    () => loadConfig({ env: { HOLDFAST_PORT: 'eighty' } }),
    (e: Error) => {
      return e instanceof ConfigError && e.message.includes('port') && e.message.includes('HOLDFAST_PORT');
    },
  );
  assert.throws(() => loadConfig({ flags: { port: 70000 } }), /above the maximum/);
  assert.throws(() => loadConfig({ flags: { logLevel: 'loud' } }), /not one of/);
  assert.throws(() => loadConfig({ flags: { workers: 'many' } }), /workers/);
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-config-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({ file }), /unknown option "prot"/);
  writeFileSync(file, '{not json');
  assert.throws(() => loadConfig({ file }), ConfigError);
});

test('environment names', () => {
  assert.equal(envName('maxQueuedBytes'), 'HOLDFAST_MAX_QUEUED_BYTES');
  assert.equal(envName('port'), 'HOLDFAST_PORT');
});
