import { HoldfastError } from '../../contract/codes.js';
import type { Publication } from '../../contract/stream.js';
import { ControlRelay } from '../control.js';
import type {
  Engine,
  HistoryReadOptions,
  HistoryResult,
  HistoryStore,
  PresenceEvent,
  PublicationHandler,
  PubSub,
} from '../types.js';
import { ClusterPresence } from './presence.js';
import {
  type ChannelCount,
  isToWorker,
  type Port,
  PROTOCOL_VERSION,
  type ToPrimary,
  type ToWorker,
  type WorkerRequest,
} from './protocol.js';

/** How long a worker waits for the primary before failing a request (every wait has a deadline). */
const REQUEST_TIMEOUT_MS = 5000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The worker's side of the cluster engine (contracts: engines/types.ts). The primary
 * (cluster/hub.ts) owns offsets and history; this engine forwards requests over IPC and hands
 * routed publications to the Node's handler.
 */
export class ClusterEngine implements Engine, PubSub, HistoryStore {
  readonly name = 'cluster';
  readonly pubsub = this;
  readonly history = this;
  readonly presence: ClusterPresence;
  /** Through the primary, which relays each message to every worker (cluster/hub.ts). */
  readonly control: ControlRelay;
  readonly #port: Port<ToWorker, ToPrimary>;
  readonly #workerId: number;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #handler: PublicationHandler | null = null;
  /** Answers the primary's request for this worker's channel counts. */
  localChannels: () => ChannelCount[] = () => [];

  constructor(port: Port<ToWorker, ToPrimary>, workerId: number) {
    this.#port = port;
    this.#workerId = workerId;
    this.presence = new ClusterPresence((req) => this.#request(req));
    this.control = new ControlRelay({
      listen: async () => undefined,
      send: async (m) => {
        if (!port.connected()) throw new HoldfastError('unavailable', 'The primary is not reachable.');
        port.send({ v: PROTOCOL_VERSION, from: workerId, t: 'control', m });
      },
    });
    port.onMessage((msg) => this.#onMessage(msg));
  }

  #onMessage(msg: ToWorker): void {
    if (!isToWorker(msg)) return;
    switch (msg.t) {
      case 'msgs':
        // On the next turn: an acknowledgement read from the same IPC chunk (a publish answered
        // by the primary just before it routed the publication here) then completes its HTTP
        // answer first, instead of waiting behind the fan-out to every local subscriber (with
        // 14,000 subscribers per worker the publish API had answered in ~1.5 s; the change's own
        // effect was not measured apart). Order is kept: setImmediate callbacks run first in,
        // first out.
        setImmediate(deliverRouted, this, msg.pubs);
        return;
      case 'presence':
        // Behind the publications routed before them (setImmediate runs first in, first out).
        setImmediate(deliverPresence, this.presence, msg.evs);
        return;
      case 'res': {
        const p = this.#pending.get(msg.id);
        if (p === undefined) return;
        this.#pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.result);
        return;
      }
      case 'channels?':
        this.#port.send({
          v: PROTOCOL_VERSION,
          from: this.#workerId,
          t: 'channels-local',
          id: msg.id,
          channels: this.localChannels(),
        });
        return;
      case 'control':
        this.control.receive(msg.m);
        return;
      case 'drain':
      case 'primary-memory':
        return; // handled by the worker process (cluster/worker.ts)
    }
  }

  /** Hands routed publications to the Node, in order. */
  deliver(pubs: Publication[]): void {
    if (this.#handler !== null) for (const pub of pubs) this.#handler(pub);
  }

  #request<T>(req: WorkerRequest): Promise<T> {
    if (!this.#port.connected()) return Promise.reject(new Error('primary unreachable'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`primary did not answer ${req.t} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#port.send({ v: PROTOCOL_VERSION, from: this.#workerId, id, ...req } as ToPrimary);
    });
  }

  async start(handler: PublicationHandler): Promise<void> {
    this.#handler = handler;
  }

  async subscribe(channel: string): Promise<void> {
    await this.#request({ t: 'sub', ch: channel });
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.#request({ t: 'unsub', ch: channel });
  }

  publish(channel: string, data: string): Promise<Publication> {
    return this.#request<Publication>({ t: 'pub', ch: channel, data });
  }

  read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    const req: WorkerRequest =
      opts.since === undefined
        ? { t: 'read', ch: channel, limit: opts.limit }
        : { t: 'read', ch: channel, since: opts.since, limit: opts.limit };
    return this.#request<HistoryResult>(req);
  }

  /** Channel counts summed over every worker. */
  clusterChannels(): Promise<ChannelCount[]> {
    return this.#request<ChannelCount[]>({ t: 'channels' });
  }

  ready(): boolean {
    return this.#port.connected();
  }

  async close(): Promise<void> {
    this.#handler = null;
    await this.presence.close();
    this.control.stop();
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('engine closed'));
    }
    this.#pending.clear();
  }
}

/** In-process connected ports, serializing every message as IPC does (for tests). */
export function portPair<A, B>(): [Port<A, B>, Port<B, A>] {
  const handlers: [((m: A) => void)[], ((m: B) => void)[]] = [[], []];
  const open = true;
  const deliver = <T>(list: ((m: T) => void)[], msg: T): void => {
    const copy = JSON.parse(JSON.stringify(msg)) as T;
    setImmediate(() => {
      if (open) for (const h of list) h(copy);
    });
  };
  const left: Port<A, B> = {
    send: (m) => deliver(handlers[1], m),
    onMessage: (h) => handlers[0].push(h),
    connected: () => open,
  };
  const right: Port<B, A> = {
    send: (m) => deliver(handlers[0], m),
    onMessage: (h) => handlers[1].push(h),
    connected: () => open,
  };
  return [left, right];
}

function deliverPresence(presence: ClusterPresence, evs: PresenceEvent[]): void {
  presence.deliver(evs);
}

function deliverRouted(engine: ClusterEngine, pubs: Publication[]): void {
  engine.deliver(pubs);
}
