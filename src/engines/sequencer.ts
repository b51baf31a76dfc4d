import type { Publication, StreamPosition } from '../contract/stream.js';
import { isEmptyEpoch } from './empty.js';
import type { HistoryResult, PublicationHandler } from './types.js';

/** Reads a channel's history after a position (an engine's HistoryStore.read, bound). */
export type GapReader = (channel: string, since: StreamPosition, limit: number) => Promise<HistoryResult>;

/** Most publications fetched to close one gap; past that the core's own refill takes over. */
const FILL_LIMIT = 10_000;

class ChannelState {
  epoch = '';
  offset = 0;
  /** Live publications held while a gap is being filled from history; null when live. */
  held: Publication[] | null = null;
}

/**
 * Turns what a broker delivers into what PubSub.start's handler promises (engines/types.ts):
 * each publication of a subscribed channel once, in offset order. It drops duplicates and, for
 * engines with history, fills gaps from it: publications that a broker delivered out of order
 * (NATS: several publishers), or that passed while the broker connection was down (`resync`).
 * Without history it passes gaps through, and the client learns of them from the offsets.
 */
export class Sequencer {
  readonly #deliver: PublicationHandler;
  readonly #read: GapReader | null;
  readonly #channels = new Map<string, ChannelState>();

  constructor(deliver: PublicationHandler, read: GapReader | null) {
    this.#deliver = deliver;
    this.#read = read;
  }

  /**
   * Starts passing publications of `channel`, holding them until `position` (the channel's
   * newest position read after the broker subscription was acknowledged) is set.
   */
  track(channel: string): void {
    if (this.#channels.has(channel)) return;
    const st = new ChannelState();
    st.held = [];
    this.#channels.set(channel, st);
  }

  /** Sets where delivery starts and releases what arrived meanwhile (newer than `pos` only). */
  position(channel: string, pos: StreamPosition | null): void {
    const st = this.#channels.get(channel);
    if (st === undefined || st.held === null) return;
    if (pos !== null) {
      st.epoch = pos.epoch;
      st.offset = pos.offset;
    }
    this.#release(channel, st, false);
  }

  untrack(channel: string): void {
    this.#channels.delete(channel);
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  get channels(): IterableIterator<string> {
    return this.#channels.keys();
  }

  push(pub: Publication): void {
    const st = this.#channels.get(pub.channel);
    if (st === undefined) return;
    if (st.held !== null) {
      st.held.push(pub);
      return;
    }
    this.#accept(pub.channel, st, pub, false);
  }

  /** After a broker reconnection: fetch whatever every channel missed meanwhile. */
  resync(): void {
    if (this.#read === null) return;
    for (const [channel, st] of this.#channels) {
      if (st.held !== null || st.epoch === '') continue;
      st.held = [];
      void this.#fill(channel, st);
    }
  }

  #accept(channel: string, st: ChannelState, pub: Publication, noFill: boolean): void {
    if (pub.epoch !== st.epoch && st.offset === 0 && isEmptyEpoch(st.epoch)) {
      // Read before the channel's first publication: whatever comes is of the epoch it began,
      // from offset 1 on (engines/empty.ts); a gap before `pub` is filled like any other.
      st.epoch = pub.epoch;
    }
    if (pub.epoch === st.epoch) {
      if (pub.offset <= st.offset) return;
      if (pub.offset > st.offset + 1 && !noFill && this.#read !== null) {
        st.held = [pub];
        void this.#fill(channel, st);
        return;
      }
    }
    st.epoch = pub.epoch;
    st.offset = pub.offset;
    this.#deliver(pub);
  }

  async #fill(channel: string, st: ChannelState): Promise<void> {
    let complete = false;
    try {
      const since = { epoch: st.epoch, offset: st.offset };
      const res = await this.#read!(channel, since, FILL_LIMIT);
      if (this.#channels.get(channel) !== st) return;
      const pubs = res.publications;
      const from = res.from ?? since;
      complete =
        res.epoch === from.epoch &&
        (res.offset <= from.offset || (pubs.length > 0 && pubs[0]!.offset === from.offset + 1));
      if (complete) {
        st.epoch = from.epoch;
        st.offset = from.offset;
        for (const p of pubs) {
          if (p.offset > st.offset) {
            st.offset = p.offset;
            this.#deliver(p);
          }
        }
      }
    } catch {
      // The broker is unreachable again: what is held is passed on; the core's refill decides.
    }
    if (this.#channels.get(channel) === st) this.#release(channel, st, !complete);
  }

  /** Passes held publications on in offset order; `noFill` when history cannot close a gap. */
  #release(channel: string, st: ChannelState, noFill: boolean): void {
    const held = st.held ?? [];
    st.held = null;
    held.sort((a, b) => (a.epoch === b.epoch ? a.offset - b.offset : 0));
    for (const pub of held) {
      // #accept may start a fill, which holds again: the rest then waits behind it.
      const again = st.held as Publication[] | null;
      if (again !== null) again.push(pub);
      else this.#accept(channel, st, pub, noFill);
    }
  }
}
