import type { Namespace } from '../config/namespaces.js';
import type { Identity } from '../contract/identity.js';

/**
 * Who may connect, follow and publish (DESIGN.md "Public contract v2"): the one place every
 * transport asks. Its answers come from the connection token (tokens.ts), the namespace rules
 * (rules.ts) and, where configured, the application's backend (proxy.ts). Every refusal is a
 * HoldfastError with a code of contract/codes.ts; a refusal never carries anything of the
 * channel (no epoch, offset or history): the caller answers before it reads any.
 */

/** What a transport knows of a new connection (or of each SSE and long-poll request). */
export interface ConnectInfo {
  readonly transport: 'ws' | 'sse' | 'poll';
  /** From `?token=` or `Authorization: Bearer`; undefined without one. */
  readonly token: string | undefined;
  /** The request headers named by `proxyHeaders`, lower-case names (for the connect proxy). */
  readonly headers: Readonly<Record<string, string>>;
  readonly remoteAddr: string;
}

export interface Access {
  /** False when nothing is configured (no token key, no proxy, no namespaces): v1, every check passes. */
  readonly enabled: boolean;
  /**
   * The identity of a connection: from its token (verified once per connection), else from the
   * connect proxy, else null (anonymous). Throws invalid_token, token_expired, permission_denied
   * (the backend refused) or backend_unavailable.
   */
  authenticate(c: ConnectInfo): Promise<Identity | null>;
  /**
   * A token verified before and still valid, without waiting (the long-poll and SSE fast paths
   * serve only what they can answer at once): undefined when it must go through authenticate().
   */
  cached(token: string): Identity | undefined;
  /** A refresh's new token (op: refresh): for the same user; throws invalid_token or token_expired. */
  refresh(current: Identity | null, token: string): Promise<Identity>;
  /**
   * Whether `identity` may follow `channel`: resolves with its namespace (null without
   * namespaces), or throws unknown_namespace, permission_denied or backend_unavailable.
   */
  subscribe(identity: Identity | null, channel: string, c: ConnectInfo): Promise<Namespace | null>;
  /**
   * Whether `identity` may publish `data` (JSON text) to `channel` from a WebSocket: resolves with
   * the data to publish (the publish proxy may replace it), or throws like subscribe.
   */
  publish(identity: Identity | null, channel: string, data: string, c: ConnectInfo): Promise<string>;
}

/**
 * The application's backend, asked over HTTP where `connectProxy`, `subscribeProxy` or
 * `publishProxy` is set (proxy.ts; the bodies in docs/AUTH.md). A backend that refuses (it
 * answers 401 or 403) throws permission_denied; one that fails, answers off the contract, times
 * out (proxyTimeout) or is at its cap of requests in flight (proxyMaxInFlight) throws
 * backend_unavailable: never an open door.
 */
export interface Backend {
  /**
   * null when connectProxy is not set. Resolves with who the connection is, or with null when
   * the backend accepts it as anonymous (it answers `{"user": ""}`, Centrifugo's convention).
   */
  readonly connect: ((c: ConnectInfo) => Promise<Identity | null>) | null;
  /** null when subscribeProxy is not set. Resolves when the backend allows the subscription. */
  readonly subscribe: ((identity: Identity | null, channel: string, c: ConnectInfo) => Promise<void>) | null;
  /**
   * null when publishProxy is not set. `data` is JSON text (a client's that is not throws
   * invalid_json). Resolves with the data to publish, as JSON text: the client's, or the backend's.
   */
  readonly publish:
    | ((identity: Identity | null, channel: string, data: string, c: ConnectInfo) => Promise<string>)
    | null;
}
