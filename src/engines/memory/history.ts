import { newEpoch } from '../../contract/positions.js';
import type { Publication, StreamPosition } from '../../contract/stream.js';
import { continues, emptyPosition, newTag } from '../empty.js';
import { type ChannelLimits, ChannelLimitsTable, type HistoryLimits } from '../limits.js';
import type { HistoryReadOptions, HistoryResult } from '../types.js';

/** Moved to engines/limits.ts (every engine's); still exported here for existing importers. */
export type { HistoryLimits } from '../limits.js';

/** Slots of a ring when its channel is first published; it doubles as needed, up to `size`. */
const FIRST_SLOTS = 4;
const NONE: (Publication | undefined)[] = [];

/** One published channel's stream: a ring buffer of its newest publications. */
class Stream {
  readonly epoch: string;
  /** When the epoch began (its first publication): see engines/empty.ts. */
  readonly born: number;
  /** Its namespace's limits, looked up once: the configuration does not change while running. */
  readonly limits: ChannelLimits;
  offset = 0;
  lastTouch: number;
  /** Grown by append() as publications are kept, given back when all have aged out. */
  ring: (Publication | undefined)[] = NONE;
  /** Index of the oldest kept publication and how many are kept. */
  head = 0;
  count = 0;

  constructor(now: number, limits: ChannelLimits) {
    this.epoch = newEpoch();
    this.born = now;
    this.limits = limits;
    this.lastTouch = now;
  }

  /** Keeps `pub`, dropping the oldest when `limits.size` are kept. */
  append(pub: Publication): void {
    const size = this.limits.size;
    if (size <= 0) return;
    if (this.count === this.ring.length && this.count < size) this.#grow(size);
    const slots = this.ring.length;
    if (this.count < slots) {
      this.ring[(this.head + this.count) % slots] = pub;
      this.count++;
    } else {
      this.ring[this.head] = pub;
      this.head = (this.head + 1) % slots;
    }
  }

  /** Doubles the ring (up to `size`), oldest first from index 0. */
  #grow(size: number): void {
    const ring = new Array<Publication | undefined>(
      Math.min(size, Math.max(FIRST_SLOTS, this.ring.length * 2)),
    );
    for (let i = 0; i < this.count; i++) ring[i] = this.at(i);
    this.ring = ring;
    this.head = 0;
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
    if (this.count === 0 && this.ring !== NONE) {
      this.ring = NONE;
      this.head = 0;
    }
  }
}

/**
 * In-process bounded history: per published channel an epoch, the newest offset and a ring of
 * the last `size` publications younger than `ttlMs`, both those of the channel's namespace
 * (engines/limits.ts). A channel's epoch is kept for `metaTtlMs` after its last use; when it
 * goes, a later publication starts a new epoch, so a client holding an old position is told
 * `recovered: false` rather than handed unrelated offsets. Reading a channel that has no
 * publication keeps nothing (engines/empty.ts).
 */
export class MemoryHistory {
  readonly #streams = new Map<string, Stream>();
  readonly #limits: HistoryLimits;
  readonly #channelLimits: ChannelLimitsTable;
  /** Empty positions given out by this store carry it; a new store (a restart) has another. */
  readonly #tag = newTag();

  constructor(limits: HistoryLimits) {
    this.#limits = limits;
    this.#channelLimits = new ChannelLimitsTable(limits);
  }

  /** Assigns the next offset and keeps the publication. */
  append(channel: string, data: string, now: number): Publication {
    let s = this.#streams.get(channel);
    if (s === undefined) {
      s = new Stream(now, this.#channelLimits.of(channel));
      this.#streams.set(channel, s);
    }
    s.offset++;
    s.lastTouch = now;
    const pub: Publication = { channel, epoch: s.epoch, offset: s.offset, data, time: now };
    s.append(pub);
    return pub;
  }

  read(channel: string, opts: HistoryReadOptions, now: number): HistoryResult {
    const s = this.#streams.get(channel);
    if (s === undefined) {
      const pos = emptyPosition(opts.since, this.#tag, now, this.#limits.metaTtlMs);
      return { epoch: pos.epoch, offset: 0, publications: [] };
    }
    s.lastTouch = now;
    s.dropOlderThan(now - s.limits.ttlMs);
    const result: HistoryResult = { epoch: s.epoch, offset: s.offset, publications: [] };
    let since: StreamPosition | undefined = opts.since;
    if (since !== undefined && continues(since, this.#tag, s.born, this.#limits.metaTtlMs)) {
      since = { epoch: s.epoch, offset: since.offset };
      result.from = since;
    }
    if (since !== undefined && since.epoch === s.epoch && since.offset < s.offset && opts.limit > 0) {
      // Offsets in the ring are consecutive: find the first one after since.offset directly.
      const first = s.count > 0 ? s.at(0).offset : s.offset + 1;
      const start = Math.max(0, since.offset + 1 - first);
      const end = Math.min(s.count, start + opts.limit);
      for (let i = start; i < end; i++) result.publications.push(s.at(i));
    }
    return result;
  }

  /** Drops expired publications and forgets channels unused for metaTtlMs. */
  sweep(now: number): void {
    const metaCutoff = now - this.#limits.metaTtlMs;
    for (const [channel, s] of this.#streams) {
      s.dropOlderThan(now - s.limits.ttlMs);
      if (s.count === 0 && s.lastTouch < metaCutoff) this.#streams.delete(channel);
    }
  }

  /** Channels with an epoch (published ones). */
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
