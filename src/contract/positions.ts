import type { StreamPosition } from './stream.js';

/**
 * A stream cursor: the positions of an ordered list of channels, as used by SSE event ids
 * (`Last-Event-ID`) and long-poll cursors. Text form: `epoch-offset` per channel, in the order
 * the channels were requested, joined by `.`; URL-safe and free of channel names.
 * Example: `k3j9x2ab-42.p0q8w1zz-7`.
 */
const POSITION = /^([a-z0-9]{1,32})-(\d{1,15})$/;

export function formatCursor(positions: readonly StreamPosition[]): string {
  let out = '';
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    out += (i === 0 ? '' : '.') + p.epoch + '-' + p.offset;
  }
  return out;
}

/** Parses a cursor for `count` channels; null when it is malformed or for another channel list. */
export function parseCursor(text: string, count: number): StreamPosition[] | null {
  if (text.length === 0 || text.length > count * 50) return null;
  const parts = text.split('.');
  if (parts.length !== count) return null;
  const out: StreamPosition[] = [];
  for (const part of parts) {
    const m = POSITION.exec(part);
    if (!m) return null;
    const offset = Number(m[2]);
    if (!Number.isSafeInteger(offset)) return null;
    out.push({ epoch: m[1]!, offset });
  }
  return out;
}

/** Epochs are short lowercase base-36 strings so that cursors stay compact. */
export function newEpoch(): string {
  const n = Math.floor(Math.random() * 36 ** 8);
  return n.toString(36).padStart(8, '0');
}
