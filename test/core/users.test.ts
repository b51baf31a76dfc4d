import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserIndex } from '../../src/core/users.js';

test('sessions by user: add, list, delete; an emptied user has no entry', () => {
  const index = new UserIndex<string>();
  index.add('alice', 's1');
  index.add('alice', 's2');
  index.add('bob', 's3');
  assert.equal(index.size, 2);
  assert.deepEqual(index.of('alice').sort(), ['s1', 's2']);
  assert.deepEqual(index.of('nobody'), []);
  index.delete('alice', 's1');
  assert.deepEqual(index.of('alice'), ['s2']);
  index.delete('alice', 's2');
  assert.equal(index.size, 1, 'no empty entry is kept');
  assert.deepEqual(index.of('alice'), []);
  index.delete('alice', 's2'); // deleting what is gone is harmless
  index.delete('carol', 'sX');
  assert.equal(index.size, 1);
});

test('the list is a snapshot: deleting while going through it skips nothing', () => {
  const index = new UserIndex<number>();
  for (let i = 0; i < 10; i++) index.add('u', i);
  const seen: number[] = [];
  for (const s of index.of('u')) {
    seen.push(s);
    index.delete('u', s);
  }
  assert.equal(seen.length, 10);
  assert.equal(index.size, 0);
});
