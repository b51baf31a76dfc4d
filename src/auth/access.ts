import { authConfigured, type Config } from '../config/config.js';
import type { Namespace } from '../config/namespaces.js';
import { HoldfastError } from '../contract/codes.js';
import type { Identity } from '../contract/identity.js';
import { decideSubscribe, type RuleContext } from './rules.js';
import { type TokenOptions, TokenVerifier } from './tokens.js';

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
  /**
   * What authenticate() would resolve with, when that is known without waiting: the identity of
   * a cached token, or null for a connection without a token where no connect proxy is
   * configured. undefined when only authenticate() can tell (it may then refuse).
   */
  identityNow(token: string | undefined): Identity | null | undefined;
  /**
   * True when subscribe() would allow `channel` at once, without asking the backend; false when
   * it would refuse or must ask (only subscribe() can then tell).
   */
  subscribeNow(identity: Identity | null, channel: string): boolean;
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

/**
 * Access from the configuration: tokens (tokens.ts), the namespace rules (rules.ts) and, where
 * configured, the application's backend (`backend`; proxy.ts builds the HTTP one).
 */
export class AccessControl implements Access {
  readonly enabled: boolean;
  readonly tokens: TokenVerifier;
  readonly #backend: Backend;
  readonly #rules: RuleContext;

  /** Throws ConfigError for a token key that cannot be used. */
  constructor(config: Config, backend: Backend | null = null, opts: TokenOptions = {}) {
    this.tokens = new TokenVerifier(config, opts);
    this.#backend = backend ?? NO_BACKEND;
    this.#rules = {
      namespaces: config.namespaceTable,
      authConfigured: authConfigured(config),
      canAsk: this.#backend.subscribe !== null,
    };
    this.enabled = this.tokens.configured || this.#backend.connect !== null || config.namespaceTable !== null;
  }

  /**
   * Access. A token, when given, decides alone: a bad one is refused even where an anonymous
   * connection would be let in (a client must learn its token is bad), and the backend is not
   * asked. A token where no key is configured is invalid.
   */
  async authenticate(c: ConnectInfo): Promise<Identity | null> {
    if (c.token !== undefined) {
      if (!this.tokens.configured)
        throw new HoldfastError('invalid_token', 'This server takes no connection tokens.');
      return this.tokens.verify(c.token);
    }
    const connect = this.#backend.connect;
    return connect === null ? null : connect(c);
  }

  cached(token: string): Identity | undefined {
    return this.tokens.cached(token);
  }

  identityNow(token: string | undefined): Identity | null | undefined {
    if (token === undefined) return this.#backend.connect === null ? null : undefined;
    return this.tokens.cached(token);
  }

  subscribeNow(identity: Identity | null, channel: string): boolean {
    return decideSubscribe(this.#rules, identity, channel).verdict === 'allow';
  }

  /** Access. An anonymous connection cannot refresh: it has no user to stay the same. */
  async refresh(current: Identity | null, token: string): Promise<Identity> {
    if (current === null)
      throw new HoldfastError('invalid_token', 'Only a connection opened with credentials can refresh.');
    if (!this.tokens.configured)
      throw new HoldfastError('invalid_token', 'This server takes no connection tokens.');
    const next = await this.tokens.verify(token);
    if (next.user !== current.user)
      throw new HoldfastError('invalid_token', 'A refresh token must be for the same user.');
    return next;
  }

  async subscribe(identity: Identity | null, channel: string, c: ConnectInfo): Promise<Namespace | null> {
    const d = decideSubscribe(this.#rules, identity, channel);
    switch (d.verdict) {
      case 'allow':
        return d.namespace;
      case 'ask':
        // canAsk: the backend has a subscribe.
        await (this.#backend.subscribe as NonNullable<Backend['subscribe']>)(identity, channel, c);
        return d.namespace;
      default:
        throw new HoldfastError(d.verdict);
    }
  }

  /**
   * Access. Only where the namespace has clientPublish (so never without namespaces), and only
   * to a channel the connection may follow; then the publish proxy, when configured, decides.
   */
  async publish(identity: Identity | null, channel: string, data: string, c: ConnectInfo): Promise<string> {
    const d = decideSubscribe(this.#rules, identity, channel);
    if (d.verdict === 'unknown_namespace') throw new HoldfastError('unknown_namespace');
    if (d.namespace === null || !d.namespace.clientPublish)
      throw new HoldfastError('permission_denied', 'Clients may not publish to this channel.');
    await this.subscribe(identity, channel, c);
    const publish = this.#backend.publish;
    return publish === null ? data : publish(identity, channel, data, c);
  }
}

const NO_BACKEND: Backend = Object.freeze({ connect: null, subscribe: null, publish: null });
