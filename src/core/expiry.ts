import type { Session } from './session.js';

/**
 * Sessions whose credentials expire (Session.identity.expiresAt), in buckets of one second, with
 * one unref'd interval for all of them (DESIGN.md: no timer per connection). Not the TimerWheel:
 * a WebSocket session is already in the server's wheel for its first-message and idle deadlines,
 * and an item is in one wheel once; a second wheel would need a second record on every session.
 * Here the bucket is computed from the identity the session holds, so a session costs no field:
 * add() after setting the identity, remove() before replacing it (refresh) and when it closes.
 *
 * Contract: `expired(session)` is called once, within about one second after its expiresAt,
 * unless it was removed first or its identity no longer is due then. Identities that never expire
 * (expiresAt 0) are not held.
 */
export class ExpiryIndex<S extends Session> {
  readonly #buckets = new Map<number, Set<S>>();
  readonly #expired: (session: S) => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  /** The first second not swept yet. */
  #next: number;
  #count = 0;

  constructor(expired: (session: S) => void, now: () => number = Date.now) {
    this.#expired = expired;
    this.#now = now;
    this.#next = Math.floor(now() / 1000);
  }

  add(session: S): void {
    const at = session.identity?.expiresAt ?? 0;
    if (at === 0) return;
    // Never into a second already swept: an identity that expired meanwhile goes in the next.
    const key = Math.max(Math.ceil(at / 1000), this.#next);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new Set();
      this.#buckets.set(key, bucket);
    }
    if (bucket.has(session)) return;
    bucket.add(session);
    this.#count++;
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.sweep(), 1000);
      this.#timer.unref();
    }
  }

  remove(session: S): void {
    const at = session.identity?.expiresAt ?? 0;
    if (at === 0) return;
    const key = Math.max(Math.ceil(at / 1000), this.#next);
    const bucket = this.#buckets.get(key);
    if (bucket === undefined || !bucket.delete(session)) return;
    this.#count--;
    if (bucket.size === 0) this.#buckets.delete(key);
  }

  /** Sessions held now. */
  get size(): number {
    return this.#count;
  }

  /** Calls expired() for every session due by now; run by the interval (public for tests). */
  sweep(): void {
    const now = Math.floor(this.#now() / 1000);
    while (this.#next <= now) {
      const key = this.#next++;
      const bucket = this.#buckets.get(key);
      if (bucket === undefined) continue;
      this.#buckets.delete(key);
      this.#count -= bucket.size;
      const nowMs = this.#now();
      for (const s of bucket) {
        // A session refreshed without remove() finding it (added already expired, so filed
        // under a later second) is in its new bucket too: only a due identity expires.
        const at = s.identity?.expiresAt ?? 0;
        if (at !== 0 && at <= nowMs) this.#expired(s);
      }
    }
    if (this.#count === 0) this.stop();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
