import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { type Expirable, TimerWheel } from '../../src/core/wheel.js';

/** An item that counts its expiries and can act from inside expire(). */
class Item implements Expirable {
  wheelTick = 0;
  fired = 0;
  onExpire: (() => void) | null = null;
  expire(): void {
    this.fired++;
    this.onExpire?.();
  }
}

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test('items expire once, after their deadline, at the wheel resolution', () => {
  const w = new TimerWheel(100);
  const a = new Item();
  const b = new Item();
  w.schedule(a, 250);
  w.schedule(b, 1000);
  assert.equal(w.size, 2);
  mock.timers.tick(200);
  assert.equal(a.fired, 0);
  mock.timers.tick(100);
  assert.equal(a.fired, 1);
  assert.equal(a.wheelTick, 0);
  assert.equal(w.size, 1);
  mock.timers.tick(2000);
  assert.equal(a.fired, 1);
  assert.equal(b.fired, 1);
  assert.equal(w.size, 0);
});

test('cancel and reschedule: the old deadline does not fire, only the last one does, once', () => {
  const w = new TimerWheel(100);
  const a = new Item();
  const b = new Item();
  w.schedule(a, 300);
  w.cancel(a);
  assert.equal(w.size, 0);
  w.schedule(b, 300);
  w.schedule(b, 1000); // later: its entry at 300 ms stays behind, stale
  w.schedule(b, 1000); // same tick: no second entry
  mock.timers.tick(500);
  assert.equal(a.fired, 0);
  assert.equal(b.fired, 0);
  w.schedule(b, 200); // earlier again
  mock.timers.tick(300);
  assert.equal(b.fired, 1);
  mock.timers.tick(2000);
  assert.equal(b.fired, 1);
  // Cancelled and scheduled again into a slot that still holds its stale entry: fires once.
  w.schedule(a, 500);
  w.cancel(a);
  w.schedule(a, 500);
  mock.timers.tick(600);
  assert.equal(a.fired, 1);
  assert.equal(w.size, 0);
});

test('an item rescheduled from its own expire() fires again later, not never', () => {
  const w = new TimerWheel(100);
  const a = new Item();
  a.onExpire = () => {
    if (a.fired === 1) w.schedule(a, 0);
  };
  w.schedule(a, 100);
  mock.timers.tick(100);
  assert.equal(a.fired, 1);
  assert.equal(w.size, 1); // due at the next tick, not at the one that just fired
  mock.timers.tick(100);
  assert.equal(a.fired, 2);
  assert.equal(w.size, 0);
});

test('stop forgets every deadline', () => {
  const w = new TimerWheel(100);
  const a = new Item();
  w.schedule(a, 100);
  w.stop();
  assert.equal(a.wheelTick, 0);
  assert.equal(w.size, 0);
  mock.timers.tick(1000);
  assert.equal(a.fired, 0);
});
