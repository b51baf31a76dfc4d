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

test('reading channels that were never published allocates nothing', () => {
  const h = new MemoryHistory({ size: 1000, ttlMs: 10_000, metaTtlMs: 60_000 });
  for (let i = 0; i < 10_000; i++) {
    const pos = h.read(`never-${i}`, { limit: 0 }, 0);
    h.read(`never-${i}`, { since: { epoch: pos.epoch, offset: 0 }, limit: 100 }, 0);
  }
  assert.equal(h.channelCount, 0);
  assert.equal(h.slotCount, 0);
});

test('a ring is allocated at the first publication and doubles as needed, up to size', () => {
  const h = new MemoryHistory({ size: 100, ttlMs: 10_000, metaTtlMs: 60_000 });
  const slots: number[] = [];
  for (let i = 1; i <= 150; i++) {
    h.append('a', String(i), 0);
    if ([1, 4, 5, 9, 17, 33, 65, 100, 150].includes(i)) slots.push(h.slotCount);
  }
  assert.deepEqual(slots, [4, 4, 8, 16, 32, 64, 100, 100, 100]);
  const epoch = h.read('a', { limit: 0 }, 0).epoch;
  const all = h.read('a', { since: { epoch, offset: 0 }, limit: 1000 }, 0);
  assert.deepEqual(
    all.publications.map((p) => p.offset),
    Array.from({ length: 100 }, (_, k) => 51 + k),
    'growing kept every publication, in order',
  );
});

test('a ring grown past a wrap keeps its order', () => {
  const h = new MemoryHistory({ size: 6, ttlMs: 10_000, metaTtlMs: 60_000 });
  for (let i = 1; i <= 9; i++) h.append('a', String(i), 0);
  const epoch = h.read('a', { limit: 0 }, 0).epoch;
  const r = h.read('a', { since: { epoch, offset: 0 }, limit: 100 }, 0);
  assert.deepEqual(
    r.publications.map((p) => p.data),
    ['4', '5', '6', '7', '8', '9'],
  );
});

test('a ring whose publications all aged out is given back; epoch and offset stay', () => {
  const h = new MemoryHistory(limits);
  const first = h.append('a', '1', 0);
  h.sweep(20_000);
  assert.equal(h.slotCount, 0);
  assert.equal(h.channelCount, 1);
  const next = h.append('a', '2', 20_000);
  assert.deepEqual([next.epoch, next.offset], [first.epoch, 2]);
  assert.equal(h.slotCount, 4);
});

test('a position read before the first publication resumes into its epoch within metaTtl', () => {
  const h = new MemoryHistory(limits);
  const empty = h.read('a', { limit: 0 }, 1000);
  const same = h.append('a', '1', 1000);
  const r = h.read('a', { since: { epoch: empty.epoch, offset: 0 }, limit: 10 }, 2000);
  assert.deepEqual(r.from, { epoch: same.epoch, offset: 0 }, 'an epoch born the same millisecond');
  assert.deepEqual(
    r.publications.map((p) => p.offset),
    [1],
  );

  const late = new MemoryHistory(limits);
  const early = late.read('b', { limit: 0 }, 0);
  // A first publication metaTtl later: another epoch could have come and gone in between.
  late.append('b', '1', limits.metaTtlMs);
  const gone = late.read('b', { since: { epoch: early.epoch, offset: 0 }, limit: 10 }, limits.metaTtlMs);
  assert.equal(gone.from, undefined);
  assert.deepEqual(gone.publications, []);

  const restarted = new MemoryHistory(limits);
  restarted.append('a', '1', 1500);
  const other = restarted.read('a', { since: { epoch: empty.epoch, offset: 0 }, limit: 10 }, 2000);
  assert.equal(other.from, undefined, "another store's (a restart's) position is not continued");
});

test('an empty position is kept while the channel stays unpublished within metaTtl', () => {
  const h = new MemoryHistory(limits);
  const empty = h.read('a', { limit: 0 }, 0);
  assert.equal(
    h.read('a', { since: { epoch: empty.epoch, offset: 0 }, limit: 1 }, 59_999).epoch,
    empty.epoch,
  );
  assert.notEqual(
    h.read('a', { since: { epoch: empty.epoch, offset: 0 }, limit: 1 }, 60_000).epoch,
    empty.epoch,
  );
  assert.notEqual(h.read('a', { since: { epoch: empty.epoch, offset: 3 }, limit: 1 }, 1).epoch, empty.epoch);
});
