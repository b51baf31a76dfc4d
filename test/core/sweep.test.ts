import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacedSweep } from '../../src/core/sweep.js';

/** The paced sweep, driven tick by tick: 100 ticks make one period (25 s at 250 ms). */
describe('PacedSweep', () => {
  const PERIOD = 25_000;
  const TICK = 250;

  function run(set: Set<number>, ticks: number, each?: (tick: number) => void) {
    const visits = new Map<number, number[]>();
    const perTick: number[] = [];
    let t = 0;
    const sweep = new PacedSweep(
      set,
      PERIOD,
      (x) => {
        const v = visits.get(x) ?? [];
        v.push(t);
        visits.set(x, v);
        perTick[t] = (perTick[t] ?? 0) + 1;
      },
      TICK,
    );
    for (t = 0; t < ticks; t++) {
      each?.(t);
      sweep.tick();
    }
    return { visits, perTick };
  }

  it('visits every member once per period, spread evenly over it', () => {
    const set = new Set(Array.from({ length: 14_000 }, (_, i) => i));
    const { visits, perTick } = run(set, 300);
    for (const x of set) {
      const v = visits.get(x);
      assert.ok(v !== undefined && v.length === 3, `member ${x}: ${v?.length} visits`);
      assert.equal(v[1]! - v[0]!, 100);
      assert.equal(v[2]! - v[1]!, 100);
    }
    assert.ok(Math.max(...perTick) <= 140, `at most 140 a tick, saw ${Math.max(...perTick)}`);
    assert.ok(Math.min(...perTick) >= 140, `at least 140 a tick, saw ${Math.min(...perTick)}`);
  });

  it('visits a set of one once per period, not once per tick', () => {
    const { visits } = run(new Set([7]), 300);
    assert.deepEqual(visits.get(7), [99, 199, 299]);
  });

  it('visits new members within about a period, deleted ones never again', () => {
    const set = new Set(Array.from({ length: 1000 }, (_, i) => i));
    const { visits } = run(set, 400, (t) => {
      if (t === 50) {
        for (let i = 1000; i < 1100; i++) set.add(i);
        for (let i = 0; i < 100; i++) set.delete(i);
      }
    });
    for (let i = 1000; i < 1100; i++) {
      const first = visits.get(i)?.[0];
      assert.ok(first !== undefined && first - 50 <= 110, `new member ${i} first visited at ${first}`);
    }
    for (let i = 0; i < 100; i++) {
      assert.ok(
        (visits.get(i) ?? []).every((t) => t < 50),
        `deleted member ${i} visited after deletion`,
      );
    }
    for (let i = 100; i < 1000; i++) assert.ok((visits.get(i)?.length ?? 0) >= 3);
  });

  it('never visits a member twice in one tick, and does nothing for an empty set', () => {
    const set = new Set([1, 2, 3]);
    const seen: number[] = [];
    const s2 = new PacedSweep(set, TICK, (x) => seen.push(x), TICK);
    s2.tick();
    assert.deepEqual(seen, [1, 2, 3]);
    s2.tick();
    assert.deepEqual(seen, [1, 2, 3, 1, 2, 3]);
    const empty = run(new Set(), 200);
    assert.equal(empty.visits.size, 0);
  });
});
