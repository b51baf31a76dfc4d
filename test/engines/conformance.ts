import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type Namespaces, parseNamespaces } from '../../src/config/namespaces.js';
import type { Publication } from '../../src/contract/stream.js';
import { emptyEpoch } from '../../src/engines/empty.js';
import type { Engine, HistoryStore } from '../../src/engines/types.js';

/**
 * The engine conformance suite (STYLE.md "One conformance suite per interface"): every engine
 * runs it through a factory. Engines without history skip the history tests and say why.
 */

/** History limits the suite asks a factory for (the engine's own options, engines/limits.ts). */
export interface EngineLimits {
  size: number;
  ttlMs: number;
  metaTtlMs: number;
  /** Namespaces whose historySize and historyTtl override size and ttlMs for their channels. */
  namespaces?: Namespaces | null;
}

export interface EngineFixture {
  engine: Engine;
  /**
   * How many per-channel records the engine's backend holds now (history streams in memory,
   * keys under the prefix in Redis, messages in the JetStream stream): what reads must not grow.
   */
  records?(): Promise<number>;
  cleanup(): Promise<void>;
}

export interface PeersFixture {
  /** Two engines sharing one backend, as two servers (or workers) would. */
  engines: [Engine, Engine];
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** Makes two engines that share one backend; without it, the multi-node tests are skipped. */
  makePeers?: (limits: EngineLimits) => Promise<PeersFixture>;
  /** Why the multi-node tests are skipped when there is no makePeers. */
  peersSkipReason?: string;
  /** Set when offsets come from history only, so peers without history number separately. */
  sharedOffsetsNeedHistory?: boolean;
  /** Set when the factory cannot run at all here (e.g. no broker): every test is skipped. */
  skip?: string | false;
}

export type EngineFactory = (limits: EngineLimits) => Promise<EngineFixture>;

export const DEFAULT_LIMITS: EngineLimits = { size: 100, ttlMs: 60_000, metaTtlMs: 120_000 };

/** Records what an engine hands to its handler. */
export class Received {
  readonly pubs: Publication[] = [];

  readonly handler = (p: Publication): void => {
    this.pubs.push(p);
  };

  on(channel: string): Publication[] {
    return this.pubs.filter((p) => p.channel === channel);
  }
}

