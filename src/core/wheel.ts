/**
 * One coarse timer for many deadlines (DESIGN.md: no timer per connection). Deadlines are
 * rounded up to the wheel's resolution and fire from a single unref'd interval.
 *
 * Each item carries its own due tick (`wheelTick`), and a slot is a plain array: scheduling
 * appends, cancelling only clears the item's tick, and a slot's entries whose item is no longer
 * due at that tick are skipped when it fires (lazy deletion). A long-poll answered and renewed
 * reschedules its session twice per poll; with a Map of item to tick and a Set per slot that
 * bookkeeping stood out in a worker's profile under long-polls (docs/BENCHMARKS.md, "Long-poll,
 * 15,000 clients, one worker"). A rescheduled item leaves its old entry behind until that slot
 * fires: at most one entry per reschedule within a deadline's span.
 */
export interface Expirable {
  /** Called once when its deadline passes, unless cancelled or rescheduled first. */
  expire(): void;
  /** The wheel's own record: the tick the item is due at, 0 when not scheduled. Only TimerWheel writes it. */
  wheelTick: number;
}

export class TimerWheel {
  readonly #resolution: number;
  readonly #slots = new Map<number, Expirable[]>();
  /** Items scheduled now (not the stale entries). */
  #count = 0;
  #timer: NodeJS.Timeout | null = null;
  /** The first tick not yet fired. */
  #nextTick: number;

  constructor(resolutionMs: number) {
    this.#resolution = resolutionMs;
    this.#nextTick = Math.floor(Date.now() / resolutionMs);
  }

  /** (Re)schedules `item` to expire after `delayMs`, replacing any deadline it had. */
  schedule(item: Expirable, delayMs: number): void {
    // Never into a tick already fired (an item rescheduled from its own expire()).
    const tick = Math.max(Math.ceil((Date.now() + delayMs) / this.#resolution), this.#nextTick);
    if (item.wheelTick === tick) return;
    if (item.wheelTick === 0) this.#count++;
    item.wheelTick = tick;
    let slot = this.#slots.get(tick);
    if (slot === undefined) {
      slot = [];
      this.#slots.set(tick, slot);
    }
    slot.push(item);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), this.#resolution);
      this.#timer.unref();
    }
  }

  cancel(item: Expirable): void {
    if (item.wheelTick === 0) return;
    item.wheelTick = 0;
    this.#count--;
  }

  /** Items scheduled now. */
  get size(): number {
    return this.#count;
  }

  #tick(): void {
    const now = Math.floor(Date.now() / this.#resolution);
    while (this.#nextTick <= now) {
      const t = this.#nextTick++;
      const slot = this.#slots.get(t);
      if (slot === undefined) continue;
      this.#slots.delete(t);
      for (const item of slot) {
        if (item.wheelTick !== t) continue; // cancelled, rescheduled, or already fired
        item.wheelTick = 0;
        this.#count--;
        item.expire();
      }
    }
    if (this.#count === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
      // Only stale entries can be left: drop them.
      this.#slots.clear();
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const slot of this.#slots.values()) for (const item of slot) item.wheelTick = 0;
    this.#slots.clear();
    this.#count = 0;
  }
}
