import type { Namespaces } from '../config/namespaces.js';
import { Disconnects, HoldfastError } from '../contract/codes.js';
import type { Publication, StreamPosition } from '../contract/stream.js';
import type { ControlMessage, Engine, PresenceEvent, PresenceMember } from '../engines/types.js';
import { Encoded } from './encode.js';
import { NodePresence } from './presence.js';
import { type Session, type SessionOwner, Subscription } from './session.js';
import { NodeStats } from './stats.js';
import { UserIndex } from './users.js';

export interface SubscribeResult {
  channel: string;
  epoch: string;
  /** The channel's newest offset when the subscription went live. */
  offset: number;
  /** Only when the client asked to resume: whether everything after its position follows. */
  recovered?: boolean;
}

export interface NodeOptions {
  /** At most this many publications are replayed on one resume; past that, recovered: false. */
  maxRecover: number;
  /** Subscribers one channel may have in this process (0: no cap). */
  maxSubscribersPerChannel?: number;
  /** The configured namespaces (config.namespaceTable): which channels keep presence. */
  namespaces?: Namespaces | null;
  /** A server-side subscribe (control `subscribe`) skips a session that follows this many channels. */
  maxChannelsPerSession?: number;
}

const encode = (p: Publication): Encoded => new Encoded(p);

interface Tip {
  epoch: string;
  offset: number;
  valid: boolean;
}

/**
 * One process's core: the local channel index (Map<channel, Set<Session>>) and the single
 * callback through which every publication arrives from the engine, whatever the engine.
 * Each publication is encoded once (lazily, per wire format) and the same bytes go to every
 * local subscriber. The Node subscribes at the engine only to channels with local subscribers.
 */
export class Node implements SessionOwner {
  readonly engine: Engine;
  readonly stats = new NodeStats();
  readonly #hub = new Map<string, Set<Session>>();
  readonly #engineSubs = new Map<string, Promise<void>>();
  /**
   * The newest (epoch, offset) this process knows of each channel it follows: from live
   * publications (the engine delivers a followed channel's publications in order) and from
   * history reads made while the engine subscription was active. `valid` once a read has
   * anchored it. A subscription whose cursor is the tip (a long-poll coming back for more, a
   * fresh subscribe) needs no history read: the session is already in the channel's set, so
   * whatever comes next reaches it live. At 100,000 clients a broadcast answers every long-poll
   * at once and each came back with two reads of the primary's history over IPC (66,000 per
   * broadcast): the primary fell behind, publishes got 503 and polls timed out.
   */
  readonly #tips = new Map<string, Tip>();
  readonly #opts: NodeOptions;
  /** Presence members and join/leave pushes (core/presence.ts). */
  readonly presence: NodePresence;
  /** Sessions with an identity, by user (the server API's disconnect, subscribe, unsubscribe). */
  readonly #users = new UserIndex<Session>();
  #sessions = 0;

  constructor(engine: Engine, opts: NodeOptions) {
    this.engine = engine;
    this.#opts = opts;
    this.presence = new NodePresence(engine.presence, opts.namespaces ?? null, this.stats, (ch) =>
      this.#hub.get(ch),
    );
  }

  async start(): Promise<void> {
    await this.engine.pubsub.start((pub) => this.#onPublication(pub));
    await this.engine.control?.start((msg) => this.control(msg));
    // Only where a namespace keeps presence: a store may need more of its broker (NATS: JetStream).
    if (this.engine.presence !== null && this.#opts.namespaces?.list().some((n) => n.presence) === true) {
      await this.engine.presence.start((ev) => this.#onPresence(ev));
    }
  }

  #onPresence(ev: PresenceEvent): void {
    this.presence.event(ev);
  }

  #onPublication(pub: Publication): void {
    const set = this.#hub.get(pub.channel);
    if (set === undefined) return;
    const tip = this.#tips.get(pub.channel);
    if (tip === undefined) {
      this.#tips.set(pub.channel, { epoch: pub.epoch, offset: pub.offset, valid: false });
    } else if (tip.epoch !== pub.epoch || pub.offset > tip.offset) {
      tip.epoch = pub.epoch;
      tip.offset = pub.offset;
    }
    const enc = new Encoded(pub);
    this.stats.deliveries += set.size;
    for (const s of set) s.deliver(enc);
    if (this.stats.onFanout !== null) this.stats.onFanout(pub);
  }

  /**
   * Registers a new session; it leaves every channel when it closes. `kind` says whether it is a
   * new long-lived stream (WebSocket, SSE), which the accept rate counts (server/admission.ts),
   * or a long-poll, which it does not.
   */
  attach(session: Session, kind: 'stream' | 'poll' = 'stream'): void {
    this.#sessions++;
    if (kind === 'stream') this.stats.streamsOpened++;
    session.owner = this;
    // The identity is set before attach and keeps its user (a refresh is for the same user).
    if (session.identity !== null) this.#users.add(session.identity.user, session);
  }

