import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Engine, PresenceEvent, PresenceMember } from '../../src/engines/types.js';
import { eventually, freshChannel } from './conformance.js';

/**
 * The presence store conformance suite (STYLE.md "One conformance suite per interface"): every
 * engine's PresenceStore runs it through a factory of nodes sharing one backend. The death test
 * waits on the leave event, never on a clock: the store's own bound (presenceTimeout plus one
 * reap interval, docs/AUTH.md "Presence") is what makes it come.
 */

export interface PresenceNodes {
  /** Engines sharing one backend, as workers or servers would; not started. */
  engines: Engine[];
  /**
   * Makes node `i` die without leaving: its members stay in the backend and its heartbeat (or
   * IPC channel) stops, as when its process is killed.
   */
  kill(i: number): Promise<void>;
  cleanup(): Promise<void>;
}

export interface PresenceConformanceOptions {
  /** How many nodes the factory can make (1: single-process engines, multi-node tests skip). */
  maxNodes: number;
  /** Set when the factory cannot run here (e.g. no broker): every test is skipped. */
  skip?: string | false;
}

export type PresenceFactory = (nodes: number) => Promise<PresenceNodes>;

/** What one node's presence handler was given. */
export class Events {
  readonly all: PresenceEvent[] = [];

  readonly handler = (ev: PresenceEvent): void => {
    this.all.push(ev);
  };

  on(channel: string): string[] {
    return this.all.filter((e) => e.channel === channel).map((e) => `${e.op} ${e.member.client}`);
  }
}

interface Node {
  engine: Engine;
  events: Events;
}

async function startNodes(fx: PresenceNodes): Promise<Node[]> {
  const out: Node[] = [];
  for (const engine of fx.engines) {
    const events = new Events();
    await engine.pubsub.start(() => undefined);
    await engine.presence!.start(events.handler);
    out.push({ engine, events });
  }
  return out;
}

let clients = 0;
function member(user: string, info?: unknown): PresenceMember {
  clients++;
  const m: PresenceMember = {
    client: `c${process.pid}-${clients}-${Math.random().toString(36).slice(2, 6)}`,
    user,
  };
  if (info !== undefined) m.info = info;
  return m;
}

const byClient = (a: PresenceMember, b: PresenceMember): number => a.client.localeCompare(b.client);

