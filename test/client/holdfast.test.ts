import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Holdfast, type HoldfastClientError } from '../../src/client/holdfast.js';
import type { HoldfastOptions } from '../../src/client/options.js';
import { FakeServer } from './fake-connection.js';

/** A client on fake connections that reconnects at once (the back-off draws 0). */
function client(server: FakeServer, opts: HoldfastOptions = {}): Holdfast {
  return new Holdfast('http://example.test', { connect: server.factory, random: () => 0, ...opts });
}

test('every message once, in order, across reconnects: the resume position is the last delivered', async () => {
  const server = new FakeServer();
  const hf = client(server);
  const got: number[] = [];
  let failed = 0;
  hf.subscribe('news', { onMessage: (d) => got.push(d as number), onRecoveryFailed: () => failed++ });
  const c1 = await server.next();
  assert.equal(c1.name, 'ws');
  assert.deepEqual(c1.link.channels(), ['news']);
  assert.equal(c1.link.since('news'), undefined, 'nothing received yet: starts from now');
  c1.events.opened();
  assert.equal(hf.state, 'connected');
  c1.events.subscribed('news', 'ep', 10, undefined);
  c1.events.message('news', 9, -1);
  c1.events.message('news', 11, 11);
  c1.events.message('news', 12, 12);
  c1.events.message('news', 12, -1);
  c1.drop(3000);
  assert.equal(hf.state, 'disconnected');

  const c2 = await server.next();
  assert.equal(c2.name, 'ws', 'an ordinary disconnect does not fall back');
  assert.deepEqual(c2.link.since('news'), { epoch: 'ep', offset: 12 });
  assert.equal(c2.link.cursor(['news']), 'ep-12');
  c2.events.opened();
  c2.events.subscribed('news', 'ep', 14, true);
  for (const o of [11, 12, 13, 14]) c2.events.message('news', o, o === 13 || o === 14 ? o : -1);
  assert.deepEqual(got, [11, 12, 13, 14]);
  assert.equal(failed, 0);
  hf.close();
});

test('recovered: false calls onRecoveryFailed once and goes on from the new position', async () => {
  const server = new FakeServer();
  const hf = client(server);
  const got: number[] = [];
  let failed = 0;
  hf.subscribe('a', { onMessage: (d) => got.push(d as number), onRecoveryFailed: () => failed++ });
  const c1 = await server.next();
  c1.events.opened();
  c1.events.subscribed('a', 'one', 0, undefined);
  c1.events.message('a', 1, 1);
  c1.drop(null);
  const c2 = await server.next();
  c2.events.opened();
  c2.events.subscribed('a', 'two', 50, false);
  assert.equal(failed, 1);
  c2.events.message('a', 50, -1);
  c2.events.message('a', 51, 51);
  assert.deepEqual(got, [1, 51]);
  assert.deepEqual(c2.link.since('a'), { epoch: 'two', offset: 51 });
  hf.close();
});

test('a transport that never opens falls back to the next, which resumes from the same positions', async () => {
  const server = new FakeServer();
  const hf = client(server);
  hf.subscribe('a');
  hf.subscribe('b');
  const ws = await server.next();
  ws.events.opened();
  ws.events.subscribed('a', 'ea', 3, undefined);
  ws.events.subscribed('b', 'eb', 7, undefined);
  ws.events.message('a', 4, null);
  ws.drop(null);
  const ws2 = await server.next();
  assert.equal(ws2.name, 'ws');
  ws2.refuse();
  const sse = await server.next();
  assert.equal(sse.name, 'sse');
  assert.equal(hf.transport, 'sse');
  assert.equal(sse.link.cursor(sse.link.channels()), 'ea-4.eb-7');
  sse.refuse();
  const poll = await server.next();
  assert.equal(poll.name, 'poll');
  poll.refuse();
  const again = await server.next();
  assert.equal(again.name, 'ws', 'after the last, the first again');
  hf.close();
});

test('the transports option restricts and orders the list', async () => {
  const server = new FakeServer();
  const hf = client(server, { transports: ['poll', 'sse'] });
  hf.subscribe('a');
  const first = await server.next();
  assert.equal(first.name, 'poll');
  first.refuse();
  assert.equal((await server.next()).name, 'sse');
  hf.close();
});

test('a do-not-reconnect close stops the client and reports why', async () => {
  const server = new FakeServer();
  const hf = client(server);
  const errors: HoldfastClientError[] = [];
  hf.on('error', (e) => errors.push(e));
  hf.subscribe('a');
  const c = await server.next();
  c.events.opened();
  c.events.ended({
    opened: true,
    code: 3507,
    reason: 'disconnected by the application',
    reconnect: false,
    error: null,
    retryAfterMs: null,
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.made.length, 1, 'no new connection');
  assert.equal(hf.state, 'disconnected');
  assert.equal(hf.lastError?.closeCode, 3507);
  assert.deepEqual(
    errors.map((e) => [e.code, e.closeCode]),
    [['disconnect', 3507]],
  );
});

test('3005 token expired: a new token from getToken, then a new connection with it', async () => {
  const server = new FakeServer();
  let n = 0;
  const hf = client(server, { getToken: () => `token-${++n}` });
  hf.subscribe('a');
  const c1 = await server.next();
  assert.equal(c1.link.token(), 'token-1');
  c1.events.opened();
  c1.drop(3005);
  const c2 = await server.next();
  assert.equal(c2.link.token(), 'token-2');
  hf.close();
});

test('a static token that expires stops the client (there is no way to get another)', async () => {
  const server = new FakeServer();
  const hf = client(server, { token: 'static' });
  hf.subscribe('a');
  const c1 = await server.next();
  assert.equal(c1.link.token(), 'static');
  c1.events.opened();
  c1.drop(3005);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.made.length, 1);
  assert.equal(hf.lastError?.code, 'disconnect');
});

test('subscribe and unsubscribe while connected go to the connection; a refusal ends the subscription', async () => {
  const server = new FakeServer();
  const hf = client(server);
  const c = await server.next();
  c.events.opened();
  const errors: string[] = [];
  const sub = hf.subscribe('a', { onError: (e) => errors.push(e.code) });
  hf.subscribe('b');
  assert.deepEqual(c.followed, ['a', 'b']);
  c.events.refused('a', Object.assign(new Error('no'), { code: 'permission_denied' }) as HoldfastClientError);
  assert.deepEqual(errors, ['permission_denied']);
  assert.deepEqual(c.link.channels(), ['b']);
  sub.unsubscribe();
  assert.deepEqual(c.left, [], 'already ended');
  hf.subscribe('a').unsubscribe();
  assert.deepEqual(c.left, ['a']);
  assert.throws(() => hf.subscribe('b'), /Already subscribed/);
  hf.close();
});

test('state events and publish', async () => {
  const server = new FakeServer();
  const hf = client(server);
  const states: string[] = [];
  hf.on('state', (s) => states.push(s));
  await assert.rejects(hf.publish('a', 1), { code: 'not_connected' });
  const c = await server.next();
  c.events.opened();
  assert.deepEqual(await hf.publish('a', { x: 1 }), { epoch: 'e', offset: 1 });
  assert.deepEqual(c.calls, [{ op: 'publish', channel: 'a', data: { x: 1 } }]);
  hf.close();
  assert.deepEqual(states, ['connecting', 'connected', 'disconnected']);
  assert.equal(c.closed, true);
  await assert.rejects(hf.publish('a', 1), { code: 'closed' });
});
