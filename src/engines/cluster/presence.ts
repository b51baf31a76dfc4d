import type {
  PresenceCount,
  PresenceEvent,
  PresenceHandler,
  PresenceMember,
  PresenceStore,
} from '../types.js';
import type { WorkerRequest } from './protocol.js';

/**
 * A worker's presence (contracts: engines/types.ts): the primary (cluster/hub.ts) holds every
 * worker's members and routes join and leave events to the workers following the channel; this
 * side forwards calls over IPC and hands routed events to the handler. IPC keeps a worker's
 * messages in order, so a leave sent after a join is applied after it. When a worker exits, the
 * primary removes its members at once (node:cluster reports every exit, SIGKILL included).
 */
export class ClusterPresence implements PresenceStore {
  readonly #request: <T>(req: WorkerRequest) => Promise<T>;
  #handler: PresenceHandler | null = null;

  constructor(request: <T>(req: WorkerRequest) => Promise<T>) {
    this.#request = request;
  }

  async start(handler: PresenceHandler): Promise<void> {
    this.#handler = handler;
  }

  /** Events routed by the primary, in its order. */
  deliver(evs: readonly PresenceEvent[]): void {
    const h = this.#handler;
    if (h !== null) for (const ev of evs) h(ev);
  }

  async join(channel: string, member: PresenceMember): Promise<void> {
    await this.#request({ t: 'pjoin', ch: channel, m: member });
  }

  async leave(channel: string, client: string): Promise<void> {
    await this.#request({ t: 'pleave', ch: channel, client });
  }

  members(channel: string): Promise<PresenceMember[]> {
    return this.#request<PresenceMember[]>({ t: 'pmembers', ch: channel });
  }

  stats(channel: string): Promise<{ clients: number; users: number }> {
    return this.#request<{ clients: number; users: number }>({ t: 'pstats', ch: channel });
  }

  busiest(limit: number): Promise<PresenceCount[]> {
    return this.#request<PresenceCount[]>({ t: 'pbusiest', limit });
  }

  async close(): Promise<void> {
    this.#handler = null;
  }
}
