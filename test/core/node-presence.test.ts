import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNamespaces } from '../../src/config/namespaces.js';
import type { HoldfastError } from '../../src/contract/codes.js';
import type { Identity } from '../../src/contract/identity.js';
import { Node } from '../../src/core/node.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import type { HistoryReadOptions, HistoryResult } from '../../src/engines/types.js';
import { FakePresenceSession } from '../helpers/fake.js';

/**
 * The core's presence: who joins (sessions with an identity, in namespaces with presence), when
 * (a complete subscription), who is told (followers, with joinLeave), and who may ask. The
 * identity is set directly (the field auth sets before Node.attach).
 */
const limits = { size: 100, ttlMs: 60_000, metaTtlMs: 600_000 };
const namespaces = parseNamespaces(
  {
    '': { access: 'public' },
    room: { access: 'public', presence: true, joinLeave: true },
    quiet: { access: 'public', presence: true },
  },
  { historySize: 100, historyTtl: 60 },
);

class GatedEngine extends MemoryEngine {
  gate: Promise<void> = Promise.resolve();
  override async read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    const result = this.readSync(channel, opts);
    await this.gate;
    return result;
  }
}

async function setup(engine = new MemoryEngine(limits)) {
  const node = new Node(engine, { maxRecover: 100, namespaces });
  await node.start();
  return { node, engine };
}

function who(user: string, info?: unknown): Identity {
  return { user, info, channels: [], expiresAt: 0 };
}

function session(node: Node, identity: Identity | null): FakePresenceSession {
  const s = new FakePresenceSession();
  s.identity = identity;
  node.attach(s);
  return s;
}

const sub = (node: Node, s: FakePresenceSession, ch: string) =>
  node.subscribe(s, ch, undefined, () => undefined);
const turn = () => new Promise((r) => setImmediate(r));
/** The store's events have come in and been delivered (NodePresence.flush, up to PRESENCE_FLUSH_MS later). */
const settle = async (node: Node) => {
  for (let i = 0; i < 3; i++) await turn();
  while (node.presence.waiting > 0) await new Promise((r) => setTimeout(r, 5));
};

test('a subscriber with an identity joins; followers, itself included, get the join, encoded once', async () => {
  const { node } = await setup();
  const a = session(node, who('alice', { name: 'Alice' }));
  const b = session(node, null);
  await sub(node, b, 'room:1');
  await sub(node, a, 'room:1');
  await settle(node);
  const members = await node.presence.members('room:1');
  assert.equal(members.length, 1);
  assert.equal(members[0]!.user, 'alice');
  assert.deepEqual(members[0]!.info, { name: 'Alice' });
  const client = members[0]!.client;
  assert.match(client, /^[A-Za-z0-9_-]+$/);
  const join = { op: 'join', channel: 'room:1', client, user: 'alice', info: { name: 'Alice' } };
  assert.deepEqual(b.pushes(), [join]);
  assert.deepEqual(a.pushes(), [join], 'the joining session is told too (it follows the channel)');
  const last = (s: FakePresenceSession) => s.fake.writes[s.fake.writes.length - 1];
  assert.equal(last(a), last(b), 'one Buffer for every follower');
});

test('anonymous subscribers are not members; without info the push says null', async () => {
  const { node } = await setup();
  const anon = session(node, null);
  const bob = session(node, who('bob'));
  await sub(node, anon, 'room:2');
  await sub(node, bob, 'room:2');
  await settle(node);
  const members = await node.presence.members('room:2');
  assert.deepEqual(
    members.map((m) => m.user),
    ['bob'],
  );
  assert.equal(anon.pushes()[0]!.info, null);
  assert.deepEqual(await node.presence.stats('room:2'), { clients: 1, users: 1 });
});