  /** SessionOwner */
  sessionClosed(session: Session): void {
    this.#detach(session);
  }

  /** SessionOwner */
  sessionGap(session: Session, channel: string): void {
    void this.#refill(session, channel);
  }

  get sessionCount(): number {
    return this.#sessions;
  }

  /** Users with at least one local session. */
  get userCount(): number {
    return this.#users.size;
  }

  /** The local sessions of `user` (a snapshot). */
  sessionsOf(user: string): Session[] {
    return this.#users.of(user);
  }

  /**
   * A message of the control bus (engines/types.ts ControlMessage), from any node: applied to
   * this node's sessions of the user. `disconnect` closes every one of them (3507);
   * `subscribe` subscribes those whose transport takes it (Session.takesServerSubscribe) from
   * the channel's current position, like a client's subscribe without `since`, and tells them
   * (Session.serverSubscribed) before the channel's first message; `unsubscribe` removes the
   * channel from those whose transport takes it and tells them. The application is trusted:
   * no access check applies (the HTTP API checked the API key). A failed subscribe (the
   * channel is full, the engine is unreachable) leaves that session as it was.
   */
  control(msg: ControlMessage): void {
    switch (msg.t) {
      case 'disconnect':
        for (const s of this.#users.of(msg.user)) s.close(Disconnects.disconnected);
        return;
      case 'subscribe':
        for (const s of this.#users.of(msg.user)) this.#serverSubscribe(s, msg.channel);
        return;
      case 'unsubscribe':
        for (const s of this.#users.of(msg.user)) this.#serverUnsubscribe(s, msg.channel);
        return;
    }
  }

  #serverSubscribe(s: Session, channel: string): void {
    if (!s.takesServerSubscribe || s.closed || s.subscriptions.has(channel)) return;
    const cap = this.#opts.maxChannelsPerSession ?? 0;
    if (cap > 0 && s.subscriptions.size >= cap) return;
    this.subscribe(s, channel, undefined, (r) => s.serverSubscribed(channel, r.epoch, r.offset)).catch(
      () => undefined,
    );
  }

  #serverUnsubscribe(s: Session, channel: string): void {
    const sub = s.subscriptions.get(channel);
    if (!s.takesServerUnsubscribe || s.closed || sub === undefined) return;
    const last = { epoch: sub.epoch, offset: sub.offset };
    this.unsubscribe(s, channel);
    s.serverUnsubscribed(channel, last);
  }

  #detach(session: Session): void {
    this.#sessions--;
    if (session.identity !== null) this.#users.delete(session.identity.user, session);
    for (const channel of session.subscriptions.keys()) {
      this.presence.unsubscribed(session, channel, session.subscriptions.get(channel)!);
      this.#leave(session, channel);
    }
    session.subscriptions.clear();
  }

