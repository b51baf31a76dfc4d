import type { Publication } from '../contract/stream.js';
import {
  type ChannelCount,
  type Port,
  PROTOCOL_VERSION,
  type ToPrimary,
  type ToWorker,
} from '../engines/cluster/protocol.js';
import { validControl } from '../engines/control.js';
import type { HistoryLimits } from '../engines/limits.js';
import { MemoryEngine } from '../engines/memory/engine.js';
import { PresenceTable } from '../engines/memory/presence-table.js';
import type { PresenceEvent } from '../engines/types.js';

/**
 * The primary's side of the cluster engine: it holds every channel's history (so a worker crash
 * loses nothing), assigns offsets, and forwards each publication only to the workers that
 * subscribed to its channel, batched per worker per turn of the event loop. It also holds every
 * worker's presence members, tagged with the worker, and routes join and leave events as it
 * routes publications; a worker that exits (detach) leaves every channel at once, with events.
 */
export class ClusterHub {
  readonly #store: MemoryEngine;
  readonly #workers = new Map<number, Port<ToPrimary, ToWorker>>();
  /** channel -> ids of workers with local subscribers */
  readonly #routes = new Map<string, Set<number>>();
  /** worker id -> channels it follows (to clean up when it dies) */
  readonly #follows = new Map<number, Set<string>>();
  readonly #outbox = new Map<number, Publication[]>();
  readonly #presence = new PresenceTable();
  readonly #presenceOutbox = new Map<number, PresenceEvent[]>();
  readonly #pendingChannels = new Map<
    number,
    { waiting: Set<number>; counts: Map<string, number>; reply: () => void }
  >();
  #flushQueued = false;
  #nextQuery = 1;
  publications = 0;

  constructor(limits: HistoryLimits) {
    this.#store = new MemoryEngine(limits);
    void this.#store.start(() => undefined);
  }

  /** Connects a worker; `onReady` is called when it reports listening. */
  attach(workerId: number, port: Port<ToPrimary, ToWorker>, onReady?: (port: number) => void): void {
    this.#workers.set(workerId, port);
    this.#follows.set(workerId, new Set());
    port.onMessage((msg) => {
      if (msg.t === 'ready') onReady?.(msg.port);
      else this.#onRequest(workerId, port, msg);
    });
  }

