/**
 * The message checker: counts, per subscription, what was delivered, duplicated and out of
 * order, and at the end what was lost. Pure: no sockets, no clocks; tested with synthetic
 * sequences.
 *
 * Every publication on a channel carries a sequence number 1, 2, 3, ... A subscription is one
 * (client, channel) pair, numbered 0..n-1 by its owner. Counters live in typed arrays, so a
 * subscription costs a few dozen bytes and no object; only a subscription with gaps gets a
 * Set of the sequence numbers still missing.
 *
 * Rules for a received sequence number s:
 *   - the first one received starts the window [first, highest];
 *   - s = highest + 1: in order;
 *   - s > highest + 1: the numbers in between are missing (for now);
 *   - s missing, or below `first`: it arrived late, counted out of order, and delivered;
 *   - anything else already arrived: duplicate (not counted as delivered again).
 * At the end (finalize) the numbers the subscription should have had, from its start to the
 * channel's last publication, that never arrived are lost. Publications that failed at the
 * publisher are not expected, but count as delivered if they arrive anyway.
 * Invariant: expected = delivered + lost.
 */
export class Checker {
  readonly size: number;
  readonly first: Float64Array;
  readonly highest: Float64Array;
  readonly delivered: Uint32Array;
  readonly duplicated: Uint32Array;
  readonly outOfOrder: Uint32Array;
  /** Missing sequence numbers inside [first, highest], only for subscriptions with gaps. */
  readonly missing = new Map<number, Set<number>>();
  /** Sequence numbers that arrived after a higher one, per subscription (rare: kept to explain). */
  readonly late = new Map<number, number[]>();

  constructor(size: number) {
    this.size = size;
    this.first = new Float64Array(size);
    this.highest = new Float64Array(size);
    this.delivered = new Uint32Array(size);
    this.duplicated = new Uint32Array(size);
    this.outOfOrder = new Uint32Array(size);
  }

  /** Records the arrival of sequence number `seq` (>= 1) on subscription `sub`. */
  receive(sub: number, seq: number): void {
    const high = this.highest[sub]!;
    if (high === 0) {
      this.first[sub] = seq;
      this.highest[sub] = seq;
      this.delivered[sub]!++;
      return;
    }
    if (seq === high + 1) {
      this.highest[sub] = seq;
      this.delivered[sub]!++;
      return;
    }
    if (seq > high) {
      const gaps = this.#gaps(sub);
      for (let s = high + 1; s < seq; s++) gaps.add(s);
      this.highest[sub] = seq;
      this.delivered[sub]!++;
      return;
    }
    const first = this.first[sub]!;
    if (seq < first) {
      const gaps = this.#gaps(sub);
      for (let s = seq + 1; s < first; s++) gaps.add(s);
      this.first[sub] = seq;
      this.delivered[sub]!++;
      this.#late(sub, seq);
      return;
    }
    const gaps = this.missing.get(sub);
    if (gaps?.delete(seq)) {
      if (gaps.size === 0) this.missing.delete(sub);
      this.delivered[sub]!++;
      this.#late(sub, seq);
      return;
    }
    this.duplicated[sub]!++;
  }

  #late(sub: number, seq: number): void {
    this.outOfOrder[sub]!++;
    const list = this.late.get(sub);
    if (list === undefined) this.late.set(sub, [seq]);
    else list.push(seq);
  }

  /**
   * How many of `sub`'s out-of-order arrivals were publications whose publish request failed
   * (reset or timed out at the bench) yet reached the server: applied late, they got a later
   * offset than the next sequence number, so the server delivered them in its order, not the
   * publisher's. These are the publisher's inversions, not the server's.
   */
  lateAfterFailedPublish(sub: number, failed?: ReadonlySet<number>): number {
    if (failed === undefined) return 0;
    let n = 0;
    for (const seq of this.late.get(sub) ?? []) if (failed.has(seq)) n++;
    return n;
  }

  #gaps(sub: number): Set<number> {
    let gaps = this.missing.get(sub);
    if (gaps === undefined) {
      gaps = new Set();
      this.missing.set(sub, gaps);
    }
    return gaps;
  }

  /**
   * Lost messages of `sub`: those from `start` (the first publication it had to receive; the
   * first received one if that is earlier) to `last` (the channel's last publication) that
   * never arrived, not counting publications in `failed`.
   */
  lost(sub: number, start: number, last: number, failed?: ReadonlySet<number>): number {
    const high = this.highest[sub]!;
    if (high === 0) return countExpected(start, last, failed);
    let lost = 0;
    const first = this.first[sub]!;
    if (start < first) lost += countExpected(start, Math.min(first - 1, last), failed);
    const gaps = this.missing.get(sub);
    if (gaps !== undefined) {
      for (const s of gaps) if (!failed?.has(s)) lost++;
    }
    if (last > high) lost += countExpected(high + 1, last, failed);
    return lost;
  }
}

/** Publications numbered start..last (inclusive) that did not fail. */
function countExpected(start: number, last: number, failed?: ReadonlySet<number>): number {
  if (last < start) return 0;
  let n = last - start + 1;
  if (failed !== undefined && failed.size > 0) {
    for (const s of failed) if (s >= start && s <= last) n--;
  }
  return n;
}

/**
 * The first publication a subscription confirmed at `confirmedAt` had to receive: the first
 * one sent at or after that time (publication i, 1-based, was sent at sentAt[i - 1]). Returns
 * sentAt.length + 1 when none was.
 */
export function firstExpected(sentAt: ArrayLike<number>, count: number, confirmedAt: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sentAt[mid]! < confirmedAt) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}
