import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { API_KEY, type Running, startServer } from '../helpers/server.js';
import { mintToken, TOKEN_SECRET } from '../helpers/tokens.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';

/**
 * Presence end to end, one server (memory engine): the HTTP API, the WebSocket `presence`
 * command and join/leave pushes over WebSocket and SSE; identities from connection tokens
 * signed with the configured tokenHmacSecret.
 */
const NAMESPACES = {
  '': { access: 'public' },
  room: { access: 'public', presence: true, joinLeave: true },
  quiet: { access: 'public', presence: true },
  vip: { access: 'token', presence: true, joinLeave: true },
};

let s: Running;
before(async () => {
  s = await startServer({ namespaces: JSON.stringify(NAMESPACES), tokenHmacSecret: TOKEN_SECRET });
});
after(() => s.close());

async function api(path: string, key: string | null = API_KEY): Promise<{ status: number; body: Msg }> {
  const res = await fetch(s.base + path, { headers: key === null ? {} : { 'x-api-key': key } });
  return { status: res.status, body: (await res.json()) as Msg };
}

async function user(sub: string, info?: unknown, channels?: string[]): Promise<TestWs> {
  const token = await mintToken(sub, {
    ...(info === undefined ? {} : { info }),
    ...(channels === undefined ? {} : { channels }),
  });
  return TestWs.connect(`${s.wsUrl}?token=${encodeURIComponent(token)}`);
}

async function subscribe(c: TestWs, channel: string, id = 1): Promise<void> {
  const r = await c.request({ id, op: 'subscribe', channel });
  assert.equal(r['ok'], true, JSON.stringify(r));
}

const pushes = (c: TestWs, channel: string): string[] =>
  c.received
    .filter((m) => (m['op'] === 'join' || m['op'] === 'leave') && m['channel'] === channel)
    .map((m) => `${m['op']} ${m['user']}`);

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('presence API', () => {
  it('an empty channel has no members; its stats are zeros', async () => {
    const r = await api('/api/presence?channel=room:empty');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { channel: 'room:empty', members: [] });
    const st = await api('/api/presence_stats?channel=room:empty');
    assert.deepEqual(st.body, { channel: 'room:empty', clients: 0, users: 0 });
  });

  it('a namespace without presence answers presence_disabled', async () => {
    for (const path of ['/api/presence?channel=plain', '/api/presence_stats?channel=plain']) {
      const r = await api(path);
      assert.equal(r.status, 400);
      assert.equal((r.body['error'] as Msg)['code'], 'presence_disabled');
    }
  });

  it('needs the API key and a valid channel', async () => {
    const r = await api('/api/presence?channel=room:1', null);
    assert.equal(r.status, 401);
    const wrong = await api('/api/presence_stats?channel=room:1', 'nope');
    assert.equal(wrong.status, 401);
    const bad = await api('/api/presence?channel=');
    assert.equal((bad.body['error'] as Msg)['code'], 'invalid_channel');
  });

  it('anonymous subscribers are not members', async () => {
    const c = await TestWs.connect(s.wsUrl);
    try {
      await subscribe(c, 'room:anon');
      const r = await api('/api/presence?channel=room:anon');
      assert.deepEqual(r.body['members'], []);
      // It follows the channel, so it may ask; nobody is there.
      const p = await c.request({ id: 2, op: 'presence', channel: 'room:anon' });
      assert.deepEqual(p, { id: 2, ok: true, channel: 'room:anon', members: [] });
    } finally {
      c.close();
    }
  });
});

describe('WebSocket presence command', () => {
  it('is refused, with nothing of the channel, to a connection not subscribed to it', async () => {
    const c = await TestWs.connect(s.wsUrl);
    try {
      const r = await c.request({ id: 1, op: 'presence', channel: 'room:secret' });
      assert.deepEqual(Object.keys(r).sort(), ['error', 'id']);
      assert.equal((r['error'] as Msg)['code'], 'not_subscribed');
    } finally {
      c.close();
    }
  });

  it('answers presence_disabled where the namespace keeps no presence', async () => {
    const c = await TestWs.connect(s.wsUrl);
    try {
      await subscribe(c, 'plain-ws');
      const r = await c.request({ id: 2, op: 'presence', channel: 'plain-ws' });
      assert.equal((r['error'] as Msg)['code'], 'presence_disabled');
    } finally {
      c.close();
    }
  });
});

