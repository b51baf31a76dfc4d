import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HoldfastError } from '../../contract/codes.js';
import { decodePresenceWire, memberJson, parseMember } from '../presence-wire.js';
import type { PresenceCount, PresenceHandler, PresenceMember, PresenceStore } from '../types.js';
import { Script } from './script.js';
import { loadPresenceScripts } from './scripts.js';

export interface RedisPresenceOptions {
  prefix: string;
  /** A node not heard of for this long is reaped by any other (`presenceTimeout`). */
  timeoutMs: number;
  /** The engine's command connection (null while it has none). */
  client(): Redis | null;
}

/** Members a reap run removes at most (keeps each script run short). */
const REAP_BATCH = 1000;
/** How long close() waits for joins and leaves in flight. */
const CLOSE_WAIT_MS = 2000;

/**
 * Presence in Redis (contracts: engines/types.ts; keys and events: presence-common.lua). Each
 * process is one node with a random id, registered with heartbeats in Redis time; every node
 * runs one timer that heartbeats and reaps, every third of presenceTimeout. A node not heard of
 * for its own presenceTimeout (each heartbeat files its deadline, so servers may differ) is
 * reaped by the first other node whose timer runs after that (one script run takes it out of
 * the registry, so one reaper wins), which removes its members with leave events. Bound: a dead node's members leave within presenceTimeout + one reap interval after
 * its last heartbeat, as long as another node runs; a node with more than REAP_BATCH members
 * takes one more reap run (of any live node) per REAP_BATCH.
 * Events travel on the channel's pub/sub channel (presence-wire.ts), so only nodes following
 * the channel get them, in the order Redis ran the scripts. A leave waits for a join of the
 * same member still in flight (a join's script may be retried after NOSCRIPT, which would let
 * the leave overtake it).
 * A node that finds itself unregistered (reaped while alive, or Redis lost its data) takes a
 * new id and joins its members again; the members it holds are kept here for that.
 */
export class RedisPresence implements PresenceStore {
  readonly #opts: RedisPresenceOptions;
  readonly #join: Script;
  readonly #leave: Script;
  readonly #heartbeat: Script;
  readonly #reap: Script;
  readonly #intervalMs: number;
  /** This node's members: channel -> client -> member. */
  readonly #local = new Map<string, Map<string, PresenceMember>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Joins not settled yet, by channel NUL client: a leave of the member waits for it. */
  readonly #joining = new Map<string, Promise<void>>();
  /**
   * Leaves that failed (Redis unreachable), by channel NUL client -> channel: retried on each
   * tick until made. This node stays alive and heartbeating, so no reap would ever remove them.
   */
  readonly #owed = new Map<string, string>();
  /**
   * Joins that failed (Redis unreachable) of members still here, by channel NUL client: retried
   * on each tick until made. An outage shorter than presenceTimeout brings no re-registration,
   * which would otherwise be what joins them again.
   */
  readonly #owedJoins = new Map<string, { channel: string; member: PresenceMember }>();
  #node = newNodeId();
  #registered: Promise<void> | null = null;
  #renewing = false;
  #handler: PresenceHandler | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;
  /**
   * Since when this node's heartbeats have succeeded without a break (0: the last one failed).
   * It reaps only after one interval of that: after an outage of Redis, every live node has
   * heartbeated again by then, so none is taken for dead because nobody could reach Redis.
   */
  #healthySince = 0;

  constructor(opts: RedisPresenceOptions) {
    this.#opts = opts;
    const s = loadPresenceScripts();
    this.#join = new Script(s.join);
    this.#leave = new Script(s.leave);
    this.#heartbeat = new Script(s.heartbeat);
    this.#reap = new Script(s.reap);
    this.#intervalMs = Math.max(100, Math.floor(opts.timeoutMs / 3));
  }

  /** This node's id in the registry (changes when it had been reaped). */
  get node(): string {
    return this.#node;
  }

