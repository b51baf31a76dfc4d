import type { HoldfastClientError } from './errors.js';
import type { Position } from './resume.js';

export type TransportName = 'ws' | 'sse' | 'poll';

/** A presence member as the server sends it (docs/AUTH.md "Presence"). */
export interface Member {
  client: string;
  user: string;
  info: unknown;
}

/** How a connection ended. */
export interface Ended {
  /** The connection opened (the server accepted it) before it ended. */
  opened: boolean;
  /** The close code (WebSocket close, SSE `disconnect` event); null when the connection was just lost. */
  code: number | null;
  /** Why, in the server's words when it gave any. */
  reason: string;
  /** False when the server said not to reconnect (3500+, a refusal), with the error to report. */
  reconnect: boolean;
  error: HoldfastClientError | null;
  /** The server's `Retry-After`, in milliseconds, when it gave one. */
  retryAfterMs: number | null;
}

/** What a transport tells the client; each connection reports to one of these. */
export interface TransportEvents {
  opened(): void;
  /** A subscription is in place from (epoch, offset) (`recovered` as the server said it). */
  subscribed(channel: string, epoch: string, offset: number, recovered: boolean | undefined): void;
  /** A subscribe was refused; the channel is not followed on this connection. */
  refused(channel: string, error: HoldfastClientError): void;
  message(channel: string, offset: number, data: unknown): void;
  /** A position the server reports for a channel (long-poll cursors), after the messages before it. */
  position(channel: string, position: Position): void;
  presence(kind: 'join' | 'leave', channel: string, member: Member): void;
  /** The server stopped the channel (POST /api/unsubscribe). */
  unsubscribed(channel: string): void;
  ended(how: Ended): void;
}

/** What a connection needs to know of the client when it (re)starts a request. */
export interface Link {
  /** The channels followed, in subscription order. */
  channels(): readonly string[];
  since(channel: string): Position | undefined;
  cursor(channels: readonly string[]): string;
  token(): string | undefined;
}

/**
 * One connection of a transport. A connection ends once (`ended`), and the client makes a new
 * one to reconnect. SSE and long-poll carry the channel list in their requests, so their
 * `follow`/`leave` start a new request on the same connection object.
 */
export interface Connection {
  readonly name: TransportName;
  follow(channel: string): void;
  leave(channel: string): void;
  /** A request/reply op (`publish`, `presence`, `refresh`): WebSocket only, others reject `unsupported`. */
  call(frame: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): void;
}

/** The parts of `fetch` the SSE and long-poll transports use (the global, or a test's). */
export type Fetch = typeof fetch;