  /**
   * Forgets a worker that exited (however: SIGKILL too, node:cluster reports every exit): its
   * routes go, its presence members leave every channel with leave events, the history stays.
   */
  detach(workerId: number): void {
    for (const ch of this.#follows.get(workerId) ?? []) this.#unroute(workerId, ch);
    this.#follows.delete(workerId);
    this.#workers.delete(workerId);
    this.#outbox.delete(workerId);
    this.#presenceOutbox.delete(workerId);
    for (const { channel, member } of this.#presence.dropOwner(workerId)) {
      this.#routePresence({ op: 'leave', channel, member });
    }
    for (const [id, q] of this.#pendingChannels) {
      if (q.waiting.delete(workerId) && q.waiting.size === 0) {
        this.#pendingChannels.delete(id);
        q.reply();
      }
    }
  }

  /** The history the primary holds for every worker (MemoryEngine.historyChannels, historySlots). */
  get history(): { channels: number; slots: number } {
    return { channels: this.#store.historyChannels, slots: this.#store.historySlots };
  }

  /** Channels with presence members (any worker's). */
  get presenceChannels(): number {
    return this.#presence.channelCount;
  }

  get workerCount(): number {
    return this.#workers.size;
  }

  /** Tells every worker the primary's RSS, which their memory watermark counts too. */
  broadcastMemory(rss: number): void {
    for (const port of this.#workers.values())
      if (port.connected()) port.send({ v: PROTOCOL_VERSION, t: 'primary-memory', rss });
  }

  /** Tells every worker to drain (graceful shutdown). */
  broadcastDrain(): void {
    for (const port of this.#workers.values())
      if (port.connected()) port.send({ v: PROTOCOL_VERSION, t: 'drain' });
  }

  #onRequest(workerId: number, port: Port<ToPrimary, ToWorker>, msg: ToPrimary): void {
    const reply = (result: ToWorker & { t: 'res' }): void => {
      if (port.connected()) port.send(result);
    };
    switch (msg.t) {
      case 'sub': {
        let set = this.#routes.get(msg.ch);
        if (set === undefined) {
          set = new Set();
          this.#routes.set(msg.ch, set);
        }
        set.add(workerId);
        this.#follows.get(workerId)?.add(msg.ch);
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: null });
        return;
      }
      case 'unsub':
        this.#unroute(workerId, msg.ch);
        this.#follows.get(workerId)?.delete(msg.ch);
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: null });
        return;
      case 'pub': {
        const pub = this.#store.publishSync(msg.ch, msg.data);
        this.publications++;
        this.#route(pub);
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: pub });
        return;
      }
      case 'read': {
        const opts = msg.since === undefined ? { limit: msg.limit } : { since: msg.since, limit: msg.limit };
        // Flush routed publications first so the reply never overtakes a publication it omits.
        this.#flush();
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: this.#store.readSync(msg.ch, opts) });
        return;
      }
      case 'channels':
        this.#collectChannels((list) => reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: list }));
        return;
      case 'pjoin':
        if (this.#presence.join(msg.ch, msg.m, workerId)) {
          this.#routePresence({ op: 'join', channel: msg.ch, member: msg.m });
        }
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: null });
        return;
      case 'pleave': {
        const member = this.#presence.leave(msg.ch, msg.client, workerId);
        if (member !== undefined) this.#routePresence({ op: 'leave', channel: msg.ch, member });
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: null });
        return;
      }
      case 'pmembers':
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: this.#presence.members(msg.ch) });
        return;
      case 'pstats':
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: this.#presence.stats(msg.ch) });
        return;
      case 'pbusiest':
        reply({ v: PROTOCOL_VERSION, t: 'res', id: msg.id, result: this.#presence.busiest(msg.limit) });
        return;
      case 'control': {
        // Checked here too: one bad worker must not reach the others with it.
        const m = validControl(msg.m);
        if (m === null) return;
        for (const p of this.#workers.values())
          if (p.connected()) p.send({ v: PROTOCOL_VERSION, t: 'control', m });
        return;
      }
      case 'channels-local': {
        const q = this.#pendingChannels.get(msg.id);
        if (q === undefined) return;
        for (const c of msg.channels) q.counts.set(c.channel, (q.counts.get(c.channel) ?? 0) + c.subscribers);
        q.waiting.delete(workerId);
        if (q.waiting.size === 0) {
          this.#pendingChannels.delete(msg.id);
          q.reply();
        }
        return;
      }
    }
  }

  /** Asks every worker for its local channel counts and sums them. */
  #collectChannels(done: (list: ChannelCount[]) => void): void {
    const id = this.#nextQuery++;
    const counts = new Map<string, number>();
    const waiting = new Set(this.#workers.keys());
    const reply = (): void => {
      clearTimeout(timer);
      done([...counts].map(([channel, subscribers]) => ({ channel, subscribers })));
    };
    const timer = setTimeout(() => {
      if (this.#pendingChannels.delete(id)) reply();
    }, 2000);
    this.#pendingChannels.set(id, { waiting, counts, reply });
    for (const [wid, port] of this.#workers) {
      if (port.connected()) port.send({ v: PROTOCOL_VERSION, t: 'channels?', id });
      else waiting.delete(wid);
    }
    if (waiting.size === 0 && this.#pendingChannels.delete(id)) reply();
  }

  #unroute(workerId: number, ch: string): void {
    const set = this.#routes.get(ch);
    if (set === undefined) return;
    set.delete(workerId);
    if (set.size === 0) this.#routes.delete(ch);
  }

  #route(pub: Publication): void {
    const set = this.#routes.get(pub.channel);
    if (set === undefined) return;
    for (const wid of set) {
      let box = this.#outbox.get(wid);
      if (box === undefined) {
        box = [];
        this.#outbox.set(wid, box);
      }
      box.push(pub);
    }
    this.#queueFlush();
  }

  /** Queues a presence event for every worker following its channel (sent with #flush). */
  #routePresence(ev: PresenceEvent): void {
    const set = this.#routes.get(ev.channel);
    if (set === undefined) return;
    for (const wid of set) {
      let box = this.#presenceOutbox.get(wid);
      if (box === undefined) {
        box = [];
        this.#presenceOutbox.set(wid, box);
      }
      box.push(ev);
    }
    this.#queueFlush();
  }

  #queueFlush(): void {
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    for (const [wid, pubs] of this.#outbox) {
      const port = this.#workers.get(wid);
      if (port?.connected()) port.send({ v: PROTOCOL_VERSION, t: 'msgs', pubs });
    }
    this.#outbox.clear();
    for (const [wid, evs] of this.#presenceOutbox) {
      const port = this.#workers.get(wid);
      if (port?.connected()) port.send({ v: PROTOCOL_VERSION, t: 'presence', evs });
    }
    this.#presenceOutbox.clear();
  }

  async close(): Promise<void> {
    await this.#store.close();
  }
}
