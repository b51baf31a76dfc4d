import type { Namespace, Namespaces } from '../config/namespaces.js';
import { channelGranted, type Identity } from '../contract/identity.js';

/**
 * Who may follow a channel (DESIGN.md "Public contract v2", docs/AUTH.md "Namespaces"): the pure
 * decision, from the namespace table, the identity and the channel's name. Access (access.ts)
 * adds the backend where the decision is to ask it.
 */

/**
 * `allow`; `ask`: the subscribe proxy decides (a token-only namespace whose channel the token
 * does not grant, for a connection with an identity); or the refusal's code.
 */
export type Verdict = 'allow' | 'ask' | 'permission_denied' | 'unknown_namespace';

export interface Decision {
  readonly verdict: Verdict;
  /** The channel's namespace (null without the namespaces option, or when it is unknown). */
  readonly namespace: Namespace | null;
}

export interface RuleContext {
  /** config.namespaceTable: null without the namespaces option (v1: every channel public). */
  readonly namespaces: Namespaces | null;
  /** authConfigured(config): connections can have an identity, so user channels are guarded. */
  readonly authConfigured: boolean;
  /** A subscribe proxy is configured (token-only channels the token does not grant go to it). */
  readonly canAsk: boolean;
}

/**
 * The users of a user channel: the comma-separated ids after its first `#` (`dialog:#42,43`,
 * `feed#42`); null when the name holds no `#`. Empty ids are dropped (`#,42` is `#42`), so
 * `feed#` has no user and admits nobody.
 */
export function channelUsers(channel: string): string[] | null {
  const hash = channel.indexOf('#');
  if (hash < 0) return null;
  return channel
    .slice(hash + 1)
    .split(',')
    .filter((u) => u.length > 0);
}

function isUserOf(identity: Identity | null, users: string[]): boolean {
  return identity !== null && users.includes(identity.user);
}

/** Whether `identity` (null: anonymous) may follow `channel`. */
export function decideSubscribe(ctx: RuleContext, identity: Identity | null, channel: string): Decision {
  const users = channelUsers(channel);
  if (ctx.namespaces === null) {
    // v1, except that user channels are private once connections can say who they are.
    const ok = users === null || !ctx.authConfigured || isUserOf(identity, users);
    return ok ? ALLOW_V1 : DENY_V1;
  }
  const namespace = ctx.namespaces.of(channel) ?? null;
  if (namespace === null) return { verdict: 'unknown_namespace', namespace };
  if (users !== null)
    return { verdict: isUserOf(identity, users) ? 'allow' : 'permission_denied', namespace };
  if (namespace.access === 'public') {
    return { verdict: namespace.anonymous || identity !== null ? 'allow' : 'permission_denied', namespace };
  }
  if (identity === null) return { verdict: 'permission_denied', namespace };
  if (channelGranted(identity.channels, channel)) return { verdict: 'allow', namespace };
  return { verdict: ctx.canAsk ? 'ask' : 'permission_denied', namespace };
}

const ALLOW_V1: Decision = Object.freeze({ verdict: 'allow', namespace: null });
const DENY_V1: Decision = Object.freeze({ verdict: 'permission_denied', namespace: null });
