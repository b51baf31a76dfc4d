/**
 * A session's subscriptions by channel (V is session.ts's Subscription, a type parameter so that
 * the two files do not import each other), with the Map operations the core uses. Most connections
 * follow one channel, so the first subscription is held in fields and a Map is made only for a
 * second one: a Map with its hash table is a large part of an idle session's heap
 * (docs/BENCHMARKS.md, "Memory per idle connection").
 * Iteration order is not insertion order once entries come and go; nothing relies on it.
 */
export class Subscriptions<V> {
  #key: string | null = null;
  #value: V | null = null;
  #more: Map<string, V> | null = null;

  get size(): number {
    return (this.#key === null ? 0 : 1) + (this.#more === null ? 0 : this.#more.size);
  }

  get(channel: string): V | undefined {
    if (channel === this.#key) return this.#value!;
    return this.#more === null ? undefined : this.#more.get(channel);
  }

  has(channel: string): boolean {
    return channel === this.#key || this.#more?.has(channel) === true;
  }

  set(channel: string, sub: V): this {
    if (channel === this.#key) this.#value = sub;
    else if (this.#more?.has(channel)) this.#more.set(channel, sub);
    else if (this.#key === null) {
      this.#key = channel;
      this.#value = sub;
    } else {
      this.#more ??= new Map();
      this.#more.set(channel, sub);
    }
    return this;
  }

  delete(channel: string): boolean {
    if (channel === this.#key) {
      this.#key = null;
      this.#value = null;
      return true;
    }
    if (this.#more === null || !this.#more.delete(channel)) return false;
    if (this.#more.size === 0) this.#more = null;
    return true;
  }

  clear(): void {
    this.#key = null;
    this.#value = null;
    this.#more = null;
  }

  /** The channels, as a snapshot (safe to change the set while iterating). */
  keys(): IterableIterator<string> {
    const out: string[] = this.#key === null ? [] : [this.#key];
    if (this.#more !== null) for (const k of this.#more.keys()) out.push(k);
    return out[Symbol.iterator]();
  }
}