describe('presence with identities', () => {
  it('members, joins and leaves over WebSocket; the presence command and the API agree', async () => {
    const watcher = await TestWs.connect(s.wsUrl);
    const alice = await user('alice', { name: 'Alice' });
    const bob = await user('bob');
    try {
      await subscribe(watcher, 'room:ws');
      await subscribe(alice, 'room:ws');
      await subscribe(bob, 'room:ws');
      await until('two joins', () => pushes(watcher, 'room:ws').length === 2);
      assert.deepEqual(pushes(watcher, 'room:ws'), ['join alice', 'join bob']);
      const join = watcher.received.find((m) => m['op'] === 'join')!;
      assert.deepEqual(Object.keys(join).sort(), ['channel', 'client', 'info', 'op', 'user']);
      assert.deepEqual(join['info'], { name: 'Alice' });
      // Alice gets her own join (she follows the channel when it is sent), then bob's.
      await until("alice's pushes", () => pushes(alice, 'room:ws').length === 2);
      assert.deepEqual(pushes(alice, 'room:ws'), ['join alice', 'join bob']);
      const p = await alice.request({ id: 9, op: 'presence', channel: 'room:ws' });
      const members = (p['members'] as Msg[]).map((m) => `${m['user']} ${JSON.stringify(m['info'])}`).sort();
      assert.deepEqual(members, ['alice {"name":"Alice"}', 'bob null']);
      const viaApi = await api('/api/presence?channel=room:ws');
      assert.deepEqual(
        (viaApi.body['members'] as Msg[]).map((m) => m['client']).sort(),
        (p['members'] as Msg[]).map((m) => m['client']).sort(),
      );
      assert.deepEqual((await api('/api/presence_stats?channel=room:ws')).body, {
        channel: 'room:ws',
        clients: 2,
        users: 2,
      });
      const un = await bob.request({ id: 3, op: 'unsubscribe', channel: 'room:ws' });
      assert.equal(un['ok'], true);
      alice.close();
      await until('two leaves', () => pushes(watcher, 'room:ws').length === 4);
      assert.deepEqual(pushes(watcher, 'room:ws'), ['join alice', 'join bob', 'leave bob', 'leave alice']);
      assert.deepEqual((await api('/api/presence?channel=room:ws')).body['members'], []);
    } finally {
      for (const c of [watcher, alice, bob]) c.close();
    }
  });

  it('one client sees each member join before it leaves, in the order they happened', async () => {
    const watcher = await TestWs.connect(s.wsUrl);
    try {
      await subscribe(watcher, 'room:order');
      const want: string[] = [];
      for (let i = 0; i < 5; i++) {
        const c = await user(`u${i}`);
        await subscribe(c, 'room:order');
        const off = await c.request({ id: 2, op: 'unsubscribe', channel: 'room:order' });
        assert.equal(off['ok'], true);
        c.close();
        want.push(`join u${i}`, `leave u${i}`);
      }
      await until('ten pushes', () => pushes(watcher, 'room:order').length === 10);
      assert.deepEqual(pushes(watcher, 'room:order'), want);
    } finally {
      watcher.close();
    }
  });

  it('SSE followers get named join and leave events; namespaces without joinLeave send none', async () => {
    const es = new EventSource(`${s.base}/sse?channel=room:sse&channel=quiet:sse`);
    const got: string[] = [];
    const onEvent = (e: MessageEvent): void => {
      const d = JSON.parse(e.data as string) as Msg;
      got.push(`${e.type} ${d['channel']} ${d['user']}`);
    };
    es.addEventListener('join', onEvent);
    es.addEventListener('leave', onEvent);
    let subscribed = 0;
    es.addEventListener('subscribed', () => subscribed++);
    try {
      await until('the stream subscribed', () => subscribed === 2);
      const carol = await user('carol');
      await subscribe(carol, 'room:sse');
      await subscribe(carol, 'quiet:sse', 2);
      carol.close();
      await until('join and leave', () => got.length === 2);
      assert.deepEqual(got, ['join room:sse carol', 'leave room:sse carol']);
    } finally {
      es.close();
    }
  });

  it('a connection refused in a token-only namespace learns nothing of its presence', async () => {
    const alice = await user('alice', { secret: 'plans' }, ['vip:*']);
    const mallory = await user('mallory');
    try {
      await subscribe(alice, 'vip:room');
      const refused = await mallory.request({ id: 1, op: 'subscribe', channel: 'vip:room' });
      assert.equal((refused['error'] as Msg)['code'], 'permission_denied');
      const asked = await mallory.request({ id: 2, op: 'presence', channel: 'vip:room' });
      assert.deepEqual(Object.keys(asked).sort(), ['error', 'id']);
      assert.equal((asked['error'] as Msg)['code'], 'not_subscribed');
      // Another member comes and goes: nothing reaches the refused connection.
      const bob = await user('bob', undefined, ['vip:room']);
      await subscribe(bob, 'vip:room');
      bob.close();
      await until("alice's pushes", () => pushes(alice, 'vip:room').length === 3);
      const ping = await mallory.request({ id: 3, op: 'ping' });
      assert.equal(ping['ok'], true);
      assert.deepEqual(
        mallory.received.filter((m) => m['op'] === 'join' || m['op'] === 'leave'),
        [],
      );
      assert.deepEqual(
        ((await api('/api/presence?channel=vip:room')).body['members'] as Msg[]).map((m) => m['user']),
        ['alice'],
      );
    } finally {
      alice.close();
      mallory.close();
    }
  });
});
