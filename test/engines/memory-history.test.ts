import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryHistory } from '../../src/engines/memory/history.js';

const limits = { size: 5, ttlMs: 10_000, metaTtlMs: 60_000 };

test('offsets start at 1 per channel and share an epoch', () => {
  const h = new MemoryHistory(limits);
  const a1 = h.append('a', '1', 0);
  const a2 = h.append('a', '2', 0);
  const b1 = h.append('b', '1', 0);
  assert.equal(a1.offset, 1);
  assert.equal(a2.offset, 2);
  assert.equal(b1.offset, 1);
  assert.equal(a1.epoch, a2.epoch);
});

test('read since an offset returns the rest in order, bounded by limit', () => {
  const h = new MemoryHistory(limits);
  for (let i = 1; i <= 4; i++) h.append('a', String(i), 0);
  const epoch = h.read('a', { limit: 0 }, 0).epoch;
  const r = h.read('a', { since: { epoch, offset: 1 }, limit: 10 }, 0);
  assert.equal(r.offset, 4);
  assert.deepEqual(
    r.publications.map((p) => p.data),
    ['2', '3', '4'],
  );
  const limited = h.read('a', { since: { epoch, offset: 0 }, limit: 2 }, 0);
  assert.deepEqual(
    limited.publications.map((p) => p.offset),
    [1, 2],
  );
});

test('the ring keeps only the newest `size` publications', () => {
  const h = new MemoryHistory(limits);
  for (let i = 1; i <= 12; i++) h.append('a', String(i), 0);
  const epoch = h.read('a', { limit: 0 }, 0).epoch;
  const r = h.read('a', { since: { epoch, offset: 0 }, limit: 100 }, 0);
  assert.deepEqual(
    r.publications.map((p) => p.offset),
    [8, 9, 10, 11, 12],
  );
  const fromNine = h.read('a', { since: { epoch, offset: 9 }, limit: 100 }, 0);
  assert.deepEqual(
    fromNine.publications.map((p) => p.offset),
    [10, 11, 12],
  );
});

test('another epoch yields no publications', () => {
  const h = new MemoryHistory(limits);
  h.append('a', '1', 0);
  const r = h.read('a', { since: { epoch: 'other', offset: 0 }, limit: 10 }, 0);
  assert.equal(r.publications.length, 0);
  assert.equal(r.offset, 1);
});

test('publications older than the ttl are dropped; the offset stays', () => {
  const h = new MemoryHistory(limits);
  h.append('a', '1', 0);
  h.append('a', '2', 5_000);
  const epoch = h.read('a', { limit: 0 }, 0).epoch;
  const r = h.read('a', { since: { epoch, offset: 0 }, limit: 10 }, 12_000);
  assert.deepEqual(
    r.publications.map((p) => p.offset),
    [2],
  );
  assert.equal(r.offset, 2);
});

test('an idle channel is forgotten after metaTtl and comes back with a new epoch', () => {
  const h = new MemoryHistory(limits);
  const first = h.append('a', '1', 0);
  h.sweep(30_000);
  assert.equal(h.channelCount, 1, 'kept while within metaTtl');
  h.sweep(80_000);
  assert.equal(h.channelCount, 0);
  const again = h.append('a', '1', 80_000);
  assert.equal(again.offset, 1);
  assert.notEqual(again.epoch, first.epoch);
});

test('size 0 keeps no publications but still numbers them', () => {
  const h = new MemoryHistory({ ...limits, size: 0 });
  h.append('a', '1', 0);
  const p = h.append('a', '2', 0);
  assert.equal(p.offset, 2);
  const r = h.read('a', { since: { epoch: p.epoch, offset: 0 }, limit: 10 }, 0);
  assert.equal(r.publications.length, 0);
});
