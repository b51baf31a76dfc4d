import type { HoldfastClientError } from './errors.js';
import type { Member } from './transport.js';

/** Where a delivered message sits in its channel's stream. */
export interface MessageContext {
  channel: string;
  offset: number;
}

/** What `Holdfast.subscribe` takes: every callback is optional. */
export interface SubscribeOptions {
  /** Every publication of the channel, once, in order (also across reconnects and transport changes). */
  onMessage?(data: unknown, context: MessageContext): void;
  /** The server could not resume the channel (history gone, epoch changed): messages were lost; reload the state. */
  onRecoveryFailed?(): void;
  /** With the namespace's `joinLeave` (WebSocket and SSE): a member joined; key members by `client`. */
  onJoin?(member: Member): void;
  onLeave?(member: Member): void;
  /** The subscription was refused (`permission_denied`, `unknown_namespace`, ...) and ended. */
  onError?(error: HoldfastClientError): void;
  /** The server ended the subscription (POST /api/unsubscribe). */
  onUnsubscribed?(): void;
}

/** What a subscription needs of its client. */
export interface SubscriptionOwner {
  unsubscribeChannel(sub: Subscription): void;
  presenceOf(channel: string): Promise<Member[]>;
}

/** One followed channel: from `Holdfast.subscribe` until `unsubscribe()` (or a refusal). */
export class Subscription {
  readonly channel: string;
  readonly handlers: SubscribeOptions;
  readonly #owner: SubscriptionOwner;

  constructor(owner: SubscriptionOwner, channel: string, handlers: SubscribeOptions) {
    this.#owner = owner;
    this.channel = channel;
    this.handlers = handlers;
  }

  unsubscribe(): void {
    this.#owner.unsubscribeChannel(this);
  }

  /** The channel's members now (WebSocket `op: presence`); rejects `unsupported` on SSE and long-poll. */
  presence(): Promise<Member[]> {
    return this.#owner.presenceOf(this.channel);
  }
}
