import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartIntensity } from '../../src/cluster/supervisor.js';
import { autoWorkers, openFilesLimit } from '../../src/server/sizing.js';

const policy = { maxRestarts: 3, windowMs: 10_000, baseDelayMs: 100, maxDelayMs: 1000 };

test('restarts with growing back-off, then gives up past the intensity', () => {
  const r = new RestartIntensity(policy);
  assert.deepEqual(r.onCrash(0), { restart: true, delayMs: 100 });
  assert.deepEqual(r.onCrash(1000), { restart: true, delayMs: 200 });
  assert.deepEqual(r.onCrash(2000), { restart: true, delayMs: 400 });
  const d = r.onCrash(3000);
  assert.equal(d.restart, false);
  assert.match((d as { reason: string }).reason, /more than 3 worker restarts within 10 s/);
});

test('crashes older than the window are forgotten', () => {
  const r = new RestartIntensity(policy);
  r.onCrash(0);
  r.onCrash(1);
  r.onCrash(2);
  assert.deepEqual(r.onCrash(20_000), { restart: true, delayMs: 100 });
  assert.equal(r.total, 4);
});

test('back-off is capped', () => {
  const r = new RestartIntensity({ ...policy, maxRestarts: 10 });
  let last = 0;
  for (let i = 0; i < 8; i++) {
    const d = r.onCrash(i);
    assert.equal(d.restart, true);
    last = (d as { delayMs: number }).delayMs;
  }
  assert.equal(last, 1000);
});

test('auto workers: one per core, more when connections need more files', () => {
  assert.equal(autoWorkers(0, 20_000, 2), 2);
  assert.equal(autoWorkers(10_000, 20_000, 2), 2);
  assert.equal(autoWorkers(100_000, 20_000, 2), 6);
  assert.equal(autoWorkers(100_000, 1024, 2), 103);
  assert.equal(autoWorkers(100_000, null, 2), 2);
});

test('open-files limit parsed from /proc/self/limits', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max processes             95120                95120                processes',
    'Max open files            20000                20000                files',
  ].join('\n');
  assert.equal(openFilesLimit(text), 20_000);
  assert.equal(
    openFilesLimit('Max open files            unlimited            unlimited            files'),
    Number.MAX_SAFE_INTEGER,
  );
  assert.equal(openFilesLimit('nothing here'), null);
});
