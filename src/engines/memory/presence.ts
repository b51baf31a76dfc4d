import type { PresenceCount, PresenceHandler, PresenceMember, PresenceStore } from '../types.js';
import { PresenceTable } from './presence-table.js';

/**
 * The memory engine's presence: one process, so one table and events straight to the handler,
 * synchronously, in call order. Nothing can die apart from the process itself, which takes
 * every member with it. Contracts: engines/types.ts.
 */
export class MemoryPresence implements PresenceStore {
  readonly #table = new PresenceTable();
  #handler: PresenceHandler | null = null;

  async start(handler: PresenceHandler): Promise<void> {
    this.#handler = handler;
  }

  async join(channel: string, member: PresenceMember): Promise<void> {
    if (this.#table.join(channel, member, 0)) this.#handler?.({ op: 'join', channel, member });
  }

  async leave(channel: string, client: string): Promise<void> {
    const member = this.#table.leave(channel, client, 0);
    if (member !== undefined) this.#handler?.({ op: 'leave', channel, member });
  }

  async members(channel: string): Promise<PresenceMember[]> {
    return this.#table.members(channel);
  }

  async stats(channel: string): Promise<{ clients: number; users: number }> {
    return this.#table.stats(channel);
  }

  async busiest(limit: number): Promise<PresenceCount[]> {
    return this.#table.busiest(limit);
  }

  async close(): Promise<void> {
    this.#handler = null;
  }
}