  /**
   * Subscribes a session. The session joins the channel first with live publications held back,
   * then the engine subscription is made active, then history is read: so every publication is
   * either in the backlog or in the held-back list (or both, and is then sent once). `onReady`
   * runs just before the backlog is written, for the transport's reply. An unsubscribe that
   * comes before the subscription is complete makes it fail with `not_subscribed`.
   */
  async subscribe(
    session: Session,
    channel: string,
    since: StreamPosition | undefined,
    onReady: (r: SubscribeResult) => void,
  ): Promise<SubscribeResult> {
    if (session.subscriptions.has(channel)) throw new HoldfastError('already_subscribed');
    let set = this.#hub.get(channel);
    const cap = this.#opts.maxSubscribersPerChannel ?? 0;
    if (cap > 0 && set !== undefined && set.size >= cap) throw new HoldfastError('channel_full');
    const sub = new Subscription();
    session.subscriptions.set(channel, sub);
    if (set === undefined) {
      set = new Set();
      this.#hub.set(channel, set);
    }
    set.add(session);
    try {
      const engineSub = this.#engineSubscribe(channel);
      await engineSub;
      const result: SubscribeResult = { channel, epoch: '', offset: 0 };
      let backlog: Publication[] = [];
      const history = this.engine.history;
      const tip = this.#tips.get(channel);
      if (
        history !== null &&
        tip?.valid === true &&
        (since === undefined || (since.epoch === tip.epoch && since.offset === tip.offset))
      ) {
        // Nothing to read: the client is at the tip (see #tips).
        result.epoch = tip.epoch;
        result.offset = tip.offset;
        if (since !== undefined) result.recovered = true;
      } else if (history !== null) {
        const limit = since === undefined ? 0 : this.#opts.maxRecover;
        const res = await history.read(channel, { since, limit });
        result.epoch = res.epoch;
        result.offset = res.offset;
        if (since !== undefined) {
          result.recovered = isComplete(res.from ?? since, res.epoch, res.offset, res.publications);
          if (result.recovered) backlog = res.publications;
        }
        // Only under the same engine subscription: had the channel been left and followed again
        // meanwhile, publications between the two could be missing from this read.
        if (this.#engineSubs.get(channel) === engineSub) this.#anchorTip(channel, res.epoch, res.offset);
      } else if (since !== undefined) {
        result.recovered = false;
      }
      if (session.closed) return result;
      if (session.subscriptions.get(channel) !== sub) {
        // Unsubscribed (and maybe subscribed again) while this one was in flight: it never took
        // effect, and the client is told so rather than left without an answer.
        throw new HoldfastError('not_subscribed', 'Unsubscribed before the subscription was complete.');
      }
      sub.epoch = result.epoch;
      sub.offset = result.recovered === true ? since!.offset : result.offset;
      sub.ready = true;
      onReady(result);
      session.flush(channel, backlog.map(encode), encode);
      if (!session.closed) this.presence.subscribed(session, channel, sub);
      return result;
    } catch (err) {
      if (session.subscriptions.get(channel) === sub) {
        session.subscriptions.delete(channel);
        this.#leave(session, channel);
      }
      throw err;
    }
  }

  unsubscribe(session: Session, channel: string): void {
    const sub = session.subscriptions.get(channel);
    if (sub === undefined) throw new HoldfastError('not_subscribed');
    session.subscriptions.delete(channel);
    this.presence.unsubscribed(session, channel, sub);
    this.#leave(session, channel);
  }

  /**
   * The members of a channel the session follows (WebSocket `presence`): `not_subscribed` unless
   * its subscription is complete, so a refused or pending one learns nothing of the channel;
   * `presence_disabled` where the namespace keeps no presence.
   */
  sessionPresence(session: Session, channel: string): Promise<PresenceMember[]> {
    if (session.subscriptions.get(channel)?.ready !== true) {
      return Promise.reject(new HoldfastError('not_subscribed'));
    }
    return this.presence.members(channel);
  }

  publish(channel: string, data: string): Promise<Publication> {
    this.stats.publicationsIn++;
    return this.engine.pubsub.publish(channel, data);
  }

  /** Channels with local subscribers and their counts. */
  channels(): { channel: string; subscribers: number }[] {
    const out: { channel: string; subscribers: number }[] = [];
    for (const [channel, set] of this.#hub) out.push({ channel, subscribers: set.size });
    return out;
  }

  /** Subscriptions of local sessions (walks the channel index: for scrapes, not the hot path). */
  subscriptionCount(): number {
    let n = 0;
    for (const set of this.#hub.values()) n += set.size;
    return n;
  }

  get channelCount(): number {
    return this.#hub.size;
  }

  #leave(session: Session, channel: string): void {
    const set = this.#hub.get(channel);
    if (set === undefined) return;
    set.delete(session);
    if (set.size === 0) {
      this.#hub.delete(channel);
      this.#tips.delete(channel);
      this.#engineSubs.delete(channel);
      this.engine.pubsub.unsubscribe(channel).catch(() => undefined);
    }
  }

  /** A history read made under an active engine subscription anchors the channel's tip. */
  #anchorTip(channel: string, epoch: string, offset: number): void {
    const tip = this.#tips.get(channel);
    if (tip === undefined) this.#tips.set(channel, { epoch, offset, valid: true });
    else if (tip.epoch === epoch) {
      // Live publications seen during the read may be newer than what the read saw.
      if (offset > tip.offset) tip.offset = offset;
      tip.valid = true;
    }
    // Another epoch live than read: leave it unanchored; the next read settles it.
  }

  #engineSubscribe(channel: string): Promise<void> {
    let p = this.#engineSubs.get(channel);
    if (p === undefined) {
      p = this.engine.pubsub.subscribe(channel);
      this.#engineSubs.set(channel, p);
      p.catch(() => {
        if (this.#engineSubs.get(channel) === p) this.#engineSubs.delete(channel);
      });
    }
    return p;
  }

  /** A live publication skipped offsets: replay the gap from history, or make the client resync. */
  async #refill(session: Session, channel: string): Promise<void> {
    const sub = session.subscriptions.get(channel);
    const history = this.engine.history;
    if (sub === undefined || history === null) return;
    try {
      const since = { epoch: sub.epoch, offset: sub.offset };
      const res = await history.read(channel, { since, limit: this.#opts.maxRecover });
      if (session.subscriptions.get(channel) !== sub) return;
      if (!isComplete(res.from ?? since, res.epoch, res.offset, res.publications)) {
        session.close(Disconnects.insufficientState);
        return;
      }
      this.stats.gapsRefilled++;
      session.flush(channel, res.publications.map(encode), encode);
    } catch {
      session.close(Disconnects.insufficientState);
    }
  }
}

/** True when `pubs` hold every publication after `since` up to `top` in the same epoch. */
export function isComplete(
  since: StreamPosition,
  epoch: string,
  top: number,
  pubs: readonly Publication[],
): boolean {
  if (since.epoch !== epoch || since.offset > top) return false;
  const missing = top - since.offset;
  if (missing === 0) return true;
  return pubs.length === missing && pubs[0]!.offset === since.offset + 1;
}
