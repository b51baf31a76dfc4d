/**
 * One coarse timer for many deadlines (DESIGN.md: no timer per connection). Deadlines are
 * rounded up to the wheel's resolution and fire from a single unref'd interval.
 */
export interface Expirable {
  /** Called once when its deadline passes, unless cancelled first. */
  expire(): void;
}

export class TimerWheel {
  readonly #resolution: number;
  readonly #slots = new Map<number, Set<Expirable>>();
  readonly #slotOf = new Map<Expirable, number>();
  #timer: NodeJS.Timeout | null = null;
  #lastTick: number;

  constructor(resolutionMs: number) {
    this.#resolution = resolutionMs;
    this.#lastTick = Math.floor(Date.now() / resolutionMs);
  }

  schedule(item: Expirable, delayMs: number): void {
    this.cancel(item);
    const tick = Math.ceil((Date.now() + delayMs) / this.#resolution);
    let slot = this.#slots.get(tick);
    if (slot === undefined) {
      slot = new Set();
      this.#slots.set(tick, slot);
    }
    slot.add(item);
    this.#slotOf.set(item, tick);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), this.#resolution);
      this.#timer.unref();
    }
  }

  cancel(item: Expirable): void {
    const tick = this.#slotOf.get(item);
    if (tick === undefined) return;
    this.#slotOf.delete(item);
    const slot = this.#slots.get(tick);
    slot?.delete(item);
    if (slot !== undefined && slot.size === 0) this.#slots.delete(tick);
  }

  get size(): number {
    return this.#slotOf.size;
  }

  #tick(): void {
    const now = Math.floor(Date.now() / this.#resolution);
    for (let t = this.#lastTick; t <= now; t++) {
      const slot = this.#slots.get(t);
      if (slot === undefined) continue;
      this.#slots.delete(t);
      for (const item of slot) {
        this.#slotOf.delete(item);
        item.expire();
      }
    }
    this.#lastTick = now + 1;
    if (this.#slotOf.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#slots.clear();
    this.#slotOf.clear();
  }
}
