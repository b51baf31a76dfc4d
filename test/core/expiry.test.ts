import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Identity } from '../../src/contract/identity.js';
import { ExpiryIndex } from '../../src/core/expiry.js';
import { FakeSession } from '../helpers/fake.js';

const until = (expiresAt: number): Identity => ({ user: 'u', info: undefined, channels: [], expiresAt });

test('sessions expire once, after their expiresAt, unless removed or refreshed', () => {
  let clock = 1_000_000;
  const expired: FakeSession[] = [];
  const idx = new ExpiryIndex<FakeSession>(
    (s) => expired.push(s),
    () => clock,
  );
  const a = new FakeSession();
  const b = new FakeSession();
  const c = new FakeSession();
  const never = new FakeSession();
  a.identity = until(clock + 1500);
  b.identity = until(clock + 1500);
  c.identity = until(clock + 3000);
  never.identity = until(0);
  for (const s of [a, b, c, never]) idx.add(s);
  assert.equal(idx.size, 3, 'an identity without expiry is not held');
  idx.remove(b);
  clock += 1000;
  idx.sweep();
  assert.deepEqual(expired, []);
  clock += 1000;
  idx.sweep();
  assert.deepEqual(expired, [a]);
  // c refreshes: out with the old identity, in with the new.
  idx.remove(c);
  c.identity = until(clock + 10_000);
  idx.add(c);
  clock += 2000;
  idx.sweep();
  assert.deepEqual(expired, [a]);
  clock += 9000;
  idx.sweep();
  assert.deepEqual(expired, [a, c]);
  assert.equal(idx.size, 0);
  idx.stop();
});

test('an identity already expired when added is due at the next sweep; refreshed first, it is not', () => {
  let clock = 5_000_000;
  const expired: FakeSession[] = [];
  const idx = new ExpiryIndex<FakeSession>(
    (s) => expired.push(s),
    () => clock,
  );
  clock += 10_000;
  idx.sweep();
  const s = new FakeSession();
  s.identity = until(clock - 5000);
  idx.add(s);
  const r = new FakeSession();
  r.identity = until(clock - 5000);
  idx.add(r);
  idx.remove(r);
  r.identity = until(clock + 60_000);
  idx.add(r);
  clock += 1000;
  idx.sweep();
  assert.deepEqual(expired, [s]);
  idx.stop();
});
