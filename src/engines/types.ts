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

/** Presence comes with its own issue; the slot is here so engines can declare it. */
export interface PresenceStore {
  readonly kind: 'presence';
}

export interface Engine {
  readonly name: string;
  readonly pubsub: PubSub;
  /** null when the engine keeps no history: clients are then never told `recovered: true`. */
  readonly history: HistoryStore | null;
  readonly presence: PresenceStore | null;
  /** Channels with subscribers summed over every node, where the engine can see them all. */
  clusterChannels?(): Promise<{ channel: string; subscribers: number }[]>;
  /** True while the engine can serve (e.g. its broker connection is up). */
  ready(): boolean;
  close(): Promise<void>;
}
