import { randomBytes } from 'node:crypto';
import type { Namespaces } from '../config/namespaces.js';
import { HoldfastError } from '../contract/codes.js';
import type { PresenceCount, PresenceEvent, PresenceMember, PresenceStore } from '../engines/types.js';
import { EncodedPresence, PresenceBatch } from './encode.js';
import type { Session, Subscription } from './session.js';
import type { NodeStats } from './stats.js';

/**
 * The Node's side of presence (docs/AUTH.md "Presence"): a session with an identity joins a
 * channel's presence once its subscription is complete, in namespaces with `presence: true`, and
 * leaves when it unsubscribes or closes; join and leave events from the store reach the local
 * followers of channels whose namespace has `joinLeave`, each event encoded once for all of them.
 * The joining session follows the channel before its join is sent, so it gets its own join too
 * (as in Centrifugo); it has left the channel's followers before its leave, so not its leave.
 * Events of a channel go out together (PresenceBatch), in their order, to the sessions following
 * the channel then: on the next turn when the last delivery is PRESENCE_FLUSH_MS old, else when
 * it is. A quiet channel's join reaches its followers at once; a storm (every member of a big
 * channel connecting together) costs each follower a write per PRESENCE_FLUSH_MS, not per event.
 */
export const PRESENCE_FLUSH_MS = 100;

export class NodePresence {
  readonly #store: PresenceStore | null;
  readonly #namespaces: Namespaces | null;
  readonly #stats: NodeStats;
  readonly #followersOf: (channel: string) => ReadonlySet<Session> | undefined;
  /** Events waiting for the next delivery, by channel (in arrival order). */
  #pending = new Map<string, PresenceBatch>();
  /** When the last delivery ran (ms, monotonic clock). */
  #lastFlush = 0;
  /** Client ids are this process's random prefix and a counter: unique over every process. */
  readonly #prefix = randomBytes(9).toString('base64url');
  #next = 0;
  /**
   * Member reads in flight, by channel: a read asked for while one is in flight shares it. Each
   * read is O(members) at the store (IPC to the primary, HVALS, a KV watch) and any follower may
   * ask for it every frame; shared, a channel costs one read at a time per process.
   */
  readonly #reading = new Map<string, Promise<PresenceMember[]>>();

  /** `followersOf`: the local sessions following a channel (the Node's channel index). */
  constructor(
    store: PresenceStore | null,
    namespaces: Namespaces | null,
    stats: NodeStats,
    followersOf: (channel: string) => ReadonlySet<Session> | undefined,
  ) {
    this.#store = store;
    this.#namespaces = namespaces;
    this.#stats = stats;
    this.#followersOf = followersOf;
  }

  /** Whether `channel`'s namespace keeps presence (and the engine can). */
  enabled(channel: string): boolean {
    return this.#store !== null && this.#namespaces?.of(channel)?.presence === true;
  }

  /** A subscription is complete: make the session a member when it has an identity. */
  subscribed(session: Session, channel: string, sub: Subscription): void {
    const identity = session.identity;
    if (identity === null || !session.joinsPresence || !this.enabled(channel)) return;
    sub.joined = true;
    if (session.presenceId === null) session.presenceId = this.#prefix + (this.#next++).toString(36);
    const member: PresenceMember = { client: session.presenceId, user: identity.user };
    if (identity.info !== undefined) member.info = identity.info;
    this.#store!.join(channel, member).catch(() => this.#stats.presenceErrors++);
  }

  /** The session stopped following the channel (unsubscribe, close). */
  unsubscribed(session: Session, channel: string, sub: Subscription): void {
    if (!sub.joined) return;
    sub.joined = false;
    this.#store!.leave(channel, session.presenceId!).catch(() => this.#stats.presenceErrors++);
  }

  /** An event from the store, for the channel's local followers (none: nothing to do). */
  event(ev: PresenceEvent): void {
    if (this.#followersOf(ev.channel) === undefined) return;
    if (this.#namespaces?.of(ev.channel)?.joinLeave !== true) return;
    if (this.#pending.size === 0) {
      const wait = this.#lastFlush + PRESENCE_FLUSH_MS - performance.now();
      if (wait <= 0) setImmediate(flushPresence, this);
      else setTimeout(flushPresence, wait, this);
    }
    let batch = this.#pending.get(ev.channel);
    if (batch === undefined) {
      batch = new PresenceBatch(ev.channel);
      this.#pending.set(ev.channel, batch);
    }
    batch.events.push(new EncodedPresence(ev));
  }

  /** Channels with events waiting for delivery (tests wait for 0). */
  get waiting(): number {
    return this.#pending.size;
  }

  /** Delivers the events waiting. */
  flush(): void {
    this.#lastFlush = performance.now();
    const pending = this.#pending;
    this.#pending = new Map();
    for (const batch of pending.values()) {
      const followers = this.#followersOf(batch.channel);
      if (followers !== undefined) for (const s of followers) s.deliverPresence(batch);
    }
  }

  /**
   * Every member of the channel; `presence_disabled` where its namespace keeps none. Callers
   * asking while a read of the channel is in flight get its answer (the same array: not to be
   * changed).
   */
  async members(channel: string): Promise<PresenceMember[]> {
    const store = this.#check(channel);
    let read = this.#reading.get(channel);
    if (read === undefined) {
      const p = store.members(channel);
      read = p;
      this.#reading.set(channel, p);
      const done = (): void => {
        if (this.#reading.get(channel) === p) this.#reading.delete(channel);
      };
      p.then(done, done);
    }
    return read;
  }

  async stats(channel: string): Promise<{ clients: number; users: number }> {
    return this.#check(channel).stats(channel);
  }

  /** The channels with the most members (PresenceStore.busiest); [] without presence. */
  busiest(limit: number): Promise<PresenceCount[]> {
    return this.#store === null ? Promise.resolve([]) : this.#store.busiest(limit);
  }

  #check(channel: string): PresenceStore {
    if (!this.enabled(channel)) throw new HoldfastError('presence_disabled');
    return this.#store!;
  }
}

function flushPresence(p: NodePresence): void {
  p.flush();
}