test('unsubscribe and close leave, with leave pushes to the others (not to the one leaving)', async () => {
  const { node } = await setup();
  const watcher = session(node, null);
  const a = session(node, who('alice'));
  const b = session(node, who('bob'));
  await sub(node, watcher, 'room:3');
  await sub(node, a, 'room:3');
  await sub(node, b, 'room:3');
  await settle(node); // the joins are delivered (the next turn's batch) before a leaves
  node.unsubscribe(a, 'room:3');
  b.close({ code: 1000, reason: 'bye', reconnect: false });
  await settle(node);
  assert.deepEqual(await node.presence.members('room:3'), []);
  assert.deepEqual(
    watcher.pushes().map((p) => `${p.op} ${p.user}`),
    ['join alice', 'join bob', 'leave alice', 'leave bob'],
  );
  assert.deepEqual(
    a.pushes().map((p) => `${p.op} ${p.user}`),
    ['join alice', 'join bob'],
  );
});

test('the same connection in two channels is one client id; two connections of a user are two', async () => {
  const { node } = await setup();
  const a1 = session(node, who('alice'));
  const a2 = session(node, who('alice'));
  await sub(node, a1, 'room:4');
  await sub(node, a1, 'room:5');
  await sub(node, a2, 'room:4');
  const [in4, in5] = [await node.presence.members('room:4'), await node.presence.members('room:5')];
  assert.equal(in4.length, 2);
  assert.notEqual(in4[0]!.client, in4[1]!.client);
  assert.ok(in4.some((m) => m.client === in5[0]!.client));
  assert.deepEqual(await node.presence.stats('room:4'), { clients: 2, users: 1 });
});

test('presence without joinLeave: members are kept, no pushes', async () => {
  const { node } = await setup();
  const a = session(node, who('alice'));
  const b = session(node, who('bob'));
  await sub(node, a, 'quiet:1');
  await sub(node, b, 'quiet:1');
  node.unsubscribe(a, 'quiet:1');
  await settle(node);
  assert.deepEqual(
    (await node.presence.members('quiet:1')).map((m) => m.user),
    ['bob'],
  );
  assert.deepEqual(a.pushes(), []);
  assert.deepEqual(b.pushes(), []);
});

test('a namespace without presence: nobody joins, asking is presence_disabled', async () => {
  const { node, engine } = await setup();
  const a = session(node, who('alice'));
  await sub(node, a, 'plain');
  assert.deepEqual(await engine.presence.members('plain'), []);
  await assert.rejects(node.presence.members('plain'), (e: HoldfastError) => e.code === 'presence_disabled');
  await assert.rejects(node.presence.stats('plain'), (e: HoldfastError) => e.code === 'presence_disabled');
  await assert.rejects(
    node.sessionPresence(a, 'plain'),
    (e: HoldfastError) => e.code === 'presence_disabled',
  );
});

test('without a namespaces option there is no presence at all', async () => {
  const node = new Node(new MemoryEngine(limits), { maxRecover: 100 });
  await node.start();
  const a = session(node, who('alice'));
  await sub(node, a, 'room:1');
  await assert.rejects(node.presence.members('room:1'), (e: HoldfastError) => e.code === 'presence_disabled');
});

test('the presence of a channel is only for its complete subscribers: not_subscribed otherwise', async () => {
  const engine = new GatedEngine(limits);
  const { node } = await setup(engine);
  const member = session(node, who('alice'));
  await sub(node, member, 'room:6');
  const outsider = session(node, who('mallory'));
  await assert.rejects(
    node.sessionPresence(outsider, 'room:6'),
    (e: HoldfastError) => e.code === 'not_subscribed',
  );
  // Subscribing, not complete yet (its history read is held): still nothing, and no pushes.
  await node.publish('room:6', '1');
  let release!: () => void;
  engine.gate = new Promise((r) => {
    release = r;
  });
  const pending = session(node, who('eve'));
  const subscribing = node.subscribe(pending, 'room:6', { epoch: 'x', offset: 0 }, () => undefined);
  await settle(node);
  await assert.rejects(
    node.sessionPresence(pending, 'room:6'),
    (e: HoldfastError) => e.code === 'not_subscribed',
  );
  // Bob joins while eve's subscription is pending (his needs no history read: he is at the tip).
  const late = session(node, who('bob'));
  await sub(node, late, 'room:6');
  await settle(node);
  release();
  await subscribing;
  await settle(node);
  const members = await node.sessionPresence(pending, 'room:6');
  assert.deepEqual(members.map((m) => m.user).sort(), ['alice', 'bob', 'eve']);
  const seen = pending.pushes().map((p) => `${p.op} ${p.user}`);
  assert.deepEqual(seen, ['join eve'], 'no push from before its subscription was complete');
});

