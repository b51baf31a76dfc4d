import { backoffDelay } from './backoff.js';
import { closeError, TOKEN_EXPIRED } from './close-codes.js';
import { HoldfastClientError } from './errors.js';
import { tokenExpiry } from './jwt.js';
import { type HoldfastOptions, type Resolved, resolveOptions } from './options.js';
import { ResumeState } from './resume.js';
import { type SubscribeOptions, Subscription, type SubscriptionOwner } from './subscription.js';
import type { Connection, Ended, Link, Member, TransportEvents, TransportName } from './transport.js';

export { HoldfastClientError } from './errors.js';
export type { HoldfastOptions } from './options.js';
export type { MessageContext, SubscribeOptions, Subscription } from './subscription.js';
export type { Member, TransportName } from './transport.js';

export type State = 'connecting' | 'connected' | 'disconnected';

interface Listeners {
  state: Set<(state: State) => void>;
  error: Set<(error: HoldfastClientError) => void>;
}

/**
 * A client of one Holdfast server (DESIGN.md "Client library"): one connection at a time, on
 * the first transport that connects; every subscription resumes from its last delivered message
 * after a reconnect, on whatever transport.
 */
export class Holdfast implements SubscriptionOwner {
  readonly #opts: Resolved;
  readonly #getToken: (() => string | Promise<string>) | undefined;
  #token: string | undefined;
  readonly #subs = new Map<string, Subscription>();
  readonly #resume = new ResumeState();
  readonly #listeners: Listeners = { state: new Set(), error: new Set() };
  #conn: Connection | null = null;
  #state: State = 'disconnected';
  #index = 0;
  #attempt = 0;
  #openedAt = 0;
  #transport: TransportName;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  /** The last error that stopped the client or a connection; null while all is well. */
  lastError: HoldfastClientError | null = null;

