import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Checker, firstExpected } from '../../src/loadgen/checker.js';

function run(seqs: number[], start: number, last: number, failed?: Set<number>) {
  const c = new Checker(1);
  for (const s of seqs) c.receive(0, s);
  return {
    delivered: c.delivered[0]!,
    duplicated: c.duplicated[0]!,
    outOfOrder: c.outOfOrder[0]!,
    lost: c.lost(0, start, last, failed),
  };
}

describe('Checker', () => {
  it('counts an in-order stream as delivered, nothing else', () => {
    assert.deepEqual(run([1, 2, 3, 4, 5], 1, 5), { delivered: 5, duplicated: 0, outOfOrder: 0, lost: 0 });
  });

  it('counts a dropped message as lost', () => {
    assert.deepEqual(run([1, 2, 4, 5], 1, 5), { delivered: 4, duplicated: 0, outOfOrder: 0, lost: 1 });
  });

  it('counts a repeated message as duplicated, not delivered twice', () => {
    assert.deepEqual(run([1, 2, 2, 3, 1], 1, 3), { delivered: 3, duplicated: 2, outOfOrder: 0, lost: 0 });
  });

  it('counts a late message as out of order and delivered', () => {
    assert.deepEqual(run([1, 3, 2, 4], 1, 4), { delivered: 4, duplicated: 0, outOfOrder: 1, lost: 0 });
  });

  it('tells which out-of-order arrivals were failed publish requests applied late', () => {
    const c = new Checker(2);
    // Publication 2's request failed at the bench but reached the server after 3's.
    for (const s of [1, 3, 2, 4]) c.receive(0, s);
    // On the other subscription, 2 is late but its request had not failed: a real inversion.
    for (const s of [1, 3, 2, 5, 4]) c.receive(1, s);
    assert.equal(c.outOfOrder[0], 1);
    assert.equal(c.lateAfterFailedPublish(0, new Set([2])), 1);
    assert.equal(c.outOfOrder[1], 2);
    assert.equal(c.lateAfterFailedPublish(1, new Set([3])), 0);
    assert.equal(c.lateAfterFailedPublish(1, new Set([4])), 1);
    assert.equal(c.lateAfterFailedPublish(1), 0);
  });

  it('counts a message older than the first one received as out of order', () => {
    assert.deepEqual(run([3, 4, 1, 2], 1, 4), { delivered: 4, duplicated: 0, outOfOrder: 2, lost: 0 });
  });

  it('counts the missing head and tail of the expected range as lost', () => {
    assert.deepEqual(run([3, 4], 1, 6), { delivered: 2, duplicated: 0, outOfOrder: 0, lost: 4 });
  });

  it('does not expect what was published before the subscription started', () => {
    assert.deepEqual(run([5, 6], 5, 6), { delivered: 2, duplicated: 0, outOfOrder: 0, lost: 0 });
    // Received earlier than its start: still delivered, and nothing in between is forgiven.
    assert.deepEqual(run([2, 4, 5, 6], 5, 6), { delivered: 4, duplicated: 0, outOfOrder: 0, lost: 1 });
  });

  it('counts everything as lost when nothing arrived', () => {
    assert.deepEqual(run([], 3, 7), { delivered: 0, duplicated: 0, outOfOrder: 0, lost: 5 });
    assert.deepEqual(run([], 8, 7), { delivered: 0, duplicated: 0, outOfOrder: 0, lost: 0 });
  });

  it('does not expect publications that failed, but counts them if they arrive', () => {
    assert.deepEqual(run([1, 2, 4], 1, 5, new Set([3, 5])), {
      delivered: 3,
      duplicated: 0,
      outOfOrder: 0,
      lost: 0,
    });
    assert.deepEqual(run([1, 2, 3, 4], 1, 4, new Set([3])), {
      delivered: 4,
      duplicated: 0,
      outOfOrder: 0,
      lost: 0,
    });
  });

  it('keeps subscriptions apart', () => {
    const c = new Checker(3);
    c.receive(0, 1);
    c.receive(1, 1);
    c.receive(1, 3);
    c.receive(2, 2);
    c.receive(2, 2);
    assert.equal(c.lost(0, 1, 1), 0);
    assert.equal(c.lost(1, 1, 3), 1);
    assert.equal(c.duplicated[2], 1);
    assert.equal(c.lost(2, 1, 2), 1);
    assert.equal(c.missing.size, 1);
  });

  it('agrees with a brute-force model on random deliveries (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 80 }),
        fc.integer({ min: 1, max: 45 }),
        (last, all, start) => {
          // Nothing arrives that was not published.
          const arrivals = all.filter((s) => s <= last);
          const r = run(arrivals, start, last);
          // Model: delivered = distinct arrivals; duplicated = arrivals - distinct;
          // out of order = arrivals of a new number lower than some earlier arrival;
          // lost = numbers in [min(start, lowest arrival), last] never received.
          const seen = new Set<number>();
          let dup = 0;
          let ooo = 0;
          let high = 0;
          for (const s of arrivals) {
            if (seen.has(s)) dup++;
            else {
              if (s < high) ooo++;
              seen.add(s);
            }
            if (s > high) high = s;
          }
          const from = Math.min(start, ...arrivals);
          let lost = 0;
          for (let s = from; s <= last; s++) if (!seen.has(s)) lost++;
          assert.equal(r.delivered, seen.size);
          assert.equal(r.duplicated, dup);
          assert.equal(r.outOfOrder, ooo);
          assert.equal(r.lost, lost);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('firstExpected', () => {
  it('finds the first publication sent at or after the confirmation', () => {
    const sent = [10, 20, 30, 40];
    assert.equal(firstExpected(sent, 4, 5), 1);
    assert.equal(firstExpected(sent, 4, 20), 2);
    assert.equal(firstExpected(sent, 4, 21), 3);
    assert.equal(firstExpected(sent, 4, 41), 5);
    assert.equal(firstExpected(sent, 4, Number.POSITIVE_INFINITY), 5);
    assert.equal(firstExpected([], 0, 1), 1);
  });
});
