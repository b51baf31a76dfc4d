import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { redactUrl } from '../../config/config.js';
import { HoldfastError } from '../../contract/codes.js';
import { newEpoch } from '../../contract/positions.js';
import type { Publication } from '../../contract/stream.js';
import { backoff, withDeadline } from '../backoff.js';
import { ControlRelay, decodeControl, encodeControl } from '../control.js';
import { emptyPosition, emptyTime, newTag } from '../empty.js';
import { ChannelLimitsTable, type HistoryLimits } from '../limits.js';
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
import { decodeWire } from '../wire.js';
import { RedisKeys } from './keys.js';
import { RedisPresence } from './presence.js';
import { Script } from './script.js';
import { loadScripts } from './scripts.js';

export interface RedisEngineOptions {
  /** redis://[user:password@]host:port[/db] or rediss://... */
  url: string;
  /** Prefix of every key and pub/sub channel, so several deployments can share one Redis. */
  prefix: string;
  history: HistoryLimits;
  /** Milliseconds start() waits for the first connection before failing. */
  connectTimeoutMs?: number;
  /**
   * Milliseconds after which another node reaps the presence members of a node that stopped
   * heartbeating (`presenceTimeout`); default 15 s.
   */
  presenceTimeoutMs?: number;
}

/**
 * Redis engine: pub/sub over Redis channels (a server subscribes to a channel only while it has
 * subscribers for it), history in one stream per channel with its epoch and offset in a hash,
 * both written by publish.lua in one step; reading (read.lua) writes nothing for a channel that
 * has no publication (engines/empty.ts). Two connections: commands, and subscriptions.
 * See engines/types.ts for the contracts.
 */
