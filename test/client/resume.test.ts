import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCursor, ResumeState } from '../../src/client/resume.js';

test('positions: fresh, recovered, failed; duplicates refused', () => {
  const r = new ResumeState();
  assert.equal(r.accept('a', 1), false, 'nothing before the subscription is delivered');
  assert.equal(r.subscribed('a', 'e1', 5, undefined), 'fresh');
  assert.equal(r.accept('a', 5), false);
  assert.equal(r.accept('a', 6), true);
  assert.equal(r.accept('a', 6), false);
  assert.equal(r.subscribed('a', 'e1', 9, true), 'recovered');
  assert.deepEqual(r.since('a'), { epoch: 'e1', offset: 6 }, 'a recovery continues from the last delivered');
  assert.equal(
    r.subscribed('a', 'e1b', 9, true),
    'recovered',
    "an empty channel's epoch continues in its first one",
  );
  assert.deepEqual(r.since('a'), { epoch: 'e1b', offset: 6 });
  assert.equal(r.subscribed('a', 'e2', 3, false), 'failed');
  assert.deepEqual(r.since('a'), { epoch: 'e2', offset: 3 });
  r.forget('a');
  assert.equal(r.since('a'), undefined);
});

test('cursors: known channels by position, unknown ones with a position that matches no epoch', () => {
  const r = new ResumeState();
  r.subscribed('a', 'k3j9x2ab', 42, undefined);
  assert.equal(r.cursor(['a', 'b']), 'k3j9x2ab-42.0-0');
  assert.deepEqual(parseCursor('k3j9x2ab-42.0-0', 2), [
    { epoch: 'k3j9x2ab', offset: 42 },
    { epoch: '0', offset: 0 },
  ]);
  assert.equal(parseCursor('k3j9x2ab-42', 2), null);
  assert.equal(parseCursor('K-1', 1), null);
  r.advance('a', 'k3j9x2ab', 40);
  assert.deepEqual(r.since('a'), { epoch: 'k3j9x2ab', offset: 42 }, 'never backwards');
  r.advance('a', 'k3j9x2ab', 45);
  assert.deepEqual(r.since('a'), { epoch: 'k3j9x2ab', offset: 45 });
});