  constructor(url: string, options: HoldfastOptions = {}) {
    this.#opts = resolveOptions(url, options);
    this.#token = options.token;
    this.#getToken = options.getToken;
    this.#transport = this.#opts.transports[0] ?? 'ws';
    // Subscriptions made in this turn go in the first connection's requests.
    queueMicrotask(() => void this.#connect());
  }

  get state(): State {
    return this.#state;
  }

  /** The transport in use (or being tried). */
  get transport(): TransportName {
    return this.#transport;
  }

  on(event: 'state', fn: (state: State) => void): () => void;
  on(event: 'error', fn: (error: HoldfastClientError) => void): () => void;
  on(
    event: 'state' | 'error',
    fn: ((state: State) => void) | ((error: HoldfastClientError) => void),
  ): () => void {
    const set = this.#listeners[event] as Set<typeof fn>;
    set.add(fn);
    return () => set.delete(fn);
  }

  subscribe(channel: string, handlers: SubscribeOptions = {}): Subscription {
    if (this.#subs.has(channel))
      throw new HoldfastClientError('already_subscribed', `Already subscribed to ${channel}.`);
    const sub = new Subscription(this, channel, handlers);
    this.#subs.set(channel, sub);
    this.#conn?.follow(channel);
    return sub;
  }

  /** A client publication (WebSocket, where the channel's namespace has `clientPublish`). */
  async publish(channel: string, data: unknown): Promise<{ epoch: string; offset: number }> {
    const reply = await this.#call({ op: 'publish', channel, data });
    return { epoch: String(reply['epoch']), offset: Number(reply['offset']) };
  }

  /** Ends the client: no reconnect, every subscription stops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimers();
    const conn = this.#conn;
    this.#conn = null;
    conn?.close();
    this.#setState('disconnected');
  }

  unsubscribeChannel(sub: Subscription): void {
    if (this.#subs.get(sub.channel) !== sub) return;
    this.#drop(sub.channel);
    this.#conn?.leave(sub.channel);
  }

  async presenceOf(channel: string): Promise<Member[]> {
    const reply = await this.#call({ op: 'presence', channel });
    return Array.isArray(reply['members']) ? (reply['members'] as Member[]) : [];
  }

  #call(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new HoldfastClientError('closed', 'The client is closed.'));
    if (this.#conn === null || this.#state !== 'connected') {
      return Promise.reject(new HoldfastClientError('not_connected', 'Not connected.'));
    }
    return this.#conn.call(frame);
  }

  #drop(channel: string): void {
    this.#subs.delete(channel);
    this.#resume.forget(channel);
  }

  async #connect(): Promise<void> {
    this.#timer = null;
    if (this.#closed) return;
    const name = this.#opts.transports[this.#index];
    if (name === undefined) {
      this.#stop(
        new HoldfastClientError('no_transport', 'No transport can run here (pass a WebSocket or fetch).'),
      );
      return;
    }
    this.#transport = name;
    this.#setState('connecting');
    if (this.#getToken !== undefined && this.#tokenDue()) {
      try {
        this.#token = await this.#getToken();
      } catch (err) {
        this.#report(
          new HoldfastClientError('invalid_token', err instanceof Error ? err.message : 'getToken failed.'),
        );
        this.#retry(this.#backoff(), null);
        return;
      }
      if (this.#closed) return;
    }
    const link: Link = {
      channels: () => [...this.#subs.keys()],
      since: (channel) => this.#resume.since(channel),
      cursor: (channels) => this.#resume.cursor(channels),
      token: () => this.#token,
    };
    let conn: Connection | null = null;
    const mine = (): boolean => conn !== null && this.#conn === conn;
    const events: TransportEvents = {
      opened: () => mine() && this.#opened(),
      subscribed: (channel, epoch, offset, recovered) => {
        if (!mine()) return;
        const sub = this.#subs.get(channel);
        if (sub === undefined) return;
        if (this.#resume.subscribed(channel, epoch, offset, recovered) === 'failed')
          sub.handlers.onRecoveryFailed?.();
      },
      refused: (channel, error) => {
        const sub = this.#subs.get(channel);
        if (!mine() || sub === undefined) return;
        this.#drop(channel);
        sub.handlers.onError?.(error);
      },
      message: (channel, offset, data) => {
        const sub = this.#subs.get(channel);
        if (!mine() || sub === undefined || !this.#resume.accept(channel, offset)) return;
        sub.handlers.onMessage?.(data, { channel, offset });
      },
      position: (channel, position) => {
        if (mine() && this.#subs.has(channel)) this.#resume.advance(channel, position.epoch, position.offset);
      },
      presence: (kind, channel, member) => {
        const sub = this.#subs.get(channel);
        if (!mine() || sub === undefined) return;
        if (kind === 'join') sub.handlers.onJoin?.(member);
        else sub.handlers.onLeave?.(member);
      },
      unsubscribed: (channel) => {
        const sub = this.#subs.get(channel);
        if (!mine() || sub === undefined) return;
        this.#drop(channel);
        sub.handlers.onUnsubscribed?.();
      },
      ended: (how) => {
        if (mine()) this.#ended(how);
      },
    };
    conn = this.#opts.connect(name, link, events);
    this.#conn = conn;
  }

  #opened(): void {
    this.#openedAt = Date.now();
    this.lastError = null;
    this.#setState('connected');
    this.#scheduleRefresh();
  }

  #ended(how: Ended): void {
    this.#conn = null;
    if (this.#refreshTimer !== null) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
    this.#setState('disconnected');
    const expired = how.code === TOKEN_EXPIRED || how.error?.code === 'token_expired';
    if (expired && this.#getToken !== undefined) {
      this.#token = undefined;
    } else if (!how.reconnect || expired) {
      const error = how.error ?? closeError(how.code ?? 0, how.reason);
      this.#report(error);
      this.#stop(error);
      return;
    }
    if (how.error !== null) this.#report(how.error);
    if (how.opened && Date.now() - this.#openedAt >= this.#opts.stableMs) this.#attempt = 0;
    let delay: number;
    if (!how.opened) {
      // Fall back to the next transport at once; after the last, start again from the first.
      this.#index++;
      if (this.#index >= this.#opts.transports.length) {
        this.#index = 0;
        delay = this.#backoff();
      } else {
        delay = 0;
      }
    } else {
      delay = this.#backoff();
    }
    this.#retry(delay, how.retryAfterMs);
  }

  #backoff(): number {
    return backoffDelay(this.#attempt++, this.#opts.backoff, this.#opts.random);
  }

  #retry(delay: number, retryAfterMs: number | null): void {
    if (this.#closed) return;
    const wait = retryAfterMs === null ? delay : Math.max(delay, retryAfterMs);
    this.#timer = setTimeout(() => void this.#connect(), wait);
  }

  /** Whether the token must be fetched before connecting: none yet, or its `exp` is (nearly) past. */
  #tokenDue(): boolean {
    if (this.#token === undefined) return true;
    const exp = tokenExpiry(this.#token);
    return exp !== null && exp - Date.now() < 1000;
  }

  /** With getToken, a new token a fifth of its remaining lifetime (at most 30 s) before `exp`, sent with `op: refresh`. */
  #scheduleRefresh(): void {
    if (this.#getToken === undefined || this.#token === undefined || this.#refreshTimer !== null) return;
    const exp = tokenExpiry(this.#token);
    if (exp === null) return;
    const left = exp - Date.now();
    // A token (nearly) expired already is replaced at the server's 3005 close, not in a loop here.
    if (left < 1000) return;
    const lead = Math.min(30_000, left / 5);
    this.#refreshTimer = setTimeout(() => void this.#refresh(), Math.max(0, left - lead));
  }

  async #refresh(): Promise<void> {
    this.#refreshTimer = null;
    const getToken = this.#getToken;
    if (this.#closed || getToken === undefined) return;
    try {
      this.#token = await getToken();
      const conn = this.#conn;
      if (conn !== null && conn.name === 'ws' && this.#state === 'connected') {
        await conn.call({ op: 'refresh', token: this.#token });
      }
    } catch (err) {
      if (err instanceof HoldfastClientError && err.code !== 'not_connected') this.#report(err);
    }
    if (this.#conn !== null && this.#state === 'connected') this.#scheduleRefresh();
  }

  #stop(error: HoldfastClientError): void {
    this.#closed = true;
    this.#clearTimers();
    this.lastError = error;
    this.#setState('disconnected');
  }

  #report(error: HoldfastClientError): void {
    this.lastError = error;
    for (const fn of this.#listeners.error) fn(error);
  }

  #clearTimers(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#refreshTimer !== null) clearTimeout(this.#refreshTimer);
    this.#timer = null;
    this.#refreshTimer = null;
  }

  #setState(state: State): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const fn of this.#listeners.state) fn(state);
  }
}