test('a refused subscription joins nobody', async () => {
  const node = new Node(new MemoryEngine(limits), {
    maxRecover: 100,
    namespaces,
    maxSubscribersPerChannel: 1,
  });
  await node.start();
  const a = session(node, who('alice'));
  const b = session(node, who('bob'));
  await sub(node, a, 'room:7');
  await assert.rejects(sub(node, b, 'room:7'), (e: HoldfastError) => e.code === 'channel_full');
  // The refused connection learns nothing of the channel: no members, no pushes.
  await assert.rejects(node.sessionPresence(b, 'room:7'), (e: HoldfastError) => e.code === 'not_subscribed');
  await settle(node);
  node.unsubscribe(a, 'room:7');
  await settle(node);
  await sub(node, a, 'room:7');
  await settle(node);
  assert.deepEqual(b.pushes(), []);
  b.close({ code: 1000, reason: 'bye', reconnect: false });
  await settle(node);
  assert.deepEqual(
    (await node.presence.members('room:7')).map((m) => m.user),
    ['alice'],
  );
  assert.deepEqual(
    a.pushes().map((p) => `${p.op} ${p.user}`),
    ['join alice', 'join alice'],
  );
});

test('busiest channels come from the store', async () => {
  const { node } = await setup();
  for (let i = 0; i < 3; i++) await sub(node, session(node, who(`u${i}`)), 'room:big');
  await sub(node, session(node, who('x')), 'room:small');
  const top = await node.presence.busiest(1);
  assert.deepEqual(top, [{ channel: 'room:big', clients: 3 }]);
});

test('the events of one turn reach each follower in one delivery, in order (a join storm is one write per follower per turn)', async () => {
  const { node } = await setup();
  const watcher = session(node, null);
  await sub(node, watcher, 'room:batch');
  await settle(node);
  const batches: string[][] = [];
  const deliver = watcher.deliverPresence.bind(watcher);
  watcher.deliverPresence = (batch) => {
    batches.push(batch.events.map((e) => `${e.ev.op} ${e.ev.member.user}`));
    deliver(batch);
  };
  for (const user of ['u1', 'u2', 'u3']) {
    node.presence.event({ op: 'join', channel: 'room:batch', member: { client: user, user } });
  }
  node.presence.event({ op: 'leave', channel: 'room:batch', member: { client: 'u2', user: 'u2' } });
  assert.deepEqual(batches, [], 'nothing is delivered in the turn the events came in');
  assert.equal(node.presence.waiting, 1);
  await settle(node);
  assert.deepEqual(batches, [['join u1', 'join u2', 'join u3', 'leave u2']]);
  assert.deepEqual(
    watcher.pushes().map((p) => `${p.op} ${p.user}`),
    ['join u1', 'join u2', 'join u3', 'leave u2'],
  );
});

test('presence reads of one channel in flight together are one read of the store (a member asking in a loop)', async () => {
  // Each `presence` command read every member of the room from the store (IPC to the primary,
  // HVALS, a KV watch): 100 frames a second from each member of a 10,000-member room.
  class CountingEngine extends MemoryEngine {
    reads = 0;
  }
  const engine = new CountingEngine(limits);
  const store = engine.presence;
  const members = store.members.bind(store);
  store.members = (channel: string) => {
    engine.reads++;
    return members(channel);
  };
  const { node } = await setup(engine);
  const a = session(node, who('alice'));
  await sub(node, a, 'room:9');
  await settle(node);
  const answers = await Promise.all(Array.from({ length: 50 }, () => node.sessionPresence(a, 'room:9')));
  assert.equal(engine.reads, 1);
  for (const m of answers)
    assert.deepEqual(
      m.map((x) => x.user),
      ['alice'],
    );
  // Once answered, the next read asks the store again (it sees later joins).
  const b = session(node, who('bob'));
  await sub(node, b, 'room:9');
  await settle(node);
  assert.deepEqual((await node.sessionPresence(a, 'room:9')).map((x) => x.user).sort(), ['alice', 'bob']);
  assert.equal(engine.reads, 2);
});
