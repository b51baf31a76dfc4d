import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { Node } from '../../src/core/node.js';
import { historyLimits } from '../../src/engines/limits.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { FakeSession } from '../helpers/fake.js';

/** Resumes against per-namespace history limits (engines/limits.ts) through the Node. */

function configWith(historySize: number, namespaces?: unknown) {
  return loadConfig({ flags: { historySize, ...(namespaces === undefined ? {} : { namespaces }) } });
}

async function nodeFor(config: ReturnType<typeof loadConfig>): Promise<Node> {
  const node = new Node(new MemoryEngine(historyLimits(config)), { maxRecover: config.maxRecover });
  await node.start();
  return node;
}

test('historySize 0: publications get offsets and are delivered; a resume recovers only when it missed nothing', async () => {
  const node = await nodeFor(configWith(100, { '': {}, live: { historySize: 0 } }));
  const follower = new FakeSession();
  node.attach(follower);
  await node.subscribe(follower, 'live:score', undefined, () => undefined);
  let last = await node.publish('live:score', '1');
  for (let i = 2; i <= 3; i++) last = await node.publish('live:score', String(i));
  assert.deepEqual(follower.offsets('live:score'), [1, 2, 3], 'delivered live with consecutive offsets');

  const atTip = new FakeSession();
  node.attach(atTip);
  const r1 = await node.subscribe(atTip, 'live:score', { epoch: last.epoch, offset: 3 }, () => undefined);
  assert.deepEqual([r1.recovered, r1.offset], [true, 3], 'nothing missed: recovered');

  const behind = new FakeSession();
  node.attach(behind);
  const r2 = await node.subscribe(behind, 'live:score', { epoch: last.epoch, offset: 1 }, () => undefined);
  assert.deepEqual([r2.recovered, r2.offset], [false, 3], 'missed 2 and 3, which were not kept');
  assert.deepEqual(behind.offsets('live:score'), [], 'nothing partial is replayed');
  await node.publish('live:score', '4');
  assert.deepEqual(behind.offsets('live:score'), [4], 'and it follows live from the tip');

  // Without followers the Node has no tip: the same answers come from a history read.
  for (const s of [follower, atTip, behind]) node.unsubscribe(s, 'live:score');
  const cold = new FakeSession();
  node.attach(cold);
  const r3 = await node.subscribe(cold, 'live:score', { epoch: last.epoch, offset: 4 }, () => undefined);
  assert.equal(r3.recovered, true);
  node.unsubscribe(cold, 'live:score');
  const coldBehind = new FakeSession();
  node.attach(coldBehind);
  const r4 = await node.subscribe(
    coldBehind,
    'live:score',
    { epoch: last.epoch, offset: 3 },
    () => undefined,
  );
  assert.equal(r4.recovered, false);

  const other = new FakeSession();
  node.attach(other);
  let kept = await node.publish('chat', '1');
  for (let i = 2; i <= 3; i++) kept = await node.publish('chat', String(i));
  const r5 = await node.subscribe(other, 'chat', { epoch: kept.epoch, offset: 1 }, () => undefined);
  assert.equal(r5.recovered, true, 'the default namespace keeps history');
  assert.deepEqual(other.offsets('chat'), [2, 3]);
});

test('maxRecover reaches as far as the largest namespace keeps, not only the server historySize', async () => {
  assert.equal(configWith(10).maxRecover, 10, 'without namespaces: clamped to historySize, as before');
  const config = configWith(10, { '': {}, big: { historySize: 50 }, small: { historySize: 5 } });
  assert.equal(config.maxRecover, 50);
  const node = await nodeFor(config);
  let big = await node.publish('big:feed', '1');
  let plain = await node.publish('feed', '1');
  for (let i = 2; i <= 40; i++) {
    big = await node.publish('big:feed', String(i));
    plain = await node.publish('feed', String(i));
  }
  const a = new FakeSession();
  node.attach(a);
  const ra = await node.subscribe(a, 'big:feed', { epoch: big.epoch, offset: 5 }, () => undefined);
  assert.equal(ra.recovered, true, 'missed 35, more than the server historySize, all kept by big');
  assert.deepEqual(
    a.offsets('big:feed'),
    Array.from({ length: 35 }, (_, i) => i + 6),
  );
  const b = new FakeSession();
  node.attach(b);
  const rb = await node.subscribe(b, 'feed', { epoch: plain.epoch, offset: 5 }, () => undefined);
  assert.equal(rb.recovered, false, 'the default namespace keeps 10: a read of up to 50 finds the gap');
  assert.deepEqual(b.offsets('feed'), []);
  const c = new FakeSession();
  node.attach(c);
  const rc = await node.subscribe(c, 'feed', { epoch: plain.epoch, offset: 30 }, () => undefined);
  assert.equal(rc.recovered, true);
  assert.deepEqual(
    c.offsets('feed'),
    Array.from({ length: 10 }, (_, i) => i + 31),
  );
});
