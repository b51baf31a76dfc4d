/**
 * Who a connection is (DESIGN.md "Public contract v2"): from its connection token's claims, or
 * from the application's answer to the connect proxy. A connection without credentials has no
 * Identity (null): it is anonymous.
 */
export interface Identity {
  /** The user id (`sub`), never empty. */
  readonly user: string;
  /** Any JSON the application attached (`info`), shown in presence; undefined when none. */
  readonly info: unknown;
  /**
   * Channel names, or `prefix*` patterns, this connection may follow in token-only namespaces
   * (the `channels` claim). Empty when the token grants none.
   */
  readonly channels: readonly string[];
  /** When the credentials stop being valid, in ms since the Unix epoch; 0 for never. */
  readonly expiresAt: number;
}

/** Whether `channel` is one of `patterns` (exact names, or `prefix*`: every name starting with prefix). */
export function channelGranted(patterns: readonly string[], channel: string): boolean {
  for (const p of patterns) {
    if (p.endsWith('*') ? channel.startsWith(p.slice(0, -1)) : p === channel) return true;
  }
  return false;
}

/** The longest user id the server API takes and the control bus carries (its string length). */
export const MAX_USER_LENGTH = 256;
