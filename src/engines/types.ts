/**
 * Engine capability interfaces (DESIGN.md "Engines").
 *
 * Engines move publications between processes and machines and keep history and presence.
 * Local delivery is always the core's job: an engine hands every publication for a channel this
 * node subscribed to, its own included, to the one handler given to `PubSub.start`.
 * Every implementation passes the shared conformance suite in test/engines/.
 */

import type { Publication, StreamPosition } from '../contract/stream.js';

export type PublicationHandler = (pub: Publication) => void;

/** Moves publications between nodes. */
export interface PubSub {
  /**
   * Called once before any other method. The handler receives each publication on a channel
   * this node is subscribed to exactly once, in offset order per channel.
   */
  start(handler: PublicationHandler): Promise<void>;
  /** Resolves once publications on `channel` reach the handler. Idempotent per channel. */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * Assigns the channel's next offset (through the engine's history when it has one), stores
   * the publication and delivers it to every subscribed node. Resolves with its position.
   */
  publish(channel: string, data: string): Promise<Publication>;
  close(): Promise<void>;
}

export interface HistoryReadOptions {
  /** Return publications with offset > since.offset. Without it, only the position. */
  since?: StreamPosition;
  /** At most this many publications, the oldest first. */
  limit: number;
}

export interface HistoryResult {
  /** The channel's current epoch and newest offset. */
  epoch: string;
  offset: number;
  /** Publications after `since` (same epoch only), oldest first, at most `limit`. */
  publications: Publication[];
  /**
   * Set when the engine read `since` as another position: a position taken before the channel's
   * first publication (an empty epoch) that `epoch` continues reads as (epoch, since.offset)
   * (engines/empty.ts). `publications` follow this one; without it they follow `since`.
   */
  from?: StreamPosition;
}

/**
 * Bounded per-channel history (count and age). Reading keeps no state for a channel that has
 * no publication: its position is (an empty epoch, 0), see engines/empty.ts.
 */
export interface HistoryStore {
  read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult>;
}

/** One connection in a channel's presence (DESIGN.md "Presence"). */
export interface PresenceMember {
  /** The connection's id, unique over every worker and server. */
  client: string;
  /** Its user id (the token's `sub`). */
  user: string;
  /** The token's `info`, when it has one. */
  info?: unknown;
}

export interface PresenceEvent {
  op: 'join' | 'leave';
  channel: string;
  member: PresenceMember;
}

export type PresenceHandler = (event: PresenceEvent) => void;

/** A channel and how many members (connections) its presence holds. */
export interface PresenceCount {
  channel: string;
  clients: number;
}

/**
 * Who is in which channel, over every node. Members of a node that stops answering (a killed
 * worker or server) leave within a bounded time (`presenceTimeout`), with a leave event:
 * docs/AUTH.md "Presence" states each engine's bound.
 */
export interface PresenceStore {
  /**
   * Called once before any other method, after PubSub.start. The handler gets the join and
   * leave events of every channel this node follows (PubSub.subscribe), its own members'
   * included; it may get others' too (the core ignores channels without local followers).
   * Per member, its join reaches a node before its leave.
   */
  start(handler: PresenceHandler): Promise<void>;
  /**
   * Adds the member (idempotent per client: a second join of the same client in the same
   * channel changes nothing and sends no event) and tells every node following the channel.
   * A leave called after a join of the same client takes effect after it, even when the join's
   * promise has not resolved yet.
   */
  join(channel: string, member: PresenceMember): Promise<void>;
  /** Removes the member, if present, and tells every node following the channel. */
  leave(channel: string, client: string): Promise<void>;
  /** Every member of the channel, over every node, in no particular order. */
  members(channel: string): Promise<PresenceMember[]>;
  /** Counts of members: connections, and distinct users. */
  stats(channel: string): Promise<{ clients: number; users: number }>;
  /**
   * The `limit` channels with the most members, the most first (the dashboard's busiest
   * channels). Answered from counts the store keeps, without reading any channel's members.
   */
  busiest(limit: number): Promise<PresenceCount[]>;
  /** Stops this node's timers; its members stay until they leave or the node is reaped. */
  close(): Promise<void>;
}

/**
 * Server-side commands for every connection of a user, on every node (POST /api/disconnect,
 * /api/subscribe, /api/unsubscribe).
 */
export type ControlMessage =
  | { t: 'disconnect'; user: string }
  | { t: 'subscribe'; user: string; channel: string }
  | { t: 'unsubscribe'; user: string; channel: string };

export interface ControlBus {
  /** Called once before broadcast: the handler gets every message, this node's own included. */
  start(handler: (msg: ControlMessage) => void): Promise<void>;
  /** Sends `msg` to every node (this one included); resolves once it is handed to the broker. */
  broadcast(msg: ControlMessage): Promise<void>;
}

export interface Engine {
  readonly name: string;
  readonly pubsub: PubSub;
  /** null when the engine keeps no history: clients are then never told `recovered: true`. */
  readonly history: HistoryStore | null;
  readonly presence: PresenceStore | null;
  /** null only where the engine has no other node to reach (never for a configured server). */
  readonly control: ControlBus | null;
  /** Channels with subscribers summed over every node, where the engine can see them all. */
  clusterChannels?(): Promise<{ channel: string; subscribers: number }[]>;
  /** True while the engine can serve (e.g. its broker connection is up). */
  ready(): boolean;
  close(): Promise<void>;
}