  /** Milliseconds between heartbeats, which is also the reap interval. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  async start(handler: PresenceHandler): Promise<void> {
    this.#handler = handler;
    await this.#register();
    this.#healthySince = Date.now();
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** A message on a channel's pub/sub channel that is a presence event (engine.ts routes it). */
  receive(channel: string, text: string): void {
    const ev = decodePresenceWire(channel, text);
    if (ev !== null) this.#handler?.(ev);
  }

  join(channel: string, member: PresenceMember): Promise<void> {
    let clients = this.#local.get(channel);
    if (clients === undefined) {
      clients = new Map();
      this.#local.set(channel, clients);
    }
    clients.set(member.client, member);
    const key = channel + '\0' + member.client;
    // Joined again before an owed leave ran: the member stays (the join script changes nothing).
    this.#owed.delete(key);
    const p = this.#track(this.#runJoin(channel, member));
    this.#joining.set(key, p);
    p.finally(() => {
      if (this.#joining.get(key) === p) this.#joining.delete(key);
    }).catch(() => {
      if (this.#local.get(channel)?.get(member.client) === member)
        this.#owedJoins.set(key, { channel, member });
    });
    return p;
  }

  async #runJoin(channel: string, member: PresenceMember): Promise<void> {
    const cmd = this.#cmd();
    const args = [this.#opts.prefix, this.#node, channel, member.client, member.user, memberJson(member)];
    const res = (await this.#join.run(cmd, [], args)) as number;
    if (res === -1) await this.#reregister();
  }

  leave(channel: string, client: string): Promise<void> {
    const clients = this.#local.get(channel);
    if (clients?.delete(client) && clients.size === 0) this.#local.delete(channel);
    this.#owedJoins.delete(channel + '\0' + client);
    const p = this.#track(this.#runLeave(channel, client));
    p.catch(() => {
      if (this.#local.get(channel)?.has(client) !== true) this.#owed.set(channel + '\0' + client, channel);
    });
    return p;
  }

  /** Runs the joins that failed earlier (#owedJoins) of members still here. */
  async #payOwedJoins(): Promise<void> {
    for (const [key, { channel, member }] of [...this.#owedJoins]) {
      if (this.#owedJoins.get(key)?.member !== member) continue; // left meanwhile
      // Filed as a join in flight: a leave meanwhile waits for it (see join).
      const p = this.#runJoin(channel, member);
      this.#joining.set(key, p);
      try {
        await p;
      } finally {
        if (this.#joining.get(key) === p) this.#joining.delete(key);
      }
      if (this.#owedJoins.get(key)?.member === member) this.#owedJoins.delete(key);
    }
  }

  /** Runs the leaves that failed earlier (#owed); one still failing stays owed. */
  async #payOwed(): Promise<void> {
    for (const [key, channel] of [...this.#owed]) {
      if (!this.#owed.has(key)) continue; // joined again meanwhile
      await this.#leave.run(this.#cmd(), [], [this.#opts.prefix, channel, key.slice(channel.length + 1)]);
      this.#owed.delete(key);
    }
  }

  async #runLeave(channel: string, client: string): Promise<void> {
    await this.#joining.get(channel + '\0' + client)?.catch(() => undefined);
    await this.#leave.run(this.#cmd(), [], [this.#opts.prefix, channel, client]);
  }

  async members(channel: string): Promise<PresenceMember[]> {
    const values = await this.#cmd().hvals(`${this.#opts.prefix}:{${channel}}:pm`);
    const out: PresenceMember[] = [];
    for (const v of values) {
      const m = parseMember(v.slice(v.indexOf('|') + 1));
      if (m !== null) out.push(m);
    }
    return out;
  }

  async stats(channel: string): Promise<{ clients: number; users: number }> {
    const p = this.#opts.prefix;
    const [clients, users] = await Promise.all([
      this.#cmd().hlen(`${p}:{${channel}}:pm`),
      this.#cmd().hlen(`${p}:{${channel}}:pu`),
    ]);
    return { clients, users };
  }

  /** From the sorted set of member counts the scripts keep (P:pc): one ZREVRANGE. */
  async busiest(limit: number): Promise<PresenceCount[]> {
    if (limit <= 0) return [];
    const flat = await this.#cmd().zrevrange(`${this.#opts.prefix}:pc`, 0, limit - 1, 'WITHSCORES');
    const out: PresenceCount[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ channel: flat[i]!, clients: Number(flat[i + 1]) });
    return out;
  }

  /**
   * Stops the timer after the joins and leaves in flight (a graceful drain leaves every member
   * before the engine closes). A node closed with members left keeps them in Redis until
   * another node reaps it: the same as a killed process.
   */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#inFlight.size > 0) {
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        new Promise((r) => setTimeout(r, CLOSE_WAIT_MS).unref()),
      ]);
    }
    const cmd = this.#opts.client();
    if (this.#owed.size > 0) await this.#payOwed().catch(() => undefined);
    // Members left (or leaves still owed) stay registered under this node, for a reaper.
    if (this.#local.size === 0 && this.#owed.size === 0 && cmd?.status === 'ready') {
      await cmd.zrem(`${this.#opts.prefix}:pn`, this.#node).catch(() => undefined);
    }
    this.#handler = null;
  }

  /** Test seam: stop heartbeating and reaping, as a hung process would, leaving everything in place. */
  stopHeartbeat(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const cmd = this.#cmd();
      const alive = (await this.#heartbeat.run(
        cmd,
        [],
        [this.#opts.prefix, this.#node, '0', this.#opts.timeoutMs],
      )) as number;
      if (alive === 0) await this.#reregister();
      if (this.#owedJoins.size > 0) await this.#payOwedJoins();
      if (this.#owed.size > 0) await this.#payOwed();
      const now = Date.now();
      if (this.#healthySince === 0) this.#healthySince = now;
      if (now - this.#healthySince >= this.#intervalMs) {
        await this.#reap.run(cmd, [], [this.#opts.prefix, '', REAP_BATCH]);
      }
    } catch {
      // Redis unreachable: the next tick tries again (and finds out whether this node was reaped).
      this.#healthySince = 0;
    } finally {
      this.#ticking = false;
    }
  }

  #register(): Promise<void> {
    const p = (async () => {
      await this.#heartbeat.run(this.#cmd(), [], [this.#opts.prefix, this.#node, '1', this.#opts.timeoutMs]);
    })();
    this.#registered = p;
    return p;
  }

  /** Reaped (or Redis lost its data): a new id, registered, and every member of ours joined again. */
  #reregister(): Promise<void> {
    const pending = this.#registered;
    if (pending !== null && this.#renewing) return pending;
    this.#renewing = true;
    const p = (async () => {
      this.#node = newNodeId();
      await this.#register();
      for (const [channel, clients] of [...this.#local]) {
        for (const m of [...clients.values()]) {
          if (this.#local.get(channel)?.get(m.client) !== m) continue;
          const args = [this.#opts.prefix, this.#node, channel, m.client, m.user, memberJson(m)];
          await this.#join.run(this.#cmd(), [], args);
          // Left while this join was on its way: leave again, after it.
          if (this.#local.get(channel)?.get(m.client) !== m) {
            await this.#leave.run(this.#cmd(), [], [this.#opts.prefix, channel, m.client]);
          }
        }
      }
    })();
    this.#registered = p;
    p.finally(() => {
      this.#renewing = false;
    }).catch(() => undefined);
    return p;
  }

  #track<T>(p: Promise<T>): Promise<void> {
    const done = p.then(() => undefined);
    this.#inFlight.add(done);
    done.finally(() => this.#inFlight.delete(done)).catch(() => undefined);
    return done;
  }

  #cmd(): Redis {
    const cmd = this.#opts.client();
    if (cmd === null || cmd.status !== 'ready') {
      throw new HoldfastError('unavailable', 'The engine is not reachable.');
    }
    return cmd;
  }
}

function newNodeId(): string {
  return randomBytes(8).toString('hex');
}
