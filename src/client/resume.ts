/** A place in a channel's stream (src/contract/stream.ts StreamPosition, restated: no server import). */
export interface Position {
  epoch: string;
  offset: number;
}

/**
 * A cursor position that matches no channel (epochs have 8 base-36 characters, an empty
 * channel's 15 beginning with `z`; src/contract/positions.ts, engines/empty.ts): a channel
 * whose position is unknown is put in SSE and long-poll cursors with it, so the server answers
 * it with `recovered: false` and its current position, and it starts from now.
 */
export const UNKNOWN: Position = { epoch: '0', offset: 0 };

/** What a subscribe reply means for the application. */
export type Subscribed = 'fresh' | 'recovered' | 'failed';

/**
 * Per channel, the (epoch, offset) of the last message delivered to the application: the one
 * source of every resume (WebSocket `since`, SSE `lastEventId`, long-poll `cursor`), whatever
 * transport carried the messages before. Offsets at or below it are duplicates.
 */
export class ResumeState {
  readonly #positions = new Map<string, Position>();

  /** The position to resume `channel` from, or undefined when nothing of it was received yet. */
  since(channel: string): Position | undefined {
    const p = this.#positions.get(channel);
    return p === undefined ? undefined : { epoch: p.epoch, offset: p.offset };
  }

  /**
   * The server's subscribe reply (or SSE `subscribed` event, or long-poll reset): the channel
   * continues from there. `recovered` false after a resume means messages were lost.
   */
  subscribed(channel: string, epoch: string, offset: number, recovered: boolean | undefined): Subscribed {
    const known = this.#positions.get(channel);
    if (known !== undefined && recovered === true) {
      // The same stream: a position taken before the channel's first publication (an empty
      // channel's epoch, engines/empty.ts) continues in the epoch that publication started.
      known.epoch = epoch;
      return 'recovered';
    }
    if (epoch !== '') this.#positions.set(channel, { epoch, offset });
    return known === undefined ? 'fresh' : 'failed';
  }

  /** A message: true when it is new (and is now the last delivered), false for a duplicate. */
  accept(channel: string, offset: number): boolean {
    const p = this.#positions.get(channel);
    if (p === undefined) return false;
    if (offset <= p.offset) return false;
    p.offset = offset;
    return true;
  }

  /** A position the server reports (a long-poll answer's cursor): kept when it is at or past ours. */
  advance(channel: string, epoch: string, offset: number): void {
    const p = this.#positions.get(channel);
    if (p === undefined || p.epoch !== epoch || offset > p.offset)
      this.#positions.set(channel, { epoch, offset });
  }

  forget(channel: string): void {
    this.#positions.delete(channel);
  }

  /** The SSE/long-poll cursor of `channels` (src/contract/positions.ts's form: `epoch-offset` joined by `.`). */
  cursor(channels: readonly string[]): string {
    let out = '';
    for (let i = 0; i < channels.length; i++) {
      const p = this.#positions.get(channels[i]!) ?? UNKNOWN;
      out += (i === 0 ? '' : '.') + (p.epoch === '' ? UNKNOWN.epoch : p.epoch) + '-' + p.offset;
    }
    return out;
  }
}

/** The positions of a cursor for `count` channels, or null when it is not one. */
export function parseCursor(text: string, count: number): Position[] | null {
  const parts = text.split('.');
  if (parts.length !== count) return null;
  const out: Position[] = [];
  for (const part of parts) {
    const m = /^([a-z0-9]{1,32})-(\d{1,15})$/.exec(part);
    if (m === null) return null;
    out.push({ epoch: m[1]!, offset: Number(m[2]) });
  }
  return out;
}
