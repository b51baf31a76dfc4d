import type { Publication } from '../../contract/stream.js';
import { ControlRelay } from '../control.js';
import type { HistoryLimits } from '../limits.js';
import type {
  Engine,
  HistoryReadOptions,
  HistoryResult,
  HistoryStore,
  PublicationHandler,
  PubSub,
} from '../types.js';
import { MemoryHistory } from './history.js';
import { MemoryPresence } from './presence.js';

/**
 * The single-process engine: publications go straight to the local handler; history lives in
 * this process and is lost (new epochs) when it exits. See engines/types.ts for the contracts.
 */
export class MemoryEngine implements Engine, PubSub, HistoryStore {
  readonly name = 'memory';
  readonly pubsub = this;
  readonly history = this;
  readonly presence = new MemoryPresence();
  /** One node: each control message goes to this node's own handler, on a later turn. */
  readonly control: ControlRelay = new ControlRelay({
    listen: async () => undefined,
    send: async (msg) => {
      setImmediate(() => this.control.receive(msg));
    },
  });
  readonly #store: MemoryHistory;
  readonly #subscribed = new Set<string>();
  #handler: PublicationHandler | null = null;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(limits: HistoryLimits) {
    this.#store = new MemoryHistory(limits);
  }

  async start(handler: PublicationHandler): Promise<void> {
    this.#handler = handler;
    this.#sweeper = setInterval(() => this.#store.sweep(Date.now()), 1000);
    this.#sweeper.unref();
  }

  async subscribe(channel: string): Promise<void> {
    this.#subscribed.add(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#subscribed.delete(channel);
  }

  async publish(channel: string, data: string): Promise<Publication> {
    return this.publishSync(channel, data);
  }

  /** Synchronous publish, used by the cluster primary which owns history for its workers. */
  publishSync(channel: string, data: string): Publication {
    const pub = this.#store.append(channel, data, Date.now());
    if (this.#handler !== null && this.#subscribed.has(channel)) this.#handler(pub);
    return pub;
  }

  async read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    return this.#store.read(channel, opts, Date.now());
  }

  readSync(channel: string, opts: HistoryReadOptions): HistoryResult {
    return this.#store.read(channel, opts, Date.now());
  }

  /** Channels history holds an epoch for (published ones only). */
  get historyChannels(): number {
    return this.#store.channelCount;
  }

  /** Ring slots history has allocated over every channel. */
  get historySlots(): number {
    return this.#store.slotCount;
  }

  ready(): boolean {
    return true;
  }

  async close(): Promise<void> {
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
    this.#handler = null;
    await this.presence.close();
    this.control.stop();
  }
}
