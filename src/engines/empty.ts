import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '../contract/stream.js';

/**
 * Positions of channels that have no publication (never published, or forgotten after
 * `metaTtl`). An engine keeps no state for such a channel when it is only read: a reader is
 * given (emptyEpoch, 0), an epoch that says which history answered (`tag`, one per history
 * store: lost with it) and when (`time`, the store's clock). The channel's first publication
 * starts an epoch of its own and records when it was born. A later read `since`
 * (empty epoch, n) is read as (that epoch, n) when the epoch was born at or after the empty
 * answer and sooner than `metaTtl` after it: an epoch lives at least `metaTtl` once born, so no
 * other epoch can have come and gone between the two, and the offsets the reader got since (a
 * WebSocket client keeps the epoch of its subscribe reply and the offsets pushed after it) are
 * this epoch's. Otherwise the position is not continued and the client is told
 * `recovered: false`.
 *
 * Text form: `z`, the 6-character tag, the time in base 36. Epochs from newEpoch() have 8
 * characters, so the two never collide.
 */
const EMPTY = /^z([0-9a-z]{6})([0-9a-z]{8,10})$/;

/** A new tag for a history store (lost with it, so positions of an earlier store never match). */
export function newTag(): string {
  const n = randomBytes(4).readUInt32BE(0) % 36 ** 6;
  return n.toString(36).padStart(6, '0');
}

/** The epoch given to a reader of a channel without publications, at `time` (ms). */
export function emptyEpoch(tag: string, time: number): string {
  return `z${tag}${Math.max(0, Math.floor(time)).toString(36).padStart(8, '0')}`;
}

/** When a store with `tag` gave out `epoch` as an empty channel's; null when it did not. */
export function emptyTime(epoch: string, tag: string): number | null {
  const m = EMPTY.exec(epoch);
  if (m === null || m[1] !== tag) return null;
  const t = Number.parseInt(m[2]!, 36);
  return Number.isSafeInteger(t) ? t : null;
}

/**
 * True when `since` is an empty position of this store, or one of offsets received after it, that
 * an epoch born at `born` continues (see the module comment): `since` then reads as
 * (that epoch, since.offset).
 */
export function continues(since: StreamPosition, tag: string, born: number, metaTtlMs: number): boolean {
  const t = emptyTime(since.epoch, tag);
  return t !== null && born >= t && born - t < metaTtlMs;
}

/**
 * The position to answer for a channel without publications at `now`: `since` itself when it is
 * an empty position of this store that nothing can have been published after (so a client that
 * comes back keeps its position), else a new empty position.
 */
export function emptyPosition(
  since: StreamPosition | undefined,
  tag: string,
  now: number,
  metaTtlMs: number,
): StreamPosition {
  if (since !== undefined && since.offset === 0) {
    const t = emptyTime(since.epoch, tag);
    if (t !== null && t <= now && now - t < metaTtlMs) return { epoch: since.epoch, offset: 0 };
  }
  return { epoch: emptyEpoch(tag, now), offset: 0 };
}

/** True for any store's empty-channel epoch (the position of a channel before its first publication). */
export function isEmptyEpoch(epoch: string): boolean {
  return EMPTY.test(epoch);
}
