import type { WorkerPlan } from './pool.js';

/** Messages between the orchestrator and its child processes (IPC, advanced serialization). */

/** Counters a child reports four times a second (cumulative), with histograms since the last tick. */
export interface Tick {
  started: number;
  connecting: number;
  connected: number;
  peak: number;
  connectErrors: number;
  /** Connection attempts retried at once with an OS-chosen port (own source port taken). */
  portFallbacks: number;
  disconnects: number;
  reconnects: number;
  deliveries: number;
  duplicated: number;
  outOfOrder: number;
  misrouted: number;
  errors: number;
  recoveryFailures: number;
  /** Encoded HDR histograms of what was recorded since the last tick. */
  latency: string;
  connect: string;
  /** Delivery latency of broadcast-channel publications only (encoded, since the last tick). */
  broadcastLatency: string;
  /** Stalled clients whose reading is paused now; their disconnects and reconnects. */
  paused: number;
  stalledDisconnects: number;
  stalledReconnects: number;
  rss: number;
  /** User + system CPU time of the child, microseconds. */
  cpuUs: number;
}

/** The publisher's log, sent to the children at the end so that they can count losses. */
export interface PublicationLog {
  /** Per channel index: send time (ms) of publication seq, at index seq - 1. */
  sentAt: Float64Array[];
  /** Per channel index: sequence numbers whose publish request failed. */
  failed: number[][];
}

/** A child's final accounting. */
export interface Final extends Tick {
  expected: number;
  delivered: number;
  lost: number;
  clientsWithLoss: number;
  clientsWithDuplicates: number;
  clientsWithOutOfOrder: number;
  /** Out-of-order arrivals of publications whose publish request had failed (left out of outOfOrder). */
  outOfOrderFailedPublish: number;
  reconnectedClients: number;
  lostInReconnectedClients: number;
  /** Subscriptions never confirmed by the server. */
  unconfirmed: number;
  /** The same accounting for the stalled clients (`--stall-fraction`), which the figures above
   * leave out. */
  stalled: StalledFinal;
}

export interface StalledFinal {
  clients: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  clientsWithLoss: number;
}

export type ToChild =
  | { type: 'start'; plan: WorkerPlan }
  | { type: 'measure' }
  | { type: 'finish'; log: PublicationLog };

export type FromChild =
  | { type: 'ready'; rss: number }
  | { type: 'tick'; tick: Tick }
  | { type: 'measured'; rss: number; connected: number }
  | { type: 'final'; final: Final };
