import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Subscription } from '../../src/core/session.js';
import { Subscriptions } from '../../src/core/subscriptions.js';

test('behaves like a Map under any sequence of set, delete, clear (model-based)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c', 'd') }),
    fc.record({ kind: fc.constant('clear' as const), key: fc.constant('') }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const model = new Map<string, Subscription>();
      const subs = new Subscriptions();
      for (const o of ops) {
        if (o.kind === 'set') {
          const v = new Subscription();
          assert.equal(subs.set(o.key, v), subs);
          model.set(o.key, v);
        } else if (o.kind === 'delete') {
          assert.equal(subs.delete(o.key), model.delete(o.key));
        } else {
          subs.clear();
          model.clear();
        }
        assert.equal(subs.size, model.size);
        for (const k of ['a', 'b', 'c', 'd']) {
          assert.equal(subs.has(k), model.has(k));
          assert.equal(subs.get(k), model.get(k));
        }
        assert.deepEqual([...subs.keys()].sort(), [...model.keys()].sort());
      }
    }),
  );
});

test('keys() is a snapshot: deleting while iterating visits every key once', () => {
  const subs = new Subscriptions();
  for (const k of ['x', 'y', 'z']) subs.set(k, new Subscription());
  const seen: string[] = [];
  for (const k of subs.keys()) {
    seen.push(k);
    subs.delete(k);
  }
  assert.deepEqual(seen.sort(), ['x', 'y', 'z']);
  assert.equal(subs.size, 0);
});
