import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { redactUrl } from '../../config/config.js';
import { HoldfastError } from '../../contract/codes.js';
import { newEpoch } from '../../contract/positions.js';
import type { Publication } from '../../contract/stream.js';
import { backoff } from '../backoff.js';
import { ControlRelay, decodeControl, encodeControl } from '../control.js';
import type { HistoryLimits } from '../limits.js';
import { isPresenceWire } from '../presence-wire.js';
import { Sequencer } from '../sequencer.js';
import type {
  Engine,
  HistoryReadOptions,
  HistoryResult,
  HistoryStore,
  PublicationHandler,
  PubSub,
} from '../types.js';
import { decodeWire, encodeWire } from '../wire.js';
import { JetStreamHistory } from './history.js';
import { NatsPresence } from './presence.js';
import { NatsSubjects } from './subjects.js';

export interface NatsEngineOptions {
  /** nats://host:port, or several separated by commas. */
  servers: string;
  prefix: string;
  /** Keep history in JetStream; false: pub/sub only and `history: null`. */
  jetstream: boolean;
  history: HistoryLimits;
  connectTimeoutMs?: number;
  /**
   * Milliseconds after which another node reaps the presence members of a node that stopped
   * heartbeating (`presenceTimeout`); default 15 s.
   */
  presenceTimeoutMs?: number;
}

/**
 * NATS engine: pub/sub over core NATS subjects (a server subscribes to a channel's subject only
 * while it has subscribers for it); history through JetStream (history.ts) when enabled.
 * Without JetStream it keeps no history and says so (`history: null`): each node then numbers
 * its own publications per channel in an epoch of its own, and clients are never told
 * `recovered: true`. See engines/types.ts for the contracts.
 */
