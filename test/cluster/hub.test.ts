import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHub } from '../../src/cluster/hub.js';
import type { Publication } from '../../src/contract/stream.js';
import { Node } from '../../src/core/node.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
import type { ToPrimary, ToWorker } from '../../src/engines/cluster/protocol.js';
import { FakeSession } from '../helpers/fake.js';

const limits = { size: 100, ttlMs: 60_000, metaTtlMs: 600_000 };

function workers(n: number) {
  const hub = new ClusterHub(limits);
  const engines: ClusterEngine[] = [];
  for (let i = 1; i <= n; i++) {
    const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
    hub.attach(i, toWorker);
    engines.push(new ClusterEngine(toPrimary, i));
  }
  return { hub, engines };
}

test('a publication through one worker reaches only workers subscribed to its channel', async () => {
  const { hub, engines } = workers(3);
  const got: Publication[][] = [[], [], []];
  await Promise.all(engines.map((e, i) => e.start((p) => got[i]!.push(p))));
  await engines[1]!.subscribe('news');
  await engines[2]!.subscribe('other');
  const p1 = await engines[0]!.publish('news', '"a"');
  const p2 = await engines[0]!.publish('news', '"b"');
  assert.equal(p1.offset, 1);
  assert.equal(p2.offset, 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    got[1]!.map((p) => p.data),
    ['"a"', '"b"'],
  );
  assert.equal(got[0]!.length, 0);
  assert.equal(got[2]!.length, 0);
  const h = await engines[2]!.read('news', { since: { epoch: p1.epoch, offset: 0 }, limit: 10 });
  assert.deepEqual(
    h.publications.map((p) => p.offset),
    [1, 2],
  );
  await hub.close();
});

test('a worker that goes away loses its routes; the history stays', async () => {
  const { hub, engines } = workers(2);
  await engines[0]!.start(() => undefined);
  await engines[0]!.subscribe('news');
  await engines[1]!.publish('news', '1');
  hub.detach(1);
  const p = await engines[1]!.publish('news', '2');
  const h = await engines[1]!.read('news', { since: { epoch: p.epoch, offset: 0 }, limit: 10 });
  assert.equal(h.publications.length, 2);
  await hub.close();
});

test('Nodes on two workers: resume across workers with the same offsets', async () => {
  const { hub, engines } = workers(2);
  const a = new Node(engines[0]!, { maxRecover: 100 });
  const b = new Node(engines[1]!, { maxRecover: 100 });
  await a.start();
  await b.start();
  engines[0]!.localChannels = () => a.channels();
  engines[1]!.localChannels = () => b.channels();
  const s1 = new FakeSession();
  a.attach(s1);
  const r = await a.subscribe(s1, 'room', undefined, () => undefined);
  await b.publish('room', '1');
  await b.publish('room', '2');
  await new Promise((res) => setTimeout(res, 20));
  assert.deepEqual(s1.offsets('room'), [1, 2]);
  const s3 = new FakeSession();
  b.attach(s3);
  await b.subscribe(s3, 'room', undefined, () => undefined);
  assert.deepEqual(await engines[0]!.clusterChannels(), [{ channel: 'room', subscribers: 2 }]);
  s3.close({ code: 1000, reason: 'x', reconnect: false });
  s1.close({ code: 3000, reason: 'x', reconnect: true });
  await a.publish('room', '3');
  const s2 = new FakeSession();
  b.attach(s2);
  const rr = await b.subscribe(s2, 'room', { epoch: r.epoch, offset: 2 }, () => undefined);
  assert.equal(rr.recovered, true);
  assert.deepEqual(s2.offsets('room'), [3]);
  await hub.close();
});
