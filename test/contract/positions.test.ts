import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCursor, newEpoch, parseCursor } from '../../src/contract/positions.js';

test('cursor round-trips positions in order', () => {
  const positions = [
    { epoch: 'abc12345', offset: 42 },
    { epoch: '0', offset: 0 },
  ];
  const text = formatCursor(positions);
  assert.equal(text, 'abc12345-42.0-0');
  assert.deepEqual(parseCursor(text, 2), positions);
});

test('cursor for another channel count or malformed is rejected', () => {
  assert.equal(parseCursor('abc-1.def-2', 1), null);
  assert.equal(parseCursor('abc-1', 2), null);
  assert.equal(parseCursor('ABC-1', 1), null);
  assert.equal(parseCursor('abc--1', 1), null);
  assert.equal(parseCursor('abc-1x', 1), null);
  assert.equal(parseCursor('', 1), null);
  assert.equal(parseCursor('abc-99999999999999999', 1), null);
});

test('epochs are short lowercase base-36 and differ', () => {
  const a = newEpoch();
  assert.match(a, /^[a-z0-9]{8}$/);
  const seen = new Set(Array.from({ length: 100 }, newEpoch));
  assert.ok(seen.size > 95);
});
