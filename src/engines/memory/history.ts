import { newEpoch } from '../../core/positions.js';
import type { HistoryReadOptions, HistoryResult, Publication } from '../types.js';

export interface HistoryLimits {
  /** Publications kept per channel. */
  size: number;
  /** Milliseconds a publication is kept. */
  ttlMs: number;
  /** Milliseconds a channel's epoch and offset are kept after its last publication. */
  metaTtlMs: number;
}

/** One channel's stream: a ring buffer of its newest publications. */
class Stream {
  readonly epoch: string;
  offset = 0;
  lastTouch: number;
  readonly ring: (Publication | undefined)[];
  /** Index of the oldest kept publication and how many are kept. */
  head = 0;
  count = 0;

  constructor(size: number, now: number) {
    this.epoch = newEpoch();
    this.lastTouch = now;
    this.ring = new Array<Publication | undefined>(size);
  }

  append(pub: Publication): void {
    const size = this.ring.length;
    if (size === 0) return;
    if (this.count < size) {
      this.ring[(this.head + this.count) % size] = pub;
      this.count++;
    } else {
      this.ring[this.head] = pub;
      this.head = (this.head + 1) % size;
    }
  }

  at(i: number): Publication {
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  dropOlderThan(cutoff: number): void {
    while (this.count > 0 && this.at(0).time < cutoff) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
    }
  }
}

/**
 * In-process bounded history: per channel an epoch, the newest offset and a ring of the last
 * `size` publications younger than `ttlMs`. A channel's epoch is kept for `metaTtlMs` after its
 * last use; when it goes, a later publication starts a new epoch, so a client holding an old
 * position is told `recovered: false` rather than handed unrelated offsets.
 */
export class MemoryHistory {
  readonly #streams = new Map<string, Stream>();
  readonly #limits: HistoryLimits;

  constructor(limits: HistoryLimits) {
    this.#limits = limits;
  }

  #stream(channel: string, now: number): Stream {
    let s = this.#streams.get(channel);
    if (s === undefined) {
      s = new Stream(this.#limits.size, now);
      this.#streams.set(channel, s);
    }
    return s;
  }

  /** Assigns the next offset and keeps the publication. */
  append(channel: string, data: string, now: number): Publication {
    const s = this.#stream(channel, now);
    s.offset++;
    s.lastTouch = now;
    const pub: Publication = { channel, epoch: s.epoch, offset: s.offset, data, time: now };
    s.append(pub);
    return pub;
  }

  read(channel: string, opts: HistoryReadOptions, now: number): HistoryResult {
    const s = this.#stream(channel, now);
    s.lastTouch = now;
    s.dropOlderThan(now - this.#limits.ttlMs);
    const publications: Publication[] = [];
    const since = opts.since;
    if (since !== undefined && since.epoch === s.epoch && since.offset < s.offset && opts.limit > 0) {
      // Offsets in the ring are consecutive: find the first one after since.offset directly.
      const first = s.count > 0 ? s.at(0).offset : s.offset + 1;
      const start = Math.max(0, since.offset + 1 - first);
      const end = Math.min(s.count, start + opts.limit);
      for (let i = start; i < end; i++) publications.push(s.at(i));
    }
    return { epoch: s.epoch, offset: s.offset, publications };
  }

  /** Drops expired publications and forgets channels unused for metaTtlMs. */
  sweep(now: number): void {
    const cutoff = now - this.#limits.ttlMs;
    const metaCutoff = now - this.#limits.metaTtlMs;
    for (const [channel, s] of this.#streams) {
      s.dropOlderThan(cutoff);
      if (s.count === 0 && s.lastTouch < metaCutoff) this.#streams.delete(channel);
    }
  }

  get channelCount(): number {
    return this.#streams.size;
  }

  /** Ring slots allocated over every channel (what history holds room for). */
  get slotCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.ring.length;
    return n;
  }
}
