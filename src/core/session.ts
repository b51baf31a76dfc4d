import { type Disconnect, Disconnects } from '../contract/codes.js';
import type { Identity } from '../contract/identity.js';
import type { Publication, StreamPosition } from '../contract/stream.js';
import type { Encoded, PresenceBatch } from './encode.js';
import type { NodeStats } from './stats.js';
import { Subscriptions } from './subscriptions.js';

/**
 * The byte-level side of a connection, implemented by each transport. It knows nothing about
 * channels: the core hands it bytes that are already encoded.
 */
export interface Transport {
  /** Queues bytes for the peer; never blocks. */
  write(bytes: Buffer): void;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  queuedBytes(): number;
  /** Ends the connection, telling the peer why when the transport can. */
  close(reason: Disconnect): void;
}

/** Per-channel state of one subscription. */
export class Subscription {
  epoch = '';
  /** The offset of the last publication delivered (or skipped over on purpose). */
  offset = 0;
  /** Live publications held back while the backlog is being fetched; null once live. */
  pending: Publication[] | null = [];
  /** The subscription is complete (the client was told): presence pushes reach it from then on. */
  ready = false;
  /** The connection was made a presence member of the channel (core/presence.ts). */
  joined = false;
}

/** Where a session reports its end and its gaps (the Node); one object for every session, no closures. */
export interface SessionOwner {
  /** The counters every session adds to (bytes out, disconnect reasons). */
  readonly stats: NodeStats;
  sessionClosed(session: Session): void;
  /** A live publication skipped offsets on `channel`: refill it from history. */
  sessionGap(session: Session, channel: string): void;
}

/**
 * A connected client's subscriptions and delivery state. Subclasses (one per transport) turn
 * publications into bytes for their wire format; this class guarantees each channel's stream
 * reaches them once, in order, with the backlog/live seam closed (see Node.subscribe).
 */
export abstract class Session {
  readonly subscriptions = new Subscriptions<Subscription>();
  closed = false;
  /** Set by Node.attach. */
  owner: SessionOwner | null = null;
  /** Who the connection is (auth/access.ts); null for an anonymous one. */
  identity: Identity | null = null;
  /** This connection's presence client id, made when it first joins a channel's presence. */
  presenceId: string | null = null;
  /** An optional hook for the transport, run after the owner has been told of the close. */
  onClose: ((session: Session) => void) | null = null;

  protected constructor(
    readonly transport: Transport,
    /** Disconnect when more than this many bytes wait in the transport. */
    readonly maxQueuedBytes: number,
  ) {}

  /** Writes one publication in this session's wire format. */
  protected abstract emit(enc: Encoded, sub: Subscription): void;

  /** Called by the Node for each live publication on a channel this session follows. */
  deliver(enc: Encoded): void {
    const pub = enc.pub;
    const sub = this.subscriptions.get(pub.channel);
    if (sub === undefined || this.closed) return;
    if (sub.pending !== null) {
      sub.pending.push(pub);
      return;
    }
    if (pub.epoch === sub.epoch) {
      if (pub.offset <= sub.offset) return; // already delivered (seam duplicate)
      if (pub.offset > sub.offset + 1 && sub.offset > 0 && this.owner !== null) {
        // Something between was missed (e.g. a broker hiccup): hold live messages, refill.
        sub.pending = [pub];
        this.owner.sessionGap(this, pub.channel);
        return;
      }
    }
    this.#send(enc, sub);
  }

  /**
   * Whether this kind of session becomes a presence member when it has an identity (a getter on
   * the prototype: no field per session). Long-poll sessions do not: each poll is a session of
   * its own, so the member would leave and join again at every poll.
   */
  get joinsPresence(): boolean {
    return true;
  }

  /**
   * Writes one presence push in this session's wire format. Transports without presence pushes
   * (long-poll) keep this default, which drops them.
   */
  protected emitPresence(_batch: PresenceBatch): void {}

  /** Called by the Node with the joins and leaves of one turn on a channel this session follows. */
  deliverPresence(batch: PresenceBatch): void {
    const sub = this.subscriptions.get(batch.channel);
    if (sub === undefined || !sub.ready || this.closed) return;
    this.emitPresence(batch);
    if (this.transport.queuedBytes() > this.maxQueuedBytes) this.close(Disconnects.slow);
  }

  /** Writes the backlog, then the held live publications past it, and goes live. */
  flush(channel: string, backlog: readonly Encoded[], encode: (p: Publication) => Encoded): void {
    const sub = this.subscriptions.get(channel);
    if (sub === undefined) return;
    for (const enc of backlog) {
      if (this.closed) return;
      if (enc.pub.offset > sub.offset) this.#send(enc, sub);
    }
    const pending = sub.pending ?? [];
    sub.pending = null;
    for (const pub of pending) {
      if (this.closed) return;
      if (pub.epoch !== sub.epoch || pub.offset > sub.offset) this.#send(encode(pub), sub);
    }
  }

  #send(enc: Encoded, sub: Subscription): void {
    sub.epoch = enc.pub.epoch;
    sub.offset = enc.pub.offset;
    this.emit(enc, sub);
    if (this.transport.queuedBytes() > this.maxQueuedBytes) this.close(Disconnects.slow);
  }

  /** Positions in subscription order (for SSE ids and poll cursors). */
  positions(channels: readonly string[]): StreamPosition[] {
    return channels.map((c) => {
      const s = this.subscriptions.get(c);
      return { epoch: s?.epoch || '0', offset: s?.offset ?? 0 };
    });
  }

  /**
   * Whether the transport can carry a server-side subscribe (POST /api/subscribe): the Node then
   * subscribes the session and calls serverSubscribed before the channel's first message. False
   * by default (long-poll: each request names its channels; SSE: the stream's ids and cursor
   * cover the channels of its URL only). A getter, so it costs a session no memory.
   */
  get takesServerSubscribe(): boolean {
    return false;
  }

  /** Whether the transport can carry a server-side unsubscribe (POST /api/unsubscribe). */
  get takesServerUnsubscribe(): boolean {
    return false;
  }

  /**
   * A server-side subscription is live at (epoch, offset): tell the client, before any of the
   * channel's messages. Called only where takesServerSubscribe.
   */
  serverSubscribed(_channel: string, _epoch: string, _offset: number): void {}

  /**
   * A server-side unsubscribe removed `channel`; `last` is its position when it was removed (the
   * last publication delivered, or an empty epoch when it was not live yet). Called only where
   * takesServerUnsubscribe.
   */
  serverUnsubscribed(_channel: string, _last: StreamPosition): void {}

  /** Hands bytes to the transport, counting them as bytes out. */
  write(bytes: Buffer): void {
    if (this.owner !== null) this.owner.stats.bytesOut += bytes.length;
    this.transport.write(bytes);
  }

  /** Ends the session; the Node (owner) removes it from every channel. */
  close(reason: Disconnect): void {
    if (this.closed) return;
    this.closed = true;
    this.owner?.stats.disconnected(reason);
    this.transport.close(reason);
    this.owner?.sessionClosed(this);
    this.onClose?.(this);
  }
}
