import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import type { Backend } from '../../src/auth/access.js';
import { loadConfig } from '../../src/config/config.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { API_KEY } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * A WebSocket subscription waiting for the application's backend (the subscribe proxy) is a
 * subscription in progress: an unsubscribe meanwhile cancels it (as one that comes while the
 * engine subscribes does, core/node.ts), and it counts towards maxChannelsPerConnection.
 */

const SECRET = 'pending-subscribe-secret-0123456789';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

/** A backend whose subscribe answers wait until the test releases them. */
class HeldBackend implements Backend {
  readonly connect = null;
  readonly publish = null;
  readonly asked: { channel: string; allow: () => void }[] = [];
  readonly subscribe = (_id: unknown, channel: string): Promise<void> =>
    new Promise((resolve) => this.asked.push({ channel, allow: resolve }));
}

async function start(backend: Backend, flags: Record<string, unknown> = {}) {
  const config = loadConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      apiKey: API_KEY,
      logLevel: 'silent',
      tokenHmacSecret: SECRET,
      namespaces: { '': {}, room: { access: 'token' } },
      ...flags,
    },
  });
  const server = new HoldfastServer(config, createEngine(config), { backend });
  const port = await server.listen(0, '127.0.0.1');
  const publish = async (channel: string, data: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ channel, data }),
    });
    assert.equal(res.status, 200);
  };
  return { server, wsUrl: `ws://127.0.0.1:${port}/ws`, publish };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not met in time');
}

test('an unsubscribe while the backend decides cancels the subscription: nothing of the channel follows', async () => {
  const backend = new HeldBackend();
  const s = await start(backend);
  try {
    const c = await TestWs.connect(`${s.wsUrl}?token=${await sign({ sub: '42' })}`);
    c.send({ id: 1, op: 'subscribe', channel: 'room:secret' });
    await until(() => backend.asked.length === 1);
    // The client changed its mind before the answer: the unsubscribe succeeds.
    assert.deepEqual(await c.request({ id: 2, op: 'unsubscribe', channel: 'room:secret' }), {
      id: 2,
      ok: true,
    });
    backend.asked[0]!.allow();
    const reply = await c.next((m) => m['id'] === 1);
    assert.equal((reply['error'] as { code: string } | undefined)?.code, 'not_subscribed');
    assert.equal(reply['epoch'], undefined);
    // Not subscribed: a publication there does not reach it (a public one after it does).
    assert.equal((await c.request({ id: 3, op: 'subscribe', channel: 'news' }))['ok'], true);
    await s.publish('room:secret', { n: 1 });
    await s.publish('news', { n: 2 });
    await c.waitForMessages(1, 'news');
    assert.equal(c.messages('room:secret').length, 0);
    // And it can subscribe again afresh.
    c.send({ id: 4, op: 'subscribe', channel: 'room:secret' });
    await until(() => backend.asked.length === 2);
    backend.asked[1]!.allow();
    assert.equal((await c.next((m) => m['id'] === 4))['ok'], true);
    c.close();
  } finally {
    await s.server.close();
  }
});

test('subscriptions waiting for the backend count towards maxChannelsPerConnection', async () => {
  const backend = new HeldBackend();
  const s = await start(backend, { maxChannelsPerConnection: 2 });
  try {
    const c = await TestWs.connect(`${s.wsUrl}?token=${await sign({ sub: '42' })}`);
    for (let i = 1; i <= 3; i++) c.send({ id: i, op: 'subscribe', channel: `room:${i}` });
    const third = await c.next((m) => m['id'] === 3);
    assert.equal((third['error'] as { code: string } | undefined)?.code, 'too_many_channels');
    // A public channel at once is over the limit too while two are pending.
    const fourth = await c.request({ id: 4, op: 'subscribe', channel: 'news' });
    assert.equal((fourth['error'] as { code: string } | undefined)?.code, 'too_many_channels');
    assert.equal(backend.asked.length, 2);
    for (const a of backend.asked) a.allow();
    assert.equal((await c.next((m) => m['id'] === 1))['ok'], true);
    assert.equal((await c.next((m) => m['id'] === 2))['ok'], true);
    c.close();
  } finally {
    await s.server.close();
  }
});

test('a second subscribe to a channel followed through the backend is refused at once, and one unsubscribe leaves it', async () => {
  const backend = new HeldBackend();
  const s = await start(backend);
  try {
    const c = await TestWs.connect(`${s.wsUrl}?token=${await sign({ sub: '42' })}`);
    c.send({ id: 1, op: 'subscribe', channel: 'room:x' });
    await until(() => backend.asked.length === 1);
    backend.asked[0]!.allow();
    assert.equal((await c.next((m) => m['id'] === 1))['ok'], true);
    const again = await c.request({ id: 2, op: 'subscribe', channel: 'room:x' });
    assert.equal((again['error'] as { code: string } | undefined)?.code, 'already_subscribed');
    assert.equal(backend.asked.length, 1, 'the backend is not asked again');
    assert.deepEqual(await c.request({ id: 3, op: 'unsubscribe', channel: 'room:x' }), { id: 3, ok: true });
    assert.equal((await c.request({ id: 4, op: 'subscribe', channel: 'news' }))['ok'], true);
    await s.publish('room:x', { n: 1 });
    await s.publish('news', { n: 2 });
    await c.waitForMessages(1, 'news');
    assert.equal(c.messages('room:x').length, 0);
    c.close();
  } finally {
    await s.server.close();
  }
});
