import type { PresenceCount, PresenceMember } from '../types.js';

interface ChannelPresence {
  /** client -> member */
  readonly members: Map<string, PresenceMember>;
  /** user -> how many of the channel's members are that user's */
  readonly users: Map<string, number>;
}

/**
 * Presence held in one process (the memory engine's, and the cluster primary's for all its
 * workers): members per channel, each with the owner that added it (a worker id), so that an
 * owner that goes away takes its members with it. Counts of clients and users are kept as
 * members come and go, so stats never walk a channel's members. Empty entries are deleted.
 */
export class PresenceTable {
  readonly #channels = new Map<string, ChannelPresence>();
  /** owner -> channel -> clients it added there */
  readonly #owned = new Map<number, Map<string, Set<string>>>();

  /** Adds the member; false when the client is already in the channel (nothing changes). */
  join(channel: string, member: PresenceMember, owner: number): boolean {
    let ch = this.#channels.get(channel);
    if (ch === undefined) {
      ch = { members: new Map(), users: new Map() };
      this.#channels.set(channel, ch);
    }
    if (ch.members.has(member.client)) return false;
    ch.members.set(member.client, member);
    ch.users.set(member.user, (ch.users.get(member.user) ?? 0) + 1);
    let byChannel = this.#owned.get(owner);
    if (byChannel === undefined) {
      byChannel = new Map();
      this.#owned.set(owner, byChannel);
    }
    let clients = byChannel.get(channel);
    if (clients === undefined) {
      clients = new Set();
      byChannel.set(channel, clients);
    }
    clients.add(member.client);
    return true;
  }

  /** Removes the member; the removed member, or undefined when it was not there. */
  leave(channel: string, client: string, owner: number): PresenceMember | undefined {
    const member = this.#remove(channel, client);
    if (member === undefined) return undefined;
    const byChannel = this.#owned.get(owner);
    const clients = byChannel?.get(channel);
    if (clients !== undefined) {
      clients.delete(client);
      if (clients.size === 0) byChannel!.delete(channel);
      if (byChannel!.size === 0) this.#owned.delete(owner);
    }
    return member;
  }

  /** Removes every member `owner` added; what was removed, per channel, in join order. */
  dropOwner(owner: number): { channel: string; member: PresenceMember }[] {
    const byChannel = this.#owned.get(owner);
    if (byChannel === undefined) return [];
    this.#owned.delete(owner);
    const out: { channel: string; member: PresenceMember }[] = [];
    for (const [channel, clients] of byChannel) {
      for (const client of clients) {
        const member = this.#remove(channel, client);
        if (member !== undefined) out.push({ channel, member });
      }
    }
    return out;
  }

  #remove(channel: string, client: string): PresenceMember | undefined {
    const ch = this.#channels.get(channel);
    const member = ch?.members.get(client);
    if (ch === undefined || member === undefined) return undefined;
    ch.members.delete(client);
    const n = (ch.users.get(member.user) ?? 1) - 1;
    if (n === 0) ch.users.delete(member.user);
    else ch.users.set(member.user, n);
    if (ch.members.size === 0) this.#channels.delete(channel);
    return member;
  }

  members(channel: string): PresenceMember[] {
    const ch = this.#channels.get(channel);
    return ch === undefined ? [] : [...ch.members.values()];
  }

  stats(channel: string): { clients: number; users: number } {
    const ch = this.#channels.get(channel);
    return { clients: ch?.members.size ?? 0, users: ch?.users.size ?? 0 };
  }

  /**
   * The `limit` channels with the most members: one pass over the channels with presence,
   * keeping the best `limit` in a small sorted list (O(channels x limit), no sort of them all).
   */
  busiest(limit: number): PresenceCount[] {
    const top: PresenceCount[] = [];
    if (limit <= 0) return top;
    for (const [channel, ch] of this.#channels) {
      const clients = ch.members.size;
      if (top.length === limit && clients <= top[top.length - 1]!.clients) continue;
      let i = top.length;
      while (i > 0 && top[i - 1]!.clients < clients) i--;
      top.splice(i, 0, { channel, clients });
      if (top.length > limit) top.pop();
    }
    return top;
  }

  /** Channels with at least one member. */
  get channelCount(): number {
    return this.#channels.size;
  }
}
