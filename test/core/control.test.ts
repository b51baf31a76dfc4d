import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Disconnects } from '../../src/contract/codes.js';
import type { Identity } from '../../src/contract/identity.js';
import type { StreamPosition } from '../../src/contract/stream.js';
import { Node } from '../../src/core/node.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { eventually } from '../engines/conformance.js';
import { FakeSession } from '../helpers/fake.js';

/** The Node's side of the server API: sessions by user and the control bus's commands. */

const limits = { size: 100, ttlMs: 60_000, metaTtlMs: 120_000 };

function identity(user: string): Identity {
  return { user, info: undefined, channels: [], expiresAt: 0 };
}

type Frame = Record<string, unknown>;

/** A fake session whose transport may take server-side subscribe and unsubscribe. */
class UserSession extends FakeSession {
  readonly #subscribe: boolean;
  readonly #unsubscribe: boolean;

  constructor(user: string | null, takes: { subscribe: boolean; unsubscribe: boolean }) {
    super();
    this.identity = user === null ? null : identity(user);
    this.#subscribe = takes.subscribe;
    this.#unsubscribe = takes.unsubscribe;
  }

  override get takesServerSubscribe(): boolean {
    return this.#subscribe;
  }

  override get takesServerUnsubscribe(): boolean {
    return this.#unsubscribe;
  }

  override serverSubscribed(channel: string, epoch: string, offset: number): void {
    this.write(Buffer.from(JSON.stringify({ op: 'subscribe', channel, epoch, offset })));
  }

  override serverUnsubscribed(channel: string, last: StreamPosition): void {
    this.write(Buffer.from(JSON.stringify({ op: 'unsubscribe', channel, last })));
  }

  frames(): Frame[] {
    return this.fake.writes.map((b) => JSON.parse(b.toString()) as Frame);
  }
}

const WS = { subscribe: true, unsubscribe: true };
const SSE = { subscribe: false, unsubscribe: true };
const POLL = { subscribe: false, unsubscribe: false };

async function setup(opts: { maxChannelsPerSession?: number } = {}) {
  const engine = new MemoryEngine(limits);
  const node = new Node(engine, { maxRecover: 100, ...opts });
  await node.start();
  return { node, engine };
}

test('sessions are indexed by user while attached; anonymous ones are not indexed at all', async () => {
  const { node } = await setup();
  const a1 = new UserSession('alice', WS);
  const a2 = new UserSession('alice', POLL);
  const b = new UserSession('bob', WS);
  const anon = new UserSession(null, WS);
  for (const s of [a1, a2, b, anon]) node.attach(s);
  assert.equal(node.userCount, 2);
  assert.deepEqual(new Set(node.sessionsOf('alice')), new Set([a1, a2]));
  a1.close(Disconnects.normal);
  assert.deepEqual(node.sessionsOf('alice'), [a2]);
  a2.close(Disconnects.normal);
  assert.equal(node.userCount, 1, "a user's entry goes with the last session");
  anon.close(Disconnects.normal);
  b.close(Disconnects.normal);
  assert.equal(node.userCount, 0);
  assert.equal(node.sessionCount, 0);
});

test('disconnect closes every session of the user, whatever its transport, with 3507', async () => {
  const { node } = await setup();
  const mine = [new UserSession('alice', WS), new UserSession('alice', SSE), new UserSession('alice', POLL)];
  const other = new UserSession('bob', WS);
  const anon = new UserSession(null, WS);
  for (const s of [...mine, other, anon]) node.attach(s);
  await node.subscribe(mine[0]!, 'news', undefined, () => undefined);
  node.control({ t: 'disconnect', user: 'alice' });
  for (const s of mine) {
    assert.equal(s.closed, true);
    assert.deepEqual(s.fake.closedWith, Disconnects.disconnected);
  }
  assert.equal(Disconnects.disconnected.code, 3507);
  assert.equal(other.closed, false);
  assert.equal(anon.closed, false);
  assert.deepEqual(node.sessionsOf('alice'), []);
  assert.deepEqual(node.channels(), [], 'the closed sessions left their channels');
  node.control({ t: 'disconnect', user: 'nobody' }); // no session: nothing happens
  assert.equal(other.closed, false);
});

