import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF, retryAfterMs } from '../../src/client/backoff.js';

test('full jitter: the delay is the random fraction of a window doubling from the base up to the cap', () => {
  const p = DEFAULT_BACKOFF;
  assert.equal(
    backoffDelay(0, p, () => 0.999),
    499,
    'the first attempt comes within the base',
  );
  assert.equal(
    backoffDelay(1, p, () => 0.5),
    500,
  );
  assert.equal(
    backoffDelay(3, p, () => 0.5),
    2000,
  );
  assert.equal(
    backoffDelay(6, p, () => 0.999),
    29_970,
    'capped',
  );
  assert.equal(
    backoffDelay(1000, p, () => 0.999),
    29_970,
    'a huge attempt count stays at the cap',
  );
  assert.equal(
    backoffDelay(5, p, () => 0),
    0,
  );
});

test('full jitter spreads many clients over the whole window', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const buckets = new Array<number>(10).fill(0);
  for (let i = 0; i < 10_000; i++) buckets[Math.floor(backoffDelay(8, DEFAULT_BACKOFF, random) / 3000)]!++;
  for (const b of buckets)
    assert.ok(b > 800 && b < 1200, `every tenth of the window holds about a tenth: ${buckets}`);
});

test('Retry-After in seconds', () => {
  assert.equal(retryAfterMs('1'), 1000);
  assert.equal(retryAfterMs(' 30 '), 30_000);
  assert.equal(retryAfterMs(null), null);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT'), null);
  assert.equal(retryAfterMs('-1'), null);
});
