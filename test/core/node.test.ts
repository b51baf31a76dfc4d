import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HoldfastError } from '../../src/contract/codes.js';
import { Node } from '../../src/core/node.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import type { HistoryReadOptions, HistoryResult } from '../../src/engines/types.js';
import { FakeSession } from '../helpers/fake.js';

const limits = { size: 100, ttlMs: 60_000, metaTtlMs: 600_000 };

/** A memory engine whose history reads wait until released, to land publications mid-read. */
class SlowReadEngine extends MemoryEngine {
  gate: Promise<void> = Promise.resolve();
  override async read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    const result = this.readSync(channel, opts);
    await this.gate;
    return result;
  }
}

async function setup(engine = new MemoryEngine(limits)) {
  const node = new Node(engine, { maxRecover: 100 });
  await node.start();
  return { node, engine };
}

test('live publications reach every subscriber once, encoded once', async () => {
  const { node } = await setup();
  const a = new FakeSession();
  const b = new FakeSession();
  node.attach(a);
  node.attach(b);
  await node.subscribe(a, 'news', undefined, () => undefined);
  await node.subscribe(b, 'news', undefined, () => undefined);
  await node.publish('news', '1');
  await node.publish('news', '2');
  assert.deepEqual(a.offsets('news'), [1, 2]);
  assert.deepEqual(b.offsets('news'), [1, 2]);
  assert.equal(a.fake.writes[0], b.fake.writes[0], 'the same Buffer goes to both');
});

test('resume: backlog then live, no gap and no duplicate when a publication lands during the read', async () => {
  const engine = new SlowReadEngine(limits);
  const { node } = await setup(engine);
  const first = await node.publish('news', '1');
  await node.publish('news', '2');
  await node.publish('news', '3');
  let release!: () => void;
  engine.gate = new Promise((r) => {
    release = r;
  });
  const s = new FakeSession();
  node.attach(s);
  const replies: unknown[] = [];
  const sub = node.subscribe(s, 'news', { epoch: first.epoch, offset: 1 }, (r) => replies.push(r));
  // The history read has taken 2..3; offsets 4 and 5 are published before it returns.
  await new Promise((r) => setImmediate(r));
  await node.publish('news', '4');
  await node.publish('news', '5');
  assert.deepEqual(s.offsets('news'), [], 'held back until the backlog is written');
  release();
  const result = await sub;
  assert.equal(result.recovered, true);
  assert.deepEqual(s.offsets('news'), [2, 3, 4, 5]);
  await node.publish('news', '6');
  assert.deepEqual(s.offsets('news'), [2, 3, 4, 5, 6]);
  assert.equal(replies.length, 1);
});

test('resume fails explicitly when the history no longer reaches back or the epoch changed', async () => {
  const { node } = await setup(new MemoryEngine({ ...limits, size: 3 }));
  let last = await node.publish('news', '0');
  for (let i = 1; i < 10; i++) last = await node.publish('news', String(i));
  const s = new FakeSession();
  node.attach(s);
  const r = await node.subscribe(s, 'news', { epoch: last.epoch, offset: 2 }, () => undefined);
  assert.equal(r.recovered, false);
  assert.equal(r.offset, 10);
  assert.deepEqual(s.offsets('news'), [], 'nothing partial is replayed');
  const t = new FakeSession();
  node.attach(t);
  const r2 = await node.subscribe(t, 'news', { epoch: 'zzzzzzzz', offset: 9 }, () => undefined);
  assert.equal(r2.recovered, false);
  const u = new FakeSession();
  node.attach(u);
  const r3 = await node.subscribe(u, 'news', { epoch: last.epoch, offset: 8 }, () => undefined);
  assert.equal(r3.recovered, true);
  assert.deepEqual(u.offsets('news'), [9, 10]);
});

test('unsubscribe and close stop delivery and empty the channel index', async () => {
  const { node } = await setup();
  const s = new FakeSession();
  node.attach(s);
  await node.subscribe(s, 'a', undefined, () => undefined);
  await node.subscribe(s, 'b', undefined, () => undefined);
  await assert.rejects(
    node.subscribe(s, 'a', undefined, () => undefined),
    /Already subscribed/,
  );
  node.unsubscribe(s, 'a');
  assert.throws(() => node.unsubscribe(s, 'a'), /Not subscribed/);
  await node.publish('a', '1');
  await node.publish('b', '1');
  assert.deepEqual(s.offsets('a'), []);
  assert.deepEqual(s.offsets('b'), [1]);
  s.close({ code: 1000, reason: 'normal', reconnect: false });
  assert.deepEqual(node.channels(), []);
  assert.equal(node.sessionCount, 0);
});

test('a slow consumer is disconnected without slowing the others', async () => {
  const { node } = await setup();
  const slow = new FakeSession(100);
  const fast = new FakeSession(100);
  node.attach(slow);
  node.attach(fast);
  await node.subscribe(slow, 'news', undefined, () => undefined);
  await node.subscribe(fast, 'news', undefined, () => undefined);
  slow.fake.queued = 101;
  await node.publish('news', '1');
  await node.publish('news', '2');
  assert.equal(slow.fake.closedWith?.code, 3001);
  assert.equal(slow.closed, true);
  assert.deepEqual(fast.offsets('news'), [1, 2]);
  assert.deepEqual(node.channels(), [{ channel: 'news', subscribers: 1 }]);
});