test('subscribe: each session that takes it is subscribed, told first, then gets the messages', async () => {
  const { node } = await setup();
  await node.publish('room', '"before"');
  const ws1 = new UserSession('alice', WS);
  const ws2 = new UserSession('alice', WS);
  const sse = new UserSession('alice', SSE);
  const bob = new UserSession('bob', WS);
  for (const s of [ws1, ws2, sse, bob]) node.attach(s);
  node.control({ t: 'subscribe', user: 'alice', channel: 'room' });
  await eventually('both subscribed', () => ws1.subscriptions.has('room') && ws2.frames().length === 1);
  await node.publish('room', '"after"');
  await eventually('the message', () => ws1.frames().length === 2 && ws2.frames().length === 2);
  for (const s of [ws1, ws2]) {
    const [push, msg] = s.frames();
    assert.equal(push!['op'], 'subscribe');
    assert.equal(push!['channel'], 'room');
    assert.equal(push!['offset'], 1, 'the position when it went live: the earlier one is not replayed');
    assert.equal(typeof push!['epoch'], 'string');
    assert.deepEqual([msg!['op'], msg!['offset'], msg!['data']], ['message', 2, 'after']);
  }
  assert.equal(sse.subscriptions.size, 0, 'a transport without server-side subscribe is left alone');
  assert.equal(sse.fake.writes.length, 0);
  assert.equal(bob.subscriptions.size, 0);
  // Again: already subscribed, nothing changes and nothing is pushed twice.
  node.control({ t: 'subscribe', user: 'alice', channel: 'room' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(ws1.frames().filter((f) => f['op'] === 'subscribe').length, 1);
});

test('subscribe stops at maxChannelsPerSession', async () => {
  const { node } = await setup({ maxChannelsPerSession: 2 });
  const s = new UserSession('alice', WS);
  node.attach(s);
  for (const c of ['a', 'b', 'c']) node.control({ t: 'subscribe', user: 'alice', channel: c });
  await eventually('two subscribed', () => s.frames().length === 2);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([...s.subscriptions.keys()].sort(), ['a', 'b']);
});

test('unsubscribe: the channel leaves the sessions that take it, which are told; nothing more arrives', async () => {
  const { node } = await setup();
  const ws = new UserSession('alice', WS);
  const sse = new UserSession('alice', SSE);
  const poll = new UserSession('alice', POLL);
  const bob = new UserSession('bob', WS);
  for (const s of [ws, sse, poll, bob]) {
    node.attach(s);
    await node.subscribe(s, 'room', undefined, () => undefined);
  }
  await node.publish('room', '1');
  await eventually('delivered', () => ws.frames().length === 1 && bob.frames().length === 1);
  node.control({ t: 'unsubscribe', user: 'alice', channel: 'room' });
  for (const s of [ws, sse]) {
    assert.equal(s.subscriptions.has('room'), false);
    const last = s.frames().at(-1)!;
    assert.equal(last['op'], 'unsubscribe');
    assert.equal((last['last'] as StreamPosition).offset, 1, 'the position delivered last');
  }
  assert.equal(poll.subscriptions.has('room'), true, 'long-poll is left alone');
  await node.publish('room', '2');
  await eventually('bob gets it', () => bob.frames().length === 2);
  assert.equal(ws.frames().filter((f) => f['op'] === 'message').length, 1);
  assert.equal(sse.frames().filter((f) => f['op'] === 'message').length, 1);
  // Not subscribed: nothing happens, nothing is pushed.
  const before = ws.frames().length;
  node.control({ t: 'unsubscribe', user: 'alice', channel: 'room' });
  assert.equal(ws.frames().length, before);
});

test('commands arrive through the engine control bus the Node started', async () => {
  const { node, engine } = await setup();
  const s = new UserSession('carol', WS);
  node.attach(s);
  await engine.control.broadcast({ t: 'subscribe', user: 'carol', channel: 'x' });
  await eventually('subscribed', () => s.frames().length === 1);
  await engine.control.broadcast({ t: 'disconnect', user: 'carol' });
  await eventually('closed', () => s.closed);
  assert.deepEqual(s.fake.closedWith, Disconnects.disconnected);
  await engine.close();
});