export function runPresenceConformance(
  name: string,
  make: PresenceFactory,
  opts: PresenceConformanceOptions,
): void {
  const multi = opts.maxNodes >= 2 ? false : `${name} runs in one process: there is no other node`;

  describe(`presence conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    let fx: PresenceNodes;
    let nodes: Node[];
    before(async () => {
      fx = await make(1);
      nodes = await startNodes(fx);
    });
    after(async () => {
      await fx?.cleanup();
    });

    it('has a presence store', () => {
      assert.notEqual(nodes[0]!.engine.presence, null);
    });

    it('a join makes a member, with its user and info; a leave removes it', async () => {
      const p = nodes[0]!.engine.presence!;
      const ch = freshChannel('p-join');
      const m = member('u1', { name: 'Ada', tags: ['x'] });
      await p.join(ch, m);
      assert.deepEqual(await p.members(ch), [m]);
      assert.deepEqual(await p.stats(ch), { clients: 1, users: 1 });
      await p.leave(ch, m.client);
      assert.deepEqual(await p.members(ch), []);
      assert.deepEqual(await p.stats(ch), { clients: 0, users: 0 });
    });

    it('a member without info has none', async () => {
      const p = nodes[0]!.engine.presence!;
      const ch = freshChannel('p-noinfo');
      const m = member('u1');
      await p.join(ch, m);
      const got = await p.members(ch);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.info, undefined);
      assert.equal(got[0]!.user, 'u1');
      await p.leave(ch, m.client);
    });

    it('a member whose user or info holds a lone surrogate (valid JSON text, not UTF-8) leaves', async () => {
      // JSON.parse takes "\ud800" in a token's sub or info (a display name sent by a user);
      // Redis's Lua cjson refused to decode it, so the member's leave (and a reap) failed for good.
      const p = nodes[0]!.engine.presence!;
      const ch = freshChannel('p-surrogate');
      const m = member('u\ud800', { name: 'Ada\udc00', '\ud801': 1 });
      await p.join(ch, m);
      assert.equal((await p.members(ch)).length, 1);
      assert.deepEqual(await p.stats(ch), { clients: 1, users: 1 });
      await p.leave(ch, m.client);
      assert.deepEqual(await p.members(ch), []);
      assert.deepEqual(await p.stats(ch), { clients: 0, users: 0 });
    });

    it('joining twice and leaving twice change nothing and send one event each', async () => {
      const { engine, events } = nodes[0]!;
      const p = engine.presence!;
      const ch = freshChannel('p-idem');
      await engine.pubsub.subscribe(ch);
      const m = member('u1');
      await p.join(ch, m);
      await p.join(ch, m);
      assert.deepEqual(await p.stats(ch), { clients: 1, users: 1 });
      await p.leave(ch, m.client);
      await p.leave(ch, m.client);
      await p.leave(ch, 'never-joined');
      await eventually('the join and the leave', () => events.on(ch).length >= 2);
      // Anything more (a second join or leave) would come behind these, as this marker's join does.
      const marker = member('marker');
      await p.join(ch, marker);
      await eventually('the marker', () => events.on(ch).length >= 3);
      assert.deepEqual(events.on(ch), [`join ${m.client}`, `leave ${m.client}`, `join ${marker.client}`]);
      await p.leave(ch, marker.client);
    });

    it('counts connections and distinct users', async () => {
      const p = nodes[0]!.engine.presence!;
      const ch = freshChannel('p-stats');
      const a1 = member('alice');
      const a2 = member('alice');
      const b = member('bob');
      for (const m of [a1, a2, b]) await p.join(ch, m);
      assert.deepEqual(await p.stats(ch), { clients: 3, users: 2 });
      assert.deepEqual((await p.members(ch)).sort(byClient), [a1, a2, b].sort(byClient));
      await p.leave(ch, a1.client);
      assert.deepEqual(await p.stats(ch), { clients: 2, users: 2 });
      await p.leave(ch, a2.client);
      assert.deepEqual(await p.stats(ch), { clients: 1, users: 1 });
      await p.leave(ch, b.client);
    });

    it('keeps channels apart', async () => {
      const p = nodes[0]!.engine.presence!;
      const a = freshChannel('p-apart-a');
      const b = freshChannel('p-apart-b');
      const m = member('u');
      await p.join(a, m);
      assert.deepEqual(await p.members(b), []);
      assert.deepEqual(await p.stats(b), { clients: 0, users: 0 });
      await p.join(b, m);
      await p.leave(a, m.client);
      assert.deepEqual(await p.members(b), [m]);
      await p.leave(b, m.client);
    });

    it("a node following a channel gets its own members' join, then leave", async () => {
      const { engine, events } = nodes[0]!;
      const ch = freshChannel('p-own');
      await engine.pubsub.subscribe(ch);
      const m = member('u', { n: 1 });
      await engine.presence!.join(ch, m);
      await engine.presence!.leave(ch, m.client);
      await eventually('the join and the leave', () => events.on(ch).length === 2);
      assert.deepEqual(events.on(ch), [`join ${m.client}`, `leave ${m.client}`]);
      const join = events.all.find((e) => e.channel === ch && e.op === 'join')!;
      assert.deepEqual(join.member, m);
    });

    it('a leave called before its join resolved comes after the join', async () => {
      const { engine, events } = nodes[0]!;
      const p = engine.presence!;
      const ch = freshChannel('p-order');
      await engine.pubsub.subscribe(ch);
      const ms = [member('a'), member('b'), member('c')];
      const calls: Promise<void>[] = [];
      for (const m of ms) {
        calls.push(p.join(ch, m));
        calls.push(p.leave(ch, m.client));
      }
      await Promise.all(calls);
      assert.deepEqual(await p.members(ch), []);
      await eventually('three joins and three leaves', () => events.on(ch).length === 6);
      for (const m of ms) {
        const seen = events.on(ch).filter((e) => e.endsWith(` ${m.client}`));
        assert.deepEqual(seen, [`join ${m.client}`, `leave ${m.client}`]);
      }
    });

    it('names the busiest channels, the most members first', async () => {
      const p = nodes[0]!.engine.presence!;
      const tag = freshChannel('p-busy');
      const chans = [`${tag}-1`, `${tag}-3`, `${tag}-2`];
      const joined: [string, string][] = [];
      for (const ch of chans) {
        const n = Number(ch.slice(-1)) + 100;
        for (let i = 0; i < n; i++) {
          const m = member(`u${i}`);
          joined.push([ch, m.client]);
          await p.join(ch, m);
        }
      }
      const top = (await p.busiest(2)).filter((c) => c.channel.startsWith(tag));
      assert.deepEqual(top, [
        { channel: `${tag}-3`, clients: 103 },
        { channel: `${tag}-2`, clients: 102 },
      ]);
      for (const [ch, client] of joined) await p.leave(ch, client);
      const after = (await p.busiest(10)).filter((c) => c.channel.startsWith(tag));
      assert.deepEqual(after, []);
    });
  });

  describe(`presence conformance: ${name}, several nodes`, { skip: opts.skip || multi }, () => {
    it("a node following the channel gets another node's joins and leaves, in order", async () => {
      const fx = await make(2);
      try {
        const [a, b] = await startNodes(fx);
        const ch = freshChannel('p-peer');
        await b!.engine.pubsub.subscribe(ch);
        const m1 = member('u1', { n: 1 });
        const m2 = member('u2');
        await a!.engine.presence!.join(ch, m1);
        await a!.engine.presence!.join(ch, m2);
        await a!.engine.presence!.leave(ch, m1.client);
        await eventually('two joins and a leave on the other node', () => b!.events.on(ch).length === 3);
        assert.deepEqual(b!.events.on(ch), [`join ${m1.client}`, `join ${m2.client}`, `leave ${m1.client}`]);
        const join = b!.events.all.find((e) => e.channel === ch)!;
        assert.deepEqual(join.member, m1);
      } finally {
        await fx.cleanup();
      }
    });

    it("both nodes see both nodes' members", async () => {
      const fx = await make(2);
      try {
        const [a, b] = await startNodes(fx);
        const ch = freshChannel('p-both');
        const ma = member('alice');
        const mb = member('bob');
        const mb2 = member('alice');
        await a!.engine.presence!.join(ch, ma);
        await b!.engine.presence!.join(ch, mb);
        await b!.engine.presence!.join(ch, mb2);
        const want = [ma, mb, mb2].sort(byClient);
        assert.deepEqual((await a!.engine.presence!.members(ch)).sort(byClient), want);
        assert.deepEqual((await b!.engine.presence!.members(ch)).sort(byClient), want);
        assert.deepEqual(await a!.engine.presence!.stats(ch), { clients: 3, users: 2 });
        const top = (await a!.engine.presence!.busiest(1000)).find((c) => c.channel === ch);
        assert.deepEqual(top, { channel: ch, clients: 3 });
      } finally {
        await fx.cleanup();
      }
    });

    it('a node that dies without leaving has its members removed, with leave events', async () => {
      const fx = await make(2);
      try {
        const [a, b] = await startNodes(fx);
        const ch = freshChannel('p-dead');
        const other = freshChannel('p-dead-other');
        await b!.engine.pubsub.subscribe(ch);
        const ma = member('alice', { x: 1 });
        const ma2 = member('carol');
        const mb = member('bob');
        await a!.engine.presence!.join(ch, ma);
        await a!.engine.presence!.join(other, ma2);
        await b!.engine.presence!.join(ch, mb);
        await eventually('the joins', () => b!.events.on(ch).length === 2);
        await fx.kill(0);
        // Within presenceTimeout plus one reap interval (the factory sets a short timeout).
        await eventually(
          'the dead node member leaves',
          () => b!.events.on(ch).includes(`leave ${ma.client}`),
          30_000,
        );
        assert.deepEqual(b!.events.on(ch), [`join ${ma.client}`, `join ${mb.client}`, `leave ${ma.client}`]);
        const leave = b!.events.all.find((e) => e.channel === ch && e.op === 'leave')!;
        assert.deepEqual(leave.member, ma);
        assert.deepEqual(await b!.engine.presence!.members(ch), [mb]);
        assert.deepEqual(await b!.engine.presence!.members(other), []);
        assert.deepEqual(await b!.engine.presence!.stats(ch), { clients: 1, users: 1 });
      } finally {
        await fx.cleanup();
      }
    });
  });
}