export class NatsEngine implements Engine, PubSub {
  readonly name = 'nats';
  readonly pubsub = this;
  readonly presence: NatsPresence;
  /** One core NATS subject under the prefix. */
  readonly control: ControlRelay = new ControlRelay({
    listen: async () => {
      const nc = this.#conn();
      nc.subscribe(this.#subjects.control(), {
        callback: (err, m) => {
          if (err === null) this.control.receive(decodeControl(m.string()));
        },
      });
      await nc.flush(); // the server has the subscription once it answers the ping after it
    },
    send: async (msg) => {
      this.#conn().publish(this.#subjects.control(), encodeControl(this.id, msg));
    },
  });
  readonly id = randomBytes(6).toString('hex');
  readonly #opts: NatsEngineOptions;
  readonly #subjects: NatsSubjects;
  readonly #subs = new Map<string, { sub: Subscription; ready: Promise<void> }>();
  /** Per channel, the tail of this node's appends: one at a time per channel, in call order. */
  readonly #tails = new Map<string, Promise<unknown>>();
  /** Without JetStream: this node's epoch and per-channel counters. */
  readonly #localEpoch = newEpoch();
  readonly #localOffsets = new Map<string, number>();
  #nc: NatsConnection | null = null;
  #store: JetStreamHistory | null = null;
  #seq: Sequencer | null = null;
  #connected = false;
  history: HistoryStore | null = null;
  reconnects = 0;

  constructor(opts: NatsEngineOptions) {
    this.#opts = opts;
    this.#subjects = new NatsSubjects(opts.prefix);
    this.presence = new NatsPresence({
      prefix: opts.prefix,
      timeoutMs: opts.presenceTimeoutMs ?? 15_000,
      subject: (channel) => this.#subjects.pubsub(channel),
    });
    // Declared before start so capability checks see it; the store itself comes with the connection.
    if (opts.jetstream) this.history = { read: (channel, o) => this.#read(channel, o) };
  }

  async start(handler: PublicationHandler): Promise<void> {
    const servers = this.#opts.servers.split(',').map((s) => s.trim());
    const deadline = Date.now() + (this.#opts.connectTimeoutMs ?? 10_000);
    let nc: NatsConnection | null = null;
    // A failed first attempt is retried with back-off until the deadline, like a reconnection.
    for (let attempt = 1; nc === null; attempt++) {
      try {
        nc = await connect({
          servers,
          name: `holdfast-${this.id}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          reconnectJitter: 250,
          timeout: Math.max(100, deadline - Date.now()),
          pingInterval: 10_000,
        });
      } catch (err) {
        const wait = backoff(attempt);
        if (Date.now() + wait >= deadline) {
          throw new Error(
            `nats engine: cannot reach ${redactUrl(this.#opts.servers)}: ${(err as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    this.#nc = nc;
    this.#connected = true;
    this.presence.connect(nc);
    if (this.#opts.jetstream) {
      try {
        const jsm = await nc.jetstreamManager();
        this.#store = new JetStreamHistory(nc.jetstream(), jsm, this.#subjects, this.#opts.history);
        await this.#store.ensureStreams();
      } catch (err) {
        await nc.close();
        throw new Error(
          `nats engine: JetStream is not available (${(err as Error).message}); run nats-server with -js, or set natsHistory to false`,
        );
      }
    }
    const read =
      this.#store === null
        ? null
        : (channel: string, since: Publication | { epoch: string; offset: number }, limit: number) =>
            this.#read(channel, { since: { epoch: since.epoch, offset: since.offset }, limit });
    this.#seq = new Sequencer(handler, read);
    void this.#watch(nc);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.#connected = false;
      else if (s.type === 'reconnect') {
        this.#connected = true;
        this.reconnects++;
        this.#seq?.resync();
      }
    }
  }

  #conn(): NatsConnection {
    const nc = this.#nc;
    if (nc === null || nc.isClosed() || !this.#connected) {
      throw new HoldfastError('unavailable', 'The engine is not reachable.');
    }
    return nc;
  }

  async subscribe(channel: string): Promise<void> {
    const existing = this.#subs.get(channel);
    if (existing !== undefined) return existing.ready;
    const nc = this.#conn();
    const seq = this.#seq!;
    seq.track(channel);
    const sub = nc.subscribe(this.#subjects.pubsub(channel), {
      callback: (err, m) => {
        if (err !== null) return;
        const text = m.string();
        if (isPresenceWire(text)) {
          this.presence.receive(channel, text);
          return;
        }
        const msg = decodeWire(channel, text);
        if (msg !== null) this.#seq?.push(msg.pub);
      },
    });
    const ready = (async () => {
      await nc.flush(); // the server has the subscription once it answers the ping after it
      seq.position(channel, this.history === null ? null : await this.#read(channel, { limit: 0 }));
    })();
    const entry = { sub, ready };
    this.#subs.set(channel, entry);
    ready.catch(() => {
      if (this.#subs.get(channel) !== entry) return;
      this.#subs.delete(channel);
      seq.untrack(channel);
      sub.unsubscribe();
    });
    return ready;
  }

  async unsubscribe(channel: string): Promise<void> {
    const entry = this.#subs.get(channel);
    if (entry === undefined) return;
    this.#subs.delete(channel);
    this.#seq?.untrack(channel);
    entry.sub.unsubscribe();
  }

  publish(channel: string, data: string): Promise<Publication> {
    const nc = this.#conn();
    const prev = this.#tails.get(channel) ?? Promise.resolve();
    const p = prev.then(async () => {
      const pub = await this.#append(channel, data);
      nc.publish(this.#subjects.pubsub(channel), encodeWire(this.id, pub));
      return pub;
    });
    const tail = p.catch(() => undefined);
    this.#tails.set(channel, tail);
    void tail.then(() => {
      if (this.#tails.get(channel) === tail) this.#tails.delete(channel);
    });
    return p;
  }

  async #append(channel: string, data: string): Promise<Publication> {
    if (this.#store !== null) return this.#store.append(channel, data);
    const offset = (this.#localOffsets.get(channel) ?? 0) + 1;
    this.#localOffsets.set(channel, offset);
    return { channel, epoch: this.#localEpoch, offset, data, time: Date.now() };
  }

  #read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    this.#conn();
    const store = this.#store;
    if (store === null) throw new HoldfastError('unavailable', 'The engine is not started.');
    return store.read(channel, opts);
  }

  ready(): boolean {
    return this.#nc !== null && this.#connected && !this.#nc.isClosed();
  }

  async close(): Promise<void> {
    await this.presence.close();
    this.#seq = null;
    this.control.stop();
    for (const { sub } of this.#subs.values()) sub.unsubscribe();
    this.#subs.clear();
    const nc = this.#nc;
    this.#nc = null;
    if (nc !== null && !nc.isClosed()) await nc.close();
  }
}
