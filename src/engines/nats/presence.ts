import { randomBytes } from 'node:crypto';
import type { JetStreamManager, KV, KvEntry, NatsConnection } from 'nats';
import { HoldfastError } from '../../contract/codes.js';
import { decodePresenceWire, encodePresenceWire, memberJson, parseMember } from '../presence-wire.js';
import type { PresenceCount, PresenceHandler, PresenceMember, PresenceStore } from '../types.js';

export interface NatsPresenceOptions {
  prefix: string;
  /** A node not heard of for this long is reaped by any other (`presenceTimeout`). */
  timeoutMs: number;
  /** The subject carrying a channel's publications (NatsSubjects.pubsub): events go there too. */
  subject(channel: string): string;
}

/** How long close() waits for joins and leaves in flight. */
const CLOSE_WAIT_MS = 2000;
const REAPING = 'reaping';
/** presenceTimeout's largest value (config.ts), in ms. */
const MAX_TIMEOUT_MS = 3_600_000;

interface Local {
  member: PresenceMember;
  key: string;
  /** The KV revision (stream sequence) of the member's entry; 0 until its create is answered. */
  revision: number;
  /** The create in flight; a leave waits for it. */
  joined: Promise<void>;
}

/**
 * Presence in NATS (contracts: engines/types.ts), in a JetStream KV bucket (`<prefix>-presence`),
 * chosen over core NATS alone because core NATS keeps nothing: a dead node's members would have
 * to be known by every other node (a replicated copy of every member, resynchronised on every
 * start) for anyone to send their leave events. The bucket holds:
 *   m.<channel b64>.<node>.<client b64>  a member's JSON, one entry each (the node in the key, so
 *                                        a channel's and a node's members are each one filter)
 *   n.<node>                             the node's heartbeat, updated by compare-and-set;
 *                                        its value is the node's own presenceTimeout (ms)
 * Entries are removed by deleting their stream message, not by KV deletes, which would leave
 * one marker per client id forever. Events go on the channel's core subject beside its
 * publications (presence-wire.ts), after the KV write; a leave waits for its join.
 * Every node watches `n.>` and runs one timer, every third of presenceTimeout: it heartbeats
 * (a failed compare-and-set means it was reaped: it takes a new id and joins its members
 * again once its old entries are gone) and reaps: a node whose entry has not changed for its
 * own presenceTimeout (servers may differ), by this node's clock, is claimed by compare-and-set (one reaper wins; the
 * claim is itself a change, so if that reaper dies another claims it a timeout later), its
 * members removed with leave events, then its entry. Bound: a dead node's members leave within
 * presenceTimeout + one reap interval after its last heartbeat reached the others.
 * members() and stats() read the channel's entries through a short-lived watch (O(members));
 * busiest() lists every member key (O(all members)): fine for the API, not for a hot path.
 */
export class NatsPresence implements PresenceStore {
  readonly #opts: NatsPresenceOptions;
  readonly #intervalMs: number;
  readonly #bucket: string;
  readonly #stream: string;
  /** This node's members: channel NUL client -> entry. */
  readonly #local = new Map<string, Local>();
  /**
   * Leaves whose entry could not be removed (NATS unreachable), by channel NUL client: retried on
   * each tick until made. This node stays alive and heartbeating, so no reap would remove them.
   */
  readonly #owed = new Map<string, Local>();
  /**
   * Members whose entry could not be created (NATS unreachable) and who are still here, by
   * channel NUL client: created on each tick until made (an outage shorter than presenceTimeout
   * brings no rejoin, which would otherwise create them).
   */
  readonly #owedJoins = new Map<string, Local>();
  /**
   * Other nodes as the registry watch saw them: node -> revision, when it was seen (ms), and its
   * own presenceTimeout (the value of its entry: servers may differ).
   */
  readonly #nodes = new Map<string, { revision: number; seen: number; timeoutMs: number }>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #nc: NatsConnection | null = null;
  #kv: KV | null = null;
  #jsm: JetStreamManager | null = null;
  #node = newNodeId();
  #revision = 0;
  #handler: PresenceHandler | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;
  /**
   * Since when this node's heartbeats have succeeded without a break (0: the last one failed).
   * It reaps only after one interval of that: after an outage of NATS, every live node's
   * heartbeat has reached the watch again by then, so none is taken for dead for the outage.
   */
  #healthySince = 0;
  #stopWatch: (() => void) | null = null;

