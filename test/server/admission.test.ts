import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission } from '../../src/server/admission.js';

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

test('long-polls are not refused by the rate, but a new poll session takes its token', () => {
  const { a, open } = admission(2);
  const t = Date.now() + 1000;
  open(5);
  assert.equal(a.check(t, 'request'), null);
  assert.equal(a.check(t, 'stream'), 'rate');
  // The bucket stays empty instead of owing the extra three: one token half a second later.
  assert.equal(a.check(t + 500, 'stream'), null);
});
