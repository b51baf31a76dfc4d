/**
 * Visits every member of a live Set about once per period, spread evenly over the period
 * instead of all at once (WebSocket pings, SSE heartbeats). A sweep of all ~14,000 sockets of a
 * worker at one instant costs as much as a broadcast to all of them (and, for pings, the pongs
 * that follow); at 100,000 connections such bursts every 25 s fall on top of broadcasts.
 * Spread, the same work is about size × tick / period visits per tick.
 *
 * Contract: one cursor walks the Set in insertion order at `size / period` members per unit of
 * time (fractions carry over between ticks, so a set of one is visited once per period, not once
 * per tick); at the end of the Set it starts again from the beginning. A member present
 * throughout is visited once per pass, about one period apart; a new member (added at the end)
 * is first visited within about one period; a deleted member is not visited again. No tick
 * visits a member twice. One unref'd interval; no timer per member.
 */
export class PacedSweep<T> {
  readonly #set: Set<T>;
  readonly #periodMs: number;
  readonly #tickMs: number;
  readonly #visit: (item: T) => void;
  #timer: NodeJS.Timeout | null = null;
  #iter: Iterator<T> | null = null;
  #credit = 0;

  constructor(set: Set<T>, periodMs: number, visit: (item: T) => void, tickMs = 250) {
    this.#set = set;
    this.#periodMs = periodMs;
    this.#tickMs = Math.min(tickMs, periodMs);
    this.#visit = visit;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One step (one tick's share); public for tests, which drive it themselves. */
  tick(): void {
    const size = this.#set.size;
    this.#credit += (size * this.#tickMs) / this.#periodMs;
    let n = Math.min(Math.floor(this.#credit), size);
    this.#credit -= n;
    let restarted = false;
    while (n > 0) {
      if (this.#iter === null) {
        if (restarted) break; // the whole Set in one tick: no member twice
        this.#iter = this.#set.values();
        restarted = true;
      }
      const next = this.#iter.next();
      if (next.done === true) {
        this.#iter = null; // a finished Set iterator stays finished: begin a new pass
        continue;
      }
      n--;
      this.#visit(next.value);
    }
  }
}
