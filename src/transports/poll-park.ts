import { Session } from '../core/session.js';
import type { PollRequest } from './poll-request.js';

/**
 * A long-poll session that can park (PollSession extends it): when an answer leaves the connection open
 * (PollReply.keeps), the session stays subscribed instead of ending, collecting what is
 * published, until the client's next poll on that connection. A next poll for the same channels
 * from exactly the cursor just answered is served by the same session (PollSession.resume):
 * nothing to subscribe, no history to read, no new objects that live for the hold. Anything else
 * (other channels, another cursor, no next poll within the poll time-out, the connection
 * closing, the server draining) ends the parked session, and a new poll starts afresh from its
 * cursor. Without parking, idle long-polls made sessions at the rate of their holds that lived
 * long enough to reach V8's old generation and stayed there as garbage (docs/BENCHMARKS.md,
 * "Issue 4 (session 3): long-polls park between polls").
 *
 * This holds what decides whether a request continues the session: the cursor it was parked at,
 * and how the client spells its poll, so that the usual next poll is recognised by its target
 * alone, without parsing its query (resumesTarget). A base class rather than an object of its
 * own: one more object per held poll would be memory per idle connection.
 */
export abstract class ParkingSession extends Session {
  /** The channels followed, in the order of the cursor's positions. */
  abstract readonly channels: string[];
  /** While parked: the cursor of the last answer (a resuming poll must bring exactly it). */
  #at: string | null = null;
  /** How this client spells its poll: its target before and after the cursor (spelledAs). */
  #prefix: string | null = null;
  #suffix = '';
  /** While parked: the one target that resumes without parsing its query (null: parse it). */
  #target: string | null = null;

  /** True while the session waits for the next poll on its connection. */
  get parked(): boolean {
    return this.#at !== null;
  }

  /** The session answered with `cursor` and stays for the next poll. */
  protected park(cursor: string): void {
    this.#at = cursor;
    this.#target = this.#prefix === null ? null : this.#prefix + cursor + this.#suffix;
  }

  /** The next poll came and continues the session. */
  protected unpark(): void {
    this.#at = null;
    this.#target = null;
  }

  /**
   * Whether `request` continues this parked session: its cursor is the one just answered and its
   * channels (repeats ignored, as parsePollRequest reads them) are this session's, in the same
   * order (the cursor's positions are read in that order).
   */
  resumes(request: PollRequest): boolean {
    if (this.closed || this.#at === null || request.cursor !== this.#at) return false;
    const channels = this.channels;
    const theirs = request.channels;
    if (theirs.length !== channels.length) return false;
    for (let i = 0; i < channels.length; i++) if (theirs[i] !== channels[i]) return false;
    return true;
  }

  /**
   * Whether a poll with this request target continues this parked session without parsing it:
   * it is the target this client sent last time with the cursor just answered in place of the
   * one it brought (spelledAs), so its parameters are the ones resumes() accepted or the session
   * began with. False only means "check the parameters".
   */
  resumesTarget(target: string): boolean {
    return !this.closed && this.#target !== null && target === this.#target;
  }

  /**
   * Remembers the target of a poll this session serves when its one `cursor` parameter holds
   * `cursor` literally and nothing in the query is percent-encoded; otherwise forgets it.
   */
  spelledAs(target: string, cursor: string | null): void {
    this.#prefix = null;
    const q = target.indexOf('?');
    if (cursor === null || q < 0 || target.includes('%') || target.includes('+')) return;
    let at = -1;
    for (let i = target.indexOf('cursor=', q); i >= 0; i = target.indexOf('cursor=', i + 1)) {
      const before = target.charCodeAt(i - 1);
      if (before !== 0x3f && before !== 0x26) continue; // not after '?' or '&'
      if (at >= 0) return; // two cursor parameters
      at = i;
    }
    if (at < 0) return;
    const from = at + 'cursor='.length;
    let to = target.indexOf('&', from);
    if (to < 0) to = target.length;
    if (target.slice(from, to) !== cursor) return;
    this.#prefix = target.slice(0, from);
    this.#suffix = target.slice(to);
  }
}
