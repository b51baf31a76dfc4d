import type { Access, ConnectInfo } from '../../src/auth/access.js';
import type { Namespace } from '../../src/config/namespaces.js';
import { HoldfastError } from '../../src/contract/codes.js';
import type { Identity } from '../../src/contract/identity.js';
import type { Node } from '../../src/core/node.js';
import type { Session } from '../../src/core/session.js';

export function identity(user: string): Identity {
  return { user, info: undefined, channels: [], expiresAt: 0 };
}

/**
 * A narrow test seam for identities without tokens: the next sessions the Node attaches get the
 * queued identities, in order (connect one client at a time and await it). Where connections
 * carry verified tokens (the auth part), the seam only overrides what they set.
 */
export class IdentitySeam {
  readonly #queue: (Identity | null)[] = [];

  constructor(node: Node) {
    const attach = node.attach.bind(node);
    node.attach = (session: Session, kind?: 'stream' | 'poll'): void => {
      if (this.#queue.length > 0) session.identity = this.#queue.shift()!;
      attach(session, kind);
    };
  }

  /** The next attached session is `user`'s (null: anonymous). */
  next(user: string | null): void {
    this.#queue.push(user === null ? null : identity(user));
  }
}

/**
 * A small Access (auth/access.ts) for the transport tests: everyone is anonymous and may follow
 * anything; publishing is allowed except to the channels in `refused` (permission_denied), and
 * each publication asked about is recorded.
 */
export class FakeAccess implements Access {
  enabled = true;
  readonly refused = new Set<string>();
  readonly asked: { user: string | null; channel: string; data: string; transport: string }[] = [];

  async authenticate(): Promise<Identity | null> {
    return null;
  }

  cached(): Identity | undefined {
    return undefined;
  }

  identityNow(): Identity | null | undefined {
    return null;
  }

  subscribeNow(): boolean {
    return true;
  }

  async refresh(): Promise<Identity> {
    throw new HoldfastError('invalid_token');
  }

  async subscribe(): Promise<Namespace | null> {
    return null;
  }

  async publish(identity: Identity | null, channel: string, data: string, c: ConnectInfo): Promise<string> {
    this.asked.push({ user: identity?.user ?? null, channel, data, transport: c.transport });
    if (this.refused.has(channel)) throw new HoldfastError('permission_denied');
    return data;
  }
}