export class RedisEngine implements Engine, PubSub, HistoryStore {
  readonly name = 'redis';
  readonly pubsub = this;
  readonly history = this;
  readonly presence: RedisPresence;
  /** PUBLISH / SUBSCRIBE on one Redis channel under the prefix, on the subscription connection. */
  readonly control: ControlRelay = new ControlRelay({
    listen: async () => {
      const sub = this.#sub;
      if (sub === null) throw new HoldfastError('unavailable', 'The engine is not started.');
      await sub.subscribe(this.#keys.control());
    },
    send: async (msg) => {
      await this.#ready().publish(this.#keys.control(), encodeControl(this.id, msg));
    },
  });
  /** Sent with every publication; lets a server tell its own publications from others'. */
  readonly id = randomBytes(6).toString('hex');
  readonly #opts: RedisEngineOptions;
  readonly #keys: RedisKeys;
  readonly #limits: ChannelLimitsTable;
  readonly #publishScript: Script;
  readonly #readScript: Script;
  readonly #subs = new Map<string, Promise<void>>();
  #cmd: Redis | null = null;
  #sub: Redis | null = null;
  #seq: Sequencer | null = null;
  #wasReady = false;
  #tagValue: Promise<string> | null = null;
  /** Times the subscription connection came back after being lost. */
  reconnects = 0;

  constructor(opts: RedisEngineOptions) {
    this.#opts = opts;
    this.#keys = new RedisKeys(opts.prefix);
    this.#limits = new ChannelLimitsTable(opts.history);
    this.presence = new RedisPresence({
      prefix: opts.prefix,
      timeoutMs: opts.presenceTimeoutMs ?? 15_000,
      client: () => this.#cmd,
    });
    const scripts = loadScripts();
    this.#publishScript = new Script(scripts.publish);
    this.#readScript = new Script(scripts.read);
  }

  async start(handler: PublicationHandler): Promise<void> {
    const seq = new Sequencer(handler, (channel, since, limit) => this.read(channel, { since, limit }));
    this.#seq = seq;
    const common = {
      lazyConnect: true,
      retryStrategy: backoff,
      maxRetriesPerRequest: 1,
      connectionName: `holdfast-${this.id}`,
    };
    const cmd = new Redis(this.#opts.url, { ...common, enableOfflineQueue: false });
    const sub = new Redis(this.#opts.url, { ...common, autoResubscribe: true });
    this.#cmd = cmd;
    this.#sub = sub;
    // Errors surface through ready() and failed calls; an 'error' listener keeps them from
    // being thrown as unhandled events while ioredis reconnects.
    cmd.on('error', () => undefined);
    cmd.on('ready', () => {
      this.#tagValue = null;
    });
    sub.on('error', () => undefined);
    sub.on('message', (name: string, text: string) => {
      if (name === this.#keys.control()) {
        this.control.receive(decodeControl(text));
        return;
      }
      const channel = this.#keys.channelOf(name);
      if (channel === null) return;
      if (isPresenceWire(text)) {
        this.presence.receive(channel, text);
        return;
      }
      const msg = decodeWire(channel, text);
      if (msg !== null) this.#seq?.push(msg.pub);
    });
    sub.on('ready', () => {
      if (this.#wasReady) {
        this.reconnects++;
        this.#seq?.resync();
      }
      this.#wasReady = true;
    });
    const deadline = this.#opts.connectTimeoutMs ?? 10_000;
    // A failed first attempt is retried like any later one, until the deadline.
    cmd.connect().catch(() => undefined);
    sub.connect().catch(() => undefined);
    try {
      await withDeadline(
        Promise.all([whenReady(cmd), whenReady(sub)]),
        deadline,
        `no connection within ${deadline} ms`,
      );
    } catch (err) {
      cmd.disconnect();
      sub.disconnect();
      throw new Error(`redis engine: cannot reach ${redactUrl(this.#opts.url)}: ${(err as Error).message}`);
    }
  }

  async subscribe(channel: string): Promise<void> {
    let p = this.#subs.get(channel);
    if (p !== undefined) return p;
    const sub = this.#sub;
    const seq = this.#seq;
    if (sub === null || seq === null || sub.status !== 'ready') {
      throw new HoldfastError('unavailable', 'The engine is not reachable.');
    }
    seq.track(channel);
    p = (async () => {
      await sub.subscribe(this.#keys.pubsub(channel));
      const pos = await this.read(channel, { limit: 0 });
      seq.position(channel, pos);
    })();
    this.#subs.set(channel, p);
    p.catch(() => {
      if (this.#subs.get(channel) !== p) return;
      this.#subs.delete(channel);
      seq.untrack(channel);
      sub.unsubscribe(this.#keys.pubsub(channel)).catch(() => undefined);
    });
    return p;
  }

  async unsubscribe(channel: string): Promise<void> {
    if (!this.#subs.delete(channel)) return;
    this.#seq?.untrack(channel);
    await this.#sub?.unsubscribe(this.#keys.pubsub(channel));
  }

  async publish(channel: string, data: string): Promise<Publication> {
    const cmd = this.#ready();
    // Each publish carries its channel's limits (its namespace's): publish.lua trims to them.
    const limits = this.#limits.of(channel);
    const res = (await this.#publishScript.run(
      cmd,
      [this.#keys.meta(channel), this.#keys.stream(channel)],
      [
        newEpoch(),
        data,
        limits.size,
        limits.ttlMs,
        this.#opts.history.metaTtlMs,
        this.#keys.pubsub(channel),
        this.id,
      ],
    )) as [string, string, string];
    return { channel, epoch: res[0], offset: Number(res[1]), data, time: Number(res[2]) };
  }

  async read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    const cmd = this.#ready();
    const tag = await this.#tag(cmd);
    const h = this.#opts.history;
    const ttlMs = this.#limits.of(channel).ttlMs;
    const since = opts.since;
    const emptyAt = since === undefined ? null : emptyTime(since.epoch, tag);
    const res = (await this.#readScript.run(
      cmd,
      [this.#keys.meta(channel), this.#keys.stream(channel)],
      [since?.epoch ?? '', since?.offset ?? 0, opts.limit, ttlMs, h.metaTtlMs, emptyAt ?? ''],
    )) as string[];
    const epoch = res[0]!;
    if (epoch === '') {
      const pos = emptyPosition(since, tag, Number(res[3]), h.metaTtlMs);
      return { epoch: pos.epoch, offset: 0, publications: [] };
    }
    const publications: Publication[] = [];
    for (let i = 4; i + 2 < res.length; i += 3) {
      publications.push({
        channel,
        epoch,
        offset: Number(res[i]),
        time: Number(res[i + 1]),
        data: res[i + 2]!,
      });
    }
    const result: HistoryResult = { epoch, offset: Number(res[1]), publications };
    if (res[2] === '1') result.from = { epoch, offset: since!.offset };
    return result;
  }

  /**
   * This Redis's tag for empty positions (engines/empty.ts): one key under the prefix, made by
   * the first server that needs it. Read again after every reconnection, so that a Redis that
   * lost its data (and the tag with it) is told apart from the one that gave out older positions.
   */
  #tag(cmd: Redis): Promise<string> {
    if (this.#tagValue === null) {
      const key = this.#keys.tag();
      const p = cmd
        .set(key, newTag(), 'NX')
        .then(() => cmd.get(key))
        .then((v) => {
          if (v === null) throw new HoldfastError('unavailable', 'The engine lost its tag key.');
          return v;
        });
      this.#tagValue = p;
      p.catch(() => {
        if (this.#tagValue === p) this.#tagValue = null;
      });
    }
    return this.#tagValue;
  }

  #ready(): Redis {
    const cmd = this.#cmd;
    if (cmd === null || cmd.status !== 'ready') {
      throw new HoldfastError('unavailable', 'The engine is not reachable.');
    }
    return cmd;
  }

  ready(): boolean {
    return this.#cmd?.status === 'ready' && this.#sub?.status === 'ready';
  }

  async close(): Promise<void> {
    await this.presence.close();
    this.#seq = null;
    this.control.stop();
    this.#subs.clear();
    const clients = [this.#cmd, this.#sub];
    this.#cmd = null;
    this.#sub = null;
    for (const c of clients) c?.disconnect();
  }
}

/** Resolves on the client's next 'ready' (ioredis keeps retrying with back-off until then). */
function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => client.once('ready', () => resolve()));
}
