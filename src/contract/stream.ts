/**
 * What engines, the core and the transports say about a stream (DESIGN.md "Delivery
 * guarantee"): a publication and its place in a channel's stream.
 */

/** A place in a channel's stream. Offsets start at 1; offset 0 means "before the first". */
export interface StreamPosition {
  /** Changes whenever the channel's history is lost; offsets of different epochs are unrelated. */
  epoch: string;
  offset: number;
}

export interface Publication {
  channel: string;
  epoch: string;
  offset: number;
  /** The published value as JSON text, exactly as it goes on the wire. */
  data: string;
  /** Milliseconds since the Unix epoch when the publication was accepted (for latency metrics). */
  time: number;
}
