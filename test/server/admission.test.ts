import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Node } from '../../src/core/node.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { Admission } from '../../src/server/admission.js';
import { FakeSession } from '../helpers/fake.js';

function admission(perSecond: number): { a: Admission; open(n?: number): void } {
  let opened = 0;
  const a = new Admission(
    { maxConnections: 0, maxNewPerSecond: perSecond, memoryWatermarkBytes: 0 },
    () => 0,
    undefined,
    () => opened,
  );
  return {
    a,
    open: (n = 1) => {
      opened += n;
    },
  };
}

test('checks take no token: only a stream that opens does, once', () => {
  const { a, open } = admission(2);
  const t = Date.now() + 1000;
  for (let i = 0; i < 100; i++) assert.equal(a.check(t), null, 'a check alone takes nothing');
  open();
  assert.equal(a.check(t), null, 'one of two tokens left');
  open();
  assert.equal(a.check(t), 'rate', 'both taken by the two streams');
  assert.equal(a.check(t), 'rate', 'a refused check takes nothing either');
  assert.equal(a.check(t + 500), null, 'half a second gives one token back');
});

test('a long-poll is not refused by the rate, which only streams empty', () => {
  const { a, open } = admission(2);
  const t = Date.now() + 1000;
  open(5);
  assert.equal(a.check(t, 'poll'), null, 'not refused with the bucket empty');
  assert.equal(a.check(t, 'stream'), 'rate');
  // The bucket stays empty instead of owing the extra three: one token half a second later.
  assert.equal(a.check(t + 500, 'stream'), null);
});

test('the Node counts WebSocket and SSE sessions for the accept rate, long-polls not', () => {
  const node = new Node(new MemoryEngine({ size: 10, ttlMs: 60_000, metaTtlMs: 600_000 }), {
    maxRecover: 100,
  });
  const a = new Admission(
    { maxConnections: 0, maxNewPerSecond: 2, memoryWatermarkBytes: 0 },
    () => node.sessionCount,
    undefined,
    () => node.stats.streamsOpened,
  );
  const t = Date.now() + 1000;
  for (let i = 0; i < 10; i++) node.attach(new FakeSession(), 'poll');
  assert.equal(a.check(t, 'stream'), null, 'ten new poll sessions took nothing');
  node.attach(new FakeSession(), 'stream');
  node.attach(new FakeSession());
  assert.equal(a.check(t, 'stream'), 'rate', 'two streams took both tokens');
});