test('a gap in live offsets is refilled from history', async () => {
  const engine = new MemoryEngine(limits);
  const { node } = await setup(engine);
  const s = new FakeSession();
  node.attach(s);
  await node.subscribe(s, 'news', undefined, () => undefined);
  await node.publish('news', '1');
  // Offsets 2 and 3 bypass this node (as if a broker dropped them), 4 arrives live.
  await engine.unsubscribe('news');
  await node.publish('news', '2');
  await node.publish('news', '3');
  await engine.subscribe('news');
  await node.publish('news', '4');
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(s.offsets('news'), [1, 2, 3, 4]);
  assert.equal(node.stats.gapsRefilled, 1);
});

test('an unsubscribe before the subscription is complete makes the subscribe fail, not hang', async () => {
  const engine = new SlowReadEngine(limits);
  const { node } = await setup(engine);
  let release!: () => void;
  engine.gate = new Promise((r) => {
    release = r;
  });
  const s = new FakeSession();
  node.attach(s);
  const ready: unknown[] = [];
  const first = node.subscribe(s, 'news', undefined, (r) => ready.push(r));
  await new Promise((r) => setImmediate(r));
  node.unsubscribe(s, 'news');
  const second = node.subscribe(s, 'news', undefined, (r) => ready.push(r));
  release();
  await assert.rejects(first, (err: HoldfastError) => err.code === 'not_subscribed');
  const r = await second;
  assert.equal(ready.length, 1, 'only the second subscription is reported ready');
  assert.equal(ready[0], r);
  await node.publish('news', '"x"');
  assert.deepEqual(s.offsets('news'), [1], 'the second subscription is live, once');
  assert.equal(node.subscriptionCount(), 1);
});

/** A memory engine that counts history reads. */
class CountingEngine extends MemoryEngine {
  reads = 0;
  override async read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    this.reads++;
    return this.readSync(channel, opts);
  }
}

test('a subscription at the tip of a followed channel needs no history read, and misses nothing', async () => {
  const engine = new CountingEngine(limits);
  const { node } = await setup(engine);
  const keeper = new FakeSession(); // keeps the channel followed, as WebSocket clients do
  node.attach(keeper);
  await node.subscribe(keeper, 'news', undefined, () => undefined);
  assert.equal(engine.reads, 1, 'the first subscription reads (and anchors the tip)');
  const p1 = await node.publish('news', '1');
  const p2 = await node.publish('news', '2');

  // A long-poll coming back with the cursor of the last answer: no read, recovered, live next.
  const poll = new FakeSession();
  node.attach(poll);
  const r = await node.subscribe(poll, 'news', { epoch: p2.epoch, offset: p2.offset }, () => undefined);
  assert.equal(engine.reads, 1);
  assert.equal(r.recovered, true);
  assert.equal(r.offset, 2);
  await node.publish('news', '3');
  assert.deepEqual(poll.offsets('news'), [3]);

  // Behind the tip: read, and get what it missed, in order.
  const late = new FakeSession();
  node.attach(late);
  await node.subscribe(late, 'news', { epoch: p1.epoch, offset: p1.offset }, () => undefined);
  assert.equal(engine.reads, 2);
  assert.deepEqual(late.offsets('news'), [2, 3]);

  // A fresh subscription takes the tip without a read.
  const fresh = new FakeSession();
  node.attach(fresh);
  const f = await node.subscribe(fresh, 'news', undefined, () => undefined);
  assert.equal(engine.reads, 2);
  assert.equal(f.offset, 3);

  // Once the last subscriber leaves, the tip is forgotten: the next one reads again.
  for (const s of [keeper, poll, late, fresh]) node.unsubscribe(s, 'news');
  const again = new FakeSession();
  node.attach(again);
  await node.subscribe(again, 'news', { epoch: p1.epoch, offset: 3 }, () => undefined);
  assert.equal(engine.reads, 3);
});

test('a tip anchored by a read is not older than a publication that landed during the read', async () => {
  const engine = new SlowReadEngine(limits);
  const { node } = await setup(engine);
  await node.publish('news', '1');
  let release!: () => void;
  engine.gate = new Promise((r) => {
    release = r;
  });
  const a = new FakeSession();
  node.attach(a);
  const sub = node.subscribe(a, 'news', undefined, () => undefined);
  await new Promise((r) => setImmediate(r));
  const p2 = await node.publish('news', '2'); // lands while the read (which saw offset 1) waits
  release();
  await sub;
  // A client at offset 1 must still get 2: the tip is 2, so its cursor is behind and it reads.
  const b = new FakeSession();
  node.attach(b);
  await node.subscribe(b, 'news', { epoch: p2.epoch, offset: 1 }, () => undefined);
  assert.deepEqual(b.offsets('news'), [2]);
});
