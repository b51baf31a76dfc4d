import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Parking } from '../../src/transports/poll-park.js';
import type { PollRequest } from '../../src/transports/poll-request.js';

const request = (channels: string[], cursor: string | null): PollRequest => ({
  channels,
  cursor,
  origin: undefined,
  since: null,
});

test('parked at a cursor: the next poll continues the session with that cursor and the same channels in order', () => {
  const p = new Parking();
  assert.equal(p.parked, false);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2'), ['a', 'b']), false, 'not parked');
  p.park('e-1.e-2');
  assert.equal(p.parked, true);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2'), ['a', 'b']), true);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-3'), ['a', 'b']), false, 'another cursor');
  assert.equal(p.resumes(request(['a', 'b'], null), ['a', 'b']), false, 'no cursor');
  assert.equal(p.resumes(request(['b', 'a'], 'e-1.e-2'), ['a', 'b']), false, 'another order');
  assert.equal(p.resumes(request(['a'], 'e-1.e-2'), ['a', 'b']), false, 'fewer channels');
  assert.equal(p.resumes(request(['a', 'b', 'c'], 'e-1.e-2'), ['a', 'b']), false, 'more channels');
  assert.equal(p.resumes(request(['a,b'], 'e-1.e-2'), ['a', 'b']), false, 'a comma is part of a name');
  p.unpark();
  assert.equal(p.parked, false);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2'), ['a', 'b']), false);
});

test('the target alone: the last spelling with the parked cursor in place of the one it brought', () => {
  const p = new Parking();
  p.spelledAs('/poll?channel=a&cursor=e-1&channel=b', 'e-1');
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-5&channel=b'), false, 'not parked');
  p.park('e-5');
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-5&channel=b'), true);
  for (const other of [
    '/poll?channel=a&cursor=e-1&channel=b',
    '/poll?channel=a&cursor=e-5&channel=b&x',
    '/poll?channel=b&cursor=e-5&channel=a',
  ]) {
    assert.equal(p.resumesTarget(other), false, other);
  }
  p.unpark();
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-5&channel=b'), false, 'unparked');
});

test('a spelling is learnt only when it is unambiguous', () => {
  for (const [target, cursor] of [
    ['/poll?channel=a', null],
    ['/poll?channel=%61&cursor=', ''],
    ['/poll?channel=a+&cursor=', ''],
    ['/poll?channel=a&cursor=&cursor=', ''],
    ['/poll?channel=a&cursor=x', ''],
    ['/poll?channel=acursor=', ''],
  ] as const) {
    const p = new Parking();
    p.spelledAs(target, cursor);
    p.park('e-9');
    assert.equal(p.resumesTarget(target.replace(/cursor=[^&]*/, 'cursor=e-9')), false, target);
  }
  // A learnt spelling is forgotten by one that cannot be learnt.
  const p = new Parking();
  p.spelledAs('/poll?channel=a&cursor=', '');
  p.spelledAs('/poll?channel=%61&cursor=', '');
  p.park('e-9');
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-9'), false);
});