/** Polls the async `check` until it is true or the deadline passes (then fails with `what`). */
export async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Polls `check` until it is true or the deadline passes (then fails with `what`). */
export async function eventually(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let counter = 0;
/** A channel name no other test uses. */
export function freshChannel(tag: string): string {
  counter++;
  return `conf:${tag}:${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A name without ":" (so in the default namespace) no other test uses. */
function freshName(tag: string): string {
  counter++;
  return `${tag}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Every publication `h` keeps of `channel` (read since the start of its epoch). */
async function kept(h: HistoryStore, channel: string): Promise<{ offset: number; kept: number[] }> {
  const top = await h.read(channel, { limit: 0 });
  const res = await h.read(channel, { since: { epoch: top.epoch, offset: 0 }, limit: 1000 });
  return { offset: res.offset, kept: offsets(res.publications) };
}

/**
 * The namespaces of the per-namespace tests, over server defaults of 5 publications for 60 s:
 * the default namespace keeps 3, `big` 8, `none` nothing, `short` 5 for 1 s, `inherit` the
 * server's defaults.
 */
const NS_DEFAULTS = { historySize: 5, historyTtl: 60 };
const NS_LIMITS: EngineLimits = {
  ...DEFAULT_LIMITS,
  size: NS_DEFAULTS.historySize,
  ttlMs: NS_DEFAULTS.historyTtl * 1000,
  namespaces: parseNamespaces(
    {
      '': { historySize: 3 },
      big: { historySize: 8 },
      none: { historySize: 0 },
      short: { historyTtl: 1 },
      inherit: {},
    },
    NS_DEFAULTS,
  ),
};

function offsets(pubs: readonly Publication[]): number[] {
  return pubs.map((p) => p.offset);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

export function runEngineConformance(
  name: string,
  makeEngine: EngineFactory,
  opts: ConformanceOptions = {},
): void {
  describe(`engine conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    let fx: EngineFixture;
    const got = new Received();

    before(async () => {
      fx = await makeEngine(DEFAULT_LIMITS);
      await fx.engine.pubsub.start(got.handler);
    });
    const skipIfNoHistory = (t: TestContext): boolean => {
      if (fx.engine.history !== null) return false;
      t.skip(`${name} keeps no history (history: null), so there is nothing to read`);
      return true;
    };
    after(async () => {
      await fx?.cleanup();
    });

    it('is ready once started', () => {
      assert.equal(fx.engine.ready(), true);
    });

    it('numbers each channel from 1, one by one, and resolves publish with the position', async () => {
      const a = freshChannel('num-a');
      const b = freshChannel('num-b');
      const p1 = await fx.engine.pubsub.publish(a, '{"n":1}');
      const p2 = await fx.engine.pubsub.publish(a, '{"n":2}');
      const q1 = await fx.engine.pubsub.publish(b, '"x"');
      const p3 = await fx.engine.pubsub.publish(a, '[3]');
      assert.deepEqual([p1.offset, p2.offset, p3.offset, q1.offset], [1, 2, 3, 1]);
      assert.equal(p1.channel, a);
      assert.equal(p1.data, '{"n":1}');
      assert.equal(q1.data, '"x"');
      assert.equal(typeof p1.epoch, 'string');
      assert.ok(p1.epoch.length > 0);
      assert.equal(p1.epoch, p3.epoch);
      assert.ok(Number.isFinite(p1.time) && p1.time > 0);
    });

    it('delivers subscribed channels to the handler and nothing else', async () => {
      const on = freshChannel('sub-on');
      const off = freshChannel('sub-off');
      await fx.engine.pubsub.subscribe(on);
      await fx.engine.pubsub.subscribe(on); // idempotent
      await fx.engine.pubsub.publish(off, '"no"');
      const sent = await fx.engine.pubsub.publish(on, '{"hello":"world|x"}');
      await eventually('the publication on the subscribed channel', () => got.on(on).length === 1);
      const p = got.on(on)[0]!;
      assert.deepEqual(
        { channel: p.channel, epoch: p.epoch, offset: p.offset, data: p.data },
        { channel: on, epoch: sent.epoch, offset: sent.offset, data: sent.data },
      );
      await fx.engine.pubsub.unsubscribe(on);
      await fx.engine.pubsub.publish(on, '"after"');
      // A later publication on a subscribed channel marks the point by which the other would be in.
      const mark = freshChannel('sub-mark');
      await fx.engine.pubsub.subscribe(mark);
      await fx.engine.pubsub.publish(mark, '"mark"');
      await eventually('the marker', () => got.on(mark).length === 1);
      await sleep(50);
      assert.equal(got.on(off).length, 0, 'never subscribed');
      assert.equal(got.on(on).length, 1, 'nothing after unsubscribe');
      await fx.engine.pubsub.unsubscribe(mark);
    });

    it('delivers a burst of concurrent publications once each, in offset order', async () => {
      const ch = freshChannel('burst');
      await fx.engine.pubsub.subscribe(ch);
      const n = 300;
      const sent = await Promise.all(range(1, n).map((i) => fx.engine.pubsub.publish(ch, String(i))));
      assert.deepEqual(
        offsets(sent).sort((x, y) => x - y),
        range(1, n),
      );
      await eventually(`${n} publications`, () => got.on(ch).length >= n);
      await sleep(50);
      assert.deepEqual(offsets(got.on(ch)), range(1, n));
      const dataAt = new Map(sent.map((p) => [p.offset, p.data]));
      for (const p of got.on(ch)) assert.equal(p.data, dataAt.get(p.offset));
      await fx.engine.pubsub.unsubscribe(ch);
    });

    describe('history', () => {
      const skipIfNone = (t: TestContext): boolean => {
        if (fx.engine.history !== null) return false;
        t.skip(`${name} keeps no history (history: null), so there is nothing to read`);
        return true;
      };

      it('reads since a position, at most limit, oldest first; another epoch gives nothing', async (t) => {
        if (skipIfNone(t)) return;
        const h = fx.engine.history!;
        const ch = freshChannel('hist');
        const empty = await h.read(ch, { limit: 10 });
        assert.equal(empty.offset, 0);
        assert.deepEqual(empty.publications, []);
        for (let i = 1; i <= 10; i++) await fx.engine.pubsub.publish(ch, `{"i":${i}}`);
        const top = await h.read(ch, { limit: 10 });
        assert.equal(top.offset, 10);
        assert.deepEqual(top.publications, [], 'no since: the position only');
        const mid = await h.read(ch, { since: { epoch: top.epoch, offset: 3 }, limit: 4 });
        assert.equal(mid.offset, 10);
        assert.deepEqual(offsets(mid.publications), [4, 5, 6, 7]);
        assert.deepEqual(
          mid.publications.map((p) => [p.channel, p.epoch, p.data]),
          [4, 5, 6, 7].map((i) => [ch, top.epoch, `{"i":${i}}`]),
        );
        const late = await h.read(ch, { since: { epoch: top.epoch, offset: 7 }, limit: 2 });
        assert.deepEqual(offsets(late.publications), [8, 9]);
        const all = await h.read(ch, { since: { epoch: top.epoch, offset: 0 }, limit: 100 });
        assert.deepEqual(offsets(all.publications), range(1, 10));
        const none = await h.read(ch, { since: { epoch: top.epoch, offset: 10 }, limit: 100 });
        assert.deepEqual(none.publications, []);
        const zero = await h.read(ch, { since: { epoch: top.epoch, offset: 2 }, limit: 0 });
        assert.deepEqual(zero.publications, []);
        const other = await h.read(ch, { since: { epoch: `x${top.epoch}`, offset: 3 }, limit: 100 });
        assert.equal(other.epoch, top.epoch);
        assert.equal(other.offset, 10);
        assert.deepEqual(other.publications, [], 'a position in another epoch is not continued');
      });

      it('keeps nothing for channels that are only read and followed, never published', async (t) => {
        if (skipIfNone(t)) return;
        if (fx.records === undefined) {
          t.skip(`the ${name} fixture cannot count the engine's records`);
          return;
        }
        const h = fx.engine.history!;
        const before = await fx.records();
        const names = range(1, 256).map((i) => freshChannel(`read-only-${i}`));
        for (let i = 0; i < names.length; i += 64) {
          await Promise.all(
            names.slice(i, i + 64).map(async (ch) => {
              const pos = await h.read(ch, { limit: 0 });
              assert.equal(pos.offset, 0);
              await h.read(ch, { since: { epoch: pos.epoch, offset: 0 }, limit: 100 });
              await h.read(ch, { since: { epoch: 'k3j9x2ab', offset: 7 }, limit: 100 });
              await fx.engine.pubsub.subscribe(ch);
              await fx.engine.pubsub.unsubscribe(ch);
            }),
          );
        }
        assert.equal(await fx.records(), before, 'no record for any of them');
        await fx.engine.pubsub.publish(names[0]!, '"first"');
        assert.ok((await fx.records()) > before, 'a publication does make one');
      });

      it('continues a position read before the first publication, and holds it until then', async (t) => {
        if (skipIfNone(t)) return;
        const h = fx.engine.history!;
        const ch = freshChannel('before-first');
        const empty = await h.read(ch, { limit: 10 });
        assert.deepEqual([empty.offset, empty.publications], [0, []]);
        const still = await h.read(ch, { since: { epoch: empty.epoch, offset: 0 }, limit: 10 });
        assert.deepEqual(
          [still.epoch, still.offset, still.publications],
          [empty.epoch, 0, []],
          'a client that comes back to an unpublished channel keeps its position',
        );
        const sent: Publication[] = [];
        for (let i = 1; i <= 4; i++) sent.push(await fx.engine.pubsub.publish(ch, String(i)));
        const epoch = sent[0]!.epoch;
        const all = await h.read(ch, { since: { epoch: empty.epoch, offset: 0 }, limit: 100 });
        assert.equal(all.epoch, epoch);
        assert.equal(all.offset, 4);
        assert.deepEqual(all.from, { epoch, offset: 0 }, 'read as the start of the new epoch');
        assert.deepEqual(offsets(all.publications), [1, 2, 3, 4]);
        assert.deepEqual(
          all.publications.map((p) => [p.epoch, p.data]),
          sent.map((p) => [epoch, p.data]),
        );
        // A WebSocket client keeps its subscribe reply's epoch and the offsets pushed after it.
        const later = await h.read(ch, { since: { epoch: empty.epoch, offset: 2 }, limit: 100 });
        assert.deepEqual(later.from, { epoch, offset: 2 });
        assert.deepEqual(offsets(later.publications), [3, 4]);
        const tag = empty.epoch.slice(1, 7);
        const otherTag = tag === 'aaaaaa' ? 'bbbbbb' : 'aaaaaa';
        const foreign = await h.read(ch, {
          since: { epoch: emptyEpoch(otherTag, Date.now()), offset: 0 },
          limit: 100,
        });
        assert.deepEqual(
          [foreign.from, foreign.publications],
          [undefined, []],
          "another store's is not continued",
        );
        const old = emptyEpoch(tag, Date.now() - DEFAULT_LIMITS.metaTtlMs - 60_000);
        const stale = await h.read(ch, { since: { epoch: old, offset: 0 }, limit: 100 });
        assert.deepEqual(
          [stale.from, stale.publications],
          [undefined, []],
          'older than metaTtl: another epoch may have come and gone since',
        );
      });

      it('delivers from offset 1 to a node that followed the channel before its first publication', async () => {
        const ch = freshChannel('follow-first');
        await fx.engine.pubsub.subscribe(ch);
        const sent = await Promise.all(range(1, 20).map((i) => fx.engine.pubsub.publish(ch, String(i))));
        await eventually('20 publications', () => got.on(ch).length >= 20);
        await sleep(50);
        assert.deepEqual(offsets(got.on(ch)), range(1, 20));
        assert.equal(new Set(got.on(ch).map((p) => p.epoch)).size, 1);
        assert.equal(got.on(ch)[0]!.epoch, sent[0]!.epoch);
        await fx.engine.pubsub.unsubscribe(ch);
      });

      it('keeps at most `size` publications per channel, dropping the oldest', async (t) => {
        if (skipIfNone(t)) return;
        const small = await makeEngine({ ...DEFAULT_LIMITS, size: 5 });
        try {
          await small.engine.pubsub.start(() => undefined);
          const ch = freshChannel('size');
          for (let i = 1; i <= 8; i++) await small.engine.pubsub.publish(ch, String(i));
          const top = await small.engine.history!.read(ch, { limit: 0 });
          const res = await small.engine.history!.read(ch, {
            since: { epoch: top.epoch, offset: 0 },
            limit: 100,
          });
          assert.equal(res.offset, 8);
          assert.deepEqual(offsets(res.publications), [4, 5, 6, 7, 8]);
          assert.deepEqual(
            res.publications.map((p) => p.data),
            ['4', '5', '6', '7', '8'],
          );
        } finally {
          await small.cleanup();
        }
      });

      it('drops publications older than the age limit but keeps the offset and epoch', async (t) => {
        if (skipIfNone(t)) return;
        const short = await makeEngine({ ...DEFAULT_LIMITS, ttlMs: 1000 });
        try {
          await short.engine.pubsub.start(() => undefined);
          const ch = freshChannel('age');
          const first = await short.engine.pubsub.publish(ch, '1');
          await short.engine.pubsub.publish(ch, '2');
          await sleep(1600);
          const third = await short.engine.pubsub.publish(ch, '3');
          assert.equal(third.offset, 3);
          assert.equal(third.epoch, first.epoch);
          const res = await short.engine.history!.read(ch, {
            since: { epoch: first.epoch, offset: 0 },
            limit: 100,
          });
          assert.equal(res.offset, 3);
          assert.deepEqual(offsets(res.publications), [3]);
        } finally {
          await short.cleanup();
        }
      });
    });

    describe('per-namespace history limits', () => {
      let ns: EngineFixture | null = null;

      before(async () => {
        ns = await makeEngine(NS_LIMITS);
        await ns.engine.pubsub.start(() => undefined);
      });
      after(async () => {
        await ns?.cleanup();
      });

      const history = (t: TestContext): HistoryStore | null => {
        if (ns!.engine.history !== null) return ns!.engine.history;
        t.skip(`${name} keeps no history (history: null), so there is nothing to limit`);
        return null;
      };

      it("keeps each namespace's historySize: its own, the default namespace's, or the server's", async (t) => {
        const h = history(t);
        if (h === null) return;
        const id = freshName('size');
        const channels = {
          plain: id,
          big: `big:${id}`,
          none: `none:${id}`,
          inherit: `inherit:${id}`,
          unconfigured: `nope:${id}`,
        };
        for (let i = 1; i <= 10; i++) {
          await Promise.all(Object.values(channels).map((ch) => ns!.engine.pubsub.publish(ch, String(i))));
        }
        assert.deepEqual(
          await kept(h, channels.plain),
          { offset: 10, kept: [8, 9, 10] },
          'default namespace',
        );
        assert.deepEqual(await kept(h, channels.big), { offset: 10, kept: [3, 4, 5, 6, 7, 8, 9, 10] });
        assert.deepEqual(
          await kept(h, channels.none),
          { offset: 10, kept: [] },
          'historySize 0: offsets only',
        );
        assert.deepEqual(
          await kept(h, channels.inherit),
          { offset: 10, kept: [6, 7, 8, 9, 10] },
          "a namespace without historySize has the server's",
        );
        assert.deepEqual(
          await kept(h, channels.unconfigured),
          { offset: 10, kept: [6, 7, 8, 9, 10] },
          "a channel in no configured namespace has the server's",
        );
      });

      it("drops publications older than their namespace's historyTtl, and only those", async (t) => {
        const h = history(t);
        if (h === null) return;
        const id = freshName('ttl');
        const short = `short:${id}`;
        const long = `big:${id}`;
        const first = await ns!.engine.pubsub.publish(short, '1');
        await ns!.engine.pubsub.publish(short, '2');
        await ns!.engine.pubsub.publish(long, '1');
        await ns!.engine.pubsub.publish(long, '2');
        assert.deepEqual((await kept(h, short)).kept, [1, 2], 'kept until its historyTtl');
        await until('the short namespace to drop its publications', async () => {
          return (await kept(h, short)).kept.length === 0;
        });
        assert.deepEqual(await kept(h, long), { offset: 2, kept: [1, 2] }, 'the long namespace keeps them');
        const third = await ns!.engine.pubsub.publish(short, '3');
        assert.deepEqual([third.epoch, third.offset], [first.epoch, 3], 'the epoch and offset outlive them');
        assert.deepEqual(await kept(h, short), { offset: 3, kept: [3] });
      });

      it("delivers a historySize 0 namespace's publications live, with consecutive offsets", async () => {
        const got = new Received();
        const peer = await makeEngine(NS_LIMITS);
        try {
          await peer.engine.pubsub.start(got.handler);
          const ch = `none:${freshName('live')}`;
          await peer.engine.pubsub.subscribe(ch);
          for (let i = 1; i <= 5; i++) await peer.engine.pubsub.publish(ch, String(i));
          await eventually('5 publications', () => got.on(ch).length >= 5);
          assert.deepEqual(offsets(got.on(ch)), [1, 2, 3, 4, 5]);
          assert.equal(new Set(got.on(ch).map((p) => p.epoch)).size, 1);
        } finally {
          await peer.cleanup();
        }
      });

      it("applies the server's limits to every channel without namespaces, prefix or not", async (t) => {
        if (skipIfNoHistory(t)) return;
        const plain = await makeEngine({ ...DEFAULT_LIMITS, size: 4 });
        try {
          await plain.engine.pubsub.start(() => undefined);
          const id = freshName('v1');
          const channels = [id, `big:${id}`, `none:${id}`];
          for (let i = 1; i <= 6; i++) {
            await Promise.all(channels.map((ch) => plain.engine.pubsub.publish(ch, String(i))));
          }
          for (const ch of channels) {
            assert.deepEqual(await kept(plain.engine.history!, ch), { offset: 6, kept: [3, 4, 5, 6] }, ch);
          }
        } finally {
          await plain.cleanup();
        }
      });
    });

    describe('two engines on one backend', () => {
      let peers: PeersFixture | null = null;
      const gotA = new Received();
      const gotB = new Received();

      before(async () => {
        if (opts.makePeers === undefined) return;
        peers = await opts.makePeers(DEFAULT_LIMITS);
        await peers.engines[0].pubsub.start(gotA.handler);
        await peers.engines[1].pubsub.start(gotB.handler);
      });
      after(async () => {
        await peers?.cleanup();
      });

      const skipIfAlone = (t: TestContext): boolean => {
        if (peers !== null) return false;
        t.skip(opts.peersSkipReason ?? `${name} has no shared backend`);
        return true;
      };

      it('gives concurrent publishers on both unique, consecutive offsets', async (t) => {
        if (skipIfAlone(t)) return;
        const [a, b] = peers!.engines;
        if (opts.sharedOffsetsNeedHistory === true && a.history === null) {
          t.skip('without history there is no shared counter: each node numbers its own publications');
          return;
        }
        const ch = freshChannel('peers-offsets');
        const n = 100;
        const sent = await Promise.all(
          range(1, n).map((i) => (i % 2 === 0 ? a : b).pubsub.publish(ch, String(i))),
        );
        assert.deepEqual(
          offsets(sent).sort((x, y) => x - y),
          range(1, n),
        );
        assert.equal(new Set(sent.map((p) => p.epoch)).size, 1, 'one epoch');
      });

      it('delivers every publication to both, once, in order', async (t) => {
        if (skipIfAlone(t)) return;
        const [a, b] = peers!.engines;
        const ch = freshChannel('peers-deliver');
        await a.pubsub.subscribe(ch);
        await b.pubsub.subscribe(ch);
        const n = 100;
        const sent: Publication[] = [];
        for (let i = 1; i <= n; i++) sent.push(await (i % 3 === 0 ? a : b).pubsub.publish(ch, String(i)));
        await eventually(
          'both engines to receive everything',
          () => gotA.on(ch).length >= n && gotB.on(ch).length >= n,
        );
        await sleep(50);
        const key = (p: Publication): string => `${p.epoch}/${p.offset}/${p.data}`;
        // Per epoch, in offset order; with history all publications share one epoch and sequence.
        const byEpoch = (pubs: Publication[]): Record<string, string[]> => {
          const out: Record<string, string[]> = {};
          for (const p of pubs) {
            const list = out[p.epoch] ?? [];
            list.push(key(p));
            out[p.epoch] = list;
          }
          return out;
        };
        for (const got of [gotA, gotB]) {
          assert.deepEqual(byEpoch(got.on(ch)), byEpoch(sent));
          if (a.history !== null) assert.deepEqual(got.on(ch).map(key), sent.map(key));
        }
        await a.pubsub.unsubscribe(ch);
        await b.pubsub.unsubscribe(ch);
      });

      it('delivers concurrent publications from both in offset order', async (t) => {
        if (skipIfAlone(t)) return;
        const [a, b] = peers!.engines;
        if (a.history === null) {
          t.skip('without history the offsets of two publishers are not one sequence');
          return;
        }
        const ch = freshChannel('peers-order');
        await a.pubsub.subscribe(ch);
        await b.pubsub.subscribe(ch);
        const n = 200;
        await Promise.all(range(1, n).map((i) => (i % 2 === 0 ? a : b).pubsub.publish(ch, String(i))));
        await eventually(
          'both engines to receive everything',
          () => gotA.on(ch).length >= n && gotB.on(ch).length >= n,
        );
        await sleep(50);
        assert.deepEqual(offsets(gotA.on(ch)), range(1, n));
        assert.deepEqual(offsets(gotB.on(ch)), range(1, n));
        await a.pubsub.unsubscribe(ch);
        await b.pubsub.unsubscribe(ch);
      });
    });
  });
}