  constructor(opts: NatsPresenceOptions) {
    this.#opts = opts;
    this.#intervalMs = Math.max(100, Math.floor(opts.timeoutMs / 3));
    this.#bucket = `${opts.prefix}-presence`;
    this.#stream = `KV_${this.#bucket}`;
  }

  /** This node's id in the registry (changes when it had been reaped). */
  get node(): string {
    return this.#node;
  }

  /** Given by the engine once connected; start() needs it. */
  connect(nc: NatsConnection): void {
    this.#nc = nc;
  }

  async start(handler: PresenceHandler): Promise<void> {
    const nc = this.#nc;
    if (nc === null) throw new Error('nats presence: the engine is not connected');
    try {
      this.#jsm = await nc.jetstreamManager();
      this.#kv = await nc.jetstream().views.kv(this.#bucket, { history: 1 });
    } catch (err) {
      throw new Error(
        `nats engine: presence needs JetStream (${(err as Error).message}); run nats-server with -js`,
      );
    }
    this.#handler = handler;
    await this.#watchNodes(this.#kv);
    this.#revision = await this.#kv.create(`n.${this.#node}`, String(this.#opts.timeoutMs));
    this.#healthySince = Date.now();
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** A message on a channel's subject that is a presence event (engine.ts routes it). */
  receive(channel: string, text: string): void {
    const ev = decodePresenceWire(channel, text);
    if (ev !== null) this.#handler?.(ev);
  }

  join(channel: string, member: PresenceMember): Promise<void> {
    const id = channel + '\0' + member.client;
    if (this.#local.has(id)) return Promise.resolve();
    const owed = this.#owed.get(id);
    if (owed !== undefined) {
      // Joined again before its owed leave ran: its entry is still there, and stays.
      this.#owed.delete(id);
      this.#local.set(id, owed);
      return Promise.resolve();
    }
    const key = this.#memberKey(channel, member.client);
    const local: Local = { member, key, revision: 0, joined: Promise.resolve() };
    this.#local.set(id, local);
    local.joined = this.#track(this.#create(channel, local, true));
    local.joined.catch(() => {
      if (this.#local.get(id) === local && local.revision === 0) this.#owedJoins.set(id, local);
    });
    return local.joined;
  }

  async #create(channel: string, local: Local, announce: boolean): Promise<void> {
    const kv = this.#store();
    try {
      local.revision = await kv.create(local.key, memberJson(local.member));
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
      // Already there: an earlier create of it whose answer was lost (the key holds this node's
      // id), so it was never announced. Its revision is what a leave removes.
      const entry = await kv.get(local.key);
      if (entry === null || entry.operation !== 'PUT') return;
      local.revision = entry.revision;
    }
    if (announce) this.#publish(channel, 'join', local.member);
  }

  leave(channel: string, client: string): Promise<void> {
    const id = channel + '\0' + client;
    const local = this.#local.get(id);
    if (local === undefined) return Promise.resolve();
    this.#local.delete(id);
    this.#owedJoins.delete(id);
    const p = this.#track(this.#remove(channel, local));
    p.catch(() => {
      if (!this.#local.has(id)) this.#owed.set(id, local);
    });
    return p;
  }

  /** Removes the member's entry, with its leave event; throws when NATS could not be asked. */
  async #remove(channel: string, local: Local): Promise<void> {
    await local.joined.catch(() => undefined);
    if (local.revision === 0) return;
    let erased: boolean;
    try {
      erased = await this.#jsm!.streams.deleteMessage(this.#stream, local.revision, false);
    } catch (err) {
      if (!isNoMessage(err)) throw err;
      erased = false;
    }
    if (erased) this.#publish(channel, 'leave', local.member);
  }

  /** Creates the entries that failed earlier (#owedJoins) of members still here. */
  async #payOwedJoins(): Promise<void> {
    for (const [id, local] of [...this.#owedJoins]) {
      if (this.#local.get(id) !== local || local.revision !== 0) {
        this.#owedJoins.delete(id);
        continue;
      }
      // A leave meanwhile waits for this create (local.joined).
      local.joined = this.#track(this.#create(id.slice(0, id.indexOf('\0')), local, true));
      await local.joined;
      this.#owedJoins.delete(id);
    }
  }

  /** Runs the leaves that failed earlier (#owed); one still failing stays owed. */
  async #payOwed(): Promise<void> {
    for (const [id, local] of [...this.#owed]) {
      if (this.#owed.get(id) !== local) continue; // joined again meanwhile
      await this.#remove(id.slice(0, id.indexOf('\0')), local);
      if (this.#owed.get(id) === local) this.#owed.delete(id);
    }
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const entries = await this.#snapshot(`m.${b64(channel)}.>`);
    const out: PresenceMember[] = [];
    for (const e of entries) {
      const m = parseMember(e.string());
      if (m !== null) out.push(m);
    }
    return out;
  }

  async stats(channel: string): Promise<{ clients: number; users: number }> {
    const members = await this.members(channel);
    return { clients: members.length, users: new Set(members.map((m) => m.user)).size };
  }

  async busiest(limit: number): Promise<PresenceCount[]> {
    if (limit <= 0) return [];
    const counts = new Map<string, number>();
    for await (const key of await this.#store().keys('m.>')) {
      const token = key.split('.')[1];
      if (token !== undefined) counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    return [...counts]
      .map(([t, clients]) => ({ channel: Buffer.from(t, 'base64url').toString(), clients }))
      .sort((a, b) => b.clients - a.clients)
      .slice(0, limit);
  }

  /**
   * Stops the timer and the watch after the joins and leaves in flight. A node closed with
   * members left keeps them until another node reaps it: the same as a killed process. One
   * closed without members takes its registry entry out.
   */
  async close(): Promise<void> {
    this.stopHeartbeat();
    if (this.#inFlight.size > 0) {
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref()),
      ]);
    }
    if (this.#owed.size > 0) await this.#payOwed().catch(() => undefined);
    // Members left (or leaves still owed) stay under this node's entry, for a reaper.
    if (this.#local.size === 0 && this.#owed.size === 0 && this.#revision > 0)
      await this.#erase(this.#revision).catch(() => false);
    this.#stopWatch?.();
    this.#stopWatch = null;
    this.#handler = null;
  }

  /** Test seam: stop heartbeating and reaping, as a hung process would, leaving everything in place. */
  stopHeartbeat(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Test seam: start the timer again after stopHeartbeat. */
  resumeHeartbeat(): void {
    if (this.#timer !== null || this.#kv === null) return;
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#kv === null) return;
    this.#ticking = true;
    try {
      await this.#heartbeat(this.#kv);
      if (this.#owedJoins.size > 0) await this.#payOwedJoins();
      if (this.#owed.size > 0) await this.#payOwed();
      const now = Date.now();
      if (this.#healthySince === 0) this.#healthySince = now;
      if (now - this.#healthySince < this.#intervalMs) return;
      for (const [node, seen] of [...this.#nodes]) {
        if (node !== this.#node && now - seen.seen > seen.timeoutMs) {
          await this.#reap(this.#kv, node, seen.revision);
        }
      }
    } catch {
      // NATS unreachable: the next tick tries again.
      this.#healthySince = 0;
    } finally {
      this.#ticking = false;
    }
  }

  async #heartbeat(kv: KV): Promise<void> {
    try {
      this.#revision = await kv.update(`n.${this.#node}`, String(this.#opts.timeoutMs), this.#revision);
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
      await this.#rejoin(kv);
    }
  }

  /** This node was reaped while alive: a new id, and its members again once the old ones are gone. */
  async #rejoin(kv: KV): Promise<void> {
    const old = this.#node;
    this.#node = newNodeId();
    this.#revision = await kv.create(`n.${this.#node}`, String(this.#opts.timeoutMs));
    const end = Date.now() + this.#opts.timeoutMs * 2;
    while ((await this.#snapshot(`m.*.${old}.*`)).length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, this.#intervalMs));
    }
    for (const [id, local] of [...this.#local]) {
      const channel = id.slice(0, id.indexOf('\0'));
      local.key = this.#memberKey(channel, local.member.client);
      local.revision = 0;
      local.joined = this.#track(this.#create(channel, local, true));
      await local.joined.catch(() => undefined);
    }
  }

  /** Claims a silent node (one reaper wins the compare-and-set), removes its members, then it. */
  async #reap(kv: KV, node: string, revision: number): Promise<void> {
    let claim: number;
    try {
      claim = await kv.update(`n.${node}`, REAPING, revision);
    } catch (err) {
      if (!isWrongSequence(err)) throw err;
      // Changed since it was seen (alive, or claimed by another node): the watch tells more.
      if (this.#nodes.get(node)?.revision === revision) this.#nodes.delete(node);
      return;
    }
    for (const e of await this.#snapshot(`m.*.${node}.*`)) {
      const channel = Buffer.from(e.key.split('.')[1] ?? '', 'base64url').toString();
      const member = parseMember(e.string());
      if ((await this.#erase(e.revision)) && member !== null) this.#publish(channel, 'leave', member);
    }
    await this.#erase(claim);
    this.#nodes.delete(node);
  }

  /** Follows the registry: every node's latest revision, and when this node saw it change. */
  async #watchNodes(kv: KV): Promise<void> {
    const iter = await kv.watch({ key: 'n.>' });
    this.#stopWatch = () => iter.stop();
    void (async () => {
      for await (const e of iter) {
        const node = e.key.slice(2);
        if (e.operation !== 'PUT') this.#nodes.delete(node);
        else
          this.#nodes.set(node, {
            revision: e.revision,
            seen: Date.now(),
            timeoutMs: this.#timeoutOf(e.string()),
          });
      }
    })().catch(() => undefined);
  }

  /** A registry entry's timeout (its node's presenceTimeout, ms); this node's own for a claim. */
  #timeoutOf(value: string): number {
    const ms = Number(value);
    return Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_TIMEOUT_MS ? ms : this.#opts.timeoutMs;
  }

  /** The current entries matching `filter` (a watch that stops once it has given them all). */
  async #snapshot(filter: string): Promise<KvEntry[]> {
    const kv = this.#store();
    const entries: KvEntry[] = [];
    let initialized = false;
    let stop: (() => void) | null = null;
    const iter = await kv.watch({
      key: filter,
      ignoreDeletes: true,
      initializedFn: () => {
        initialized = true;
        stop?.();
      },
    });
    stop = () => iter.stop();
    if (initialized) iter.stop();
    for await (const e of iter) {
      if (e.operation === 'PUT') entries.push(e);
    }
    return entries;
  }

  /** Deletes one stream message (an entry's revision); false when it was gone already. */
  async #erase(revision: number): Promise<boolean> {
    try {
      return await this.#jsm!.streams.deleteMessage(this.#stream, revision, false);
    } catch {
      return false;
    }
  }

  #publish(channel: string, op: 'join' | 'leave', member: PresenceMember): void {
    const nc = this.#nc;
    if (nc !== null && !nc.isClosed())
      nc.publish(this.#opts.subject(channel), encodePresenceWire(op, member));
  }

  #memberKey(channel: string, client: string): string {
    return `m.${b64(channel)}.${this.#node}.${b64(client)}`;
  }

  #track<T>(p: Promise<T>): Promise<void> {
    const done = p.then(() => undefined);
    this.#inFlight.add(done);
    done.finally(() => this.#inFlight.delete(done)).catch(() => undefined);
    return done;
  }

  #store(): KV {
    const kv = this.#kv;
    const nc = this.#nc;
    if (kv === null || nc === null || nc.isClosed()) {
      throw new HoldfastError('unavailable', 'The engine is not reachable.');
    }
    return kv;
  }
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64url');
}

function newNodeId(): string {
  return randomBytes(8).toString('hex');
}

/** JetStream's answer to deleting a message that is gone already (err_code 10057, "stream store EOF"). */
function isNoMessage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const api = (err as { api_error?: { err_code?: unknown } }).api_error;
  return api?.err_code === 10057 || /stream store eof|no message found/i.test(err.message);
}

/** JetStream's answer to a compare-and-set (create, update) on a changed entry. */
function isWrongSequence(err: unknown): boolean {
  return err instanceof Error && /wrong last sequence|key exists|10071/i.test(err.message);
}
