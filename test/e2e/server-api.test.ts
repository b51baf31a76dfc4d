import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import { IdentitySeam } from '../helpers/identities.js';
import { API_KEY, type Running, startServer } from '../helpers/server.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';

/**
 * The server API on one in-process server (memory engine) with real clients: POST
 * /api/disconnect, /api/subscribe, /api/unsubscribe and GET /api/info. Identities come through
 * the test seam (helpers/identities.ts); test/cluster/server-api.test.ts does it with tokens.
 */

let s: Running;
let seam: IdentitySeam;
const open: { close(): void }[] = [];
before(async () => {
  s = await startServer({ pollTimeout: 5 });
  seam = new IdentitySeam(s.server.node);
});
after(async () => {
  for (const c of open) c.close();
  await s.close();
});

async function api(path: string, body: unknown, key = API_KEY): Promise<{ status: number; body: Msg }> {
  const res = await fetch(`${s.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Msg };
}

async function wsAs(user: string | null): Promise<TestWs> {
  seam.next(user);
  const c = await TestWs.connect(s.wsUrl);
  open.push(c);
  return c;
}

interface Sse {
  es: EventSource;
  events: { type: string; data: Msg }[];
}

async function sseAs(user: string, channels: string[]): Promise<Sse> {
  seam.next(user);
  const es = new EventSource(`${s.base}/sse?${channels.map((c) => `channel=${c}`).join('&')}`);
  open.push(es);
  const events: { type: string; data: Msg }[] = [];
  for (const type of ['message', 'subscribed', 'unsubscribe', 'disconnect']) {
    es.addEventListener(type, (e) => {
      events.push({ type, data: JSON.parse(e.data) as Msg });
      if (type === 'disconnect') es.close();
    });
  }
  await until(() => events.filter((e) => e.type === 'subscribed').length === channels.length);
  return { es, events };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 100));

describe('input', () => {
  it('needs the API key', async () => {
    const r = await api('/api/disconnect', { user: 'u' }, 'wrong');
    assert.equal(r.status, 401);
  });

  it('answers {} once the command is handed over', async () => {
    assert.deepEqual(await api('/api/disconnect', { user: 'nobody' }), { status: 200, body: {} });
    assert.deepEqual(await api('/api/subscribe', { user: 'nobody', channel: 'a:b' }), {
      status: 200,
      body: {},
    });
    assert.deepEqual(await api('/api/unsubscribe', { user: 'nobody', channel: 'a' }), {
      status: 200,
      body: {},
    });
  });

  it('refuses a missing, empty, overlong or non-string user, and a bad channel', async () => {
    const cases: [string, unknown, string][] = [
      ['/api/disconnect', {}, 'bad_request'],
      ['/api/disconnect', { user: '' }, 'bad_request'],
      ['/api/disconnect', { user: 42 }, 'bad_request'],
      ['/api/disconnect', { user: 'u'.repeat(257) }, 'bad_request'],
      ['/api/disconnect', [], 'bad_request'],
      ['/api/disconnect', 'not json', 'invalid_json'],
      ['/api/subscribe', { user: 'u' }, 'invalid_channel'],
      ['/api/subscribe', { user: 'u', channel: 'no spaces' }, 'invalid_channel'],
      ['/api/unsubscribe', { user: 'u', channel: 'x'.repeat(256) }, 'invalid_channel'],
      ['/api/unsubscribe', { channel: 'ok' }, 'bad_request'],
    ];
    for (const [path, body, code] of cases) {
      const r = await api(path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal((r.body['error'] as Msg)['code'], code, `${path} ${JSON.stringify(body)}`);
    }
    const get = await fetch(`${s.base}/api/disconnect`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(get.status, 405);
  });
});

describe('POST /api/disconnect', () => {
  it("closes every one of the user's connections, WebSocket and SSE, with 3507; others stay", async () => {
    const w1 = await wsAs('alice');
    const w2 = await wsAs('alice');
    const sse = await sseAs('alice', ['d1']);
    const bob = await wsAs('bob');
    const anon = await wsAs(null);
    assert.deepEqual(await api('/api/disconnect', { user: 'alice' }), { status: 200, body: {} });
    assert.equal(await w1.closed, 3507);
    assert.equal(await w2.closed, 3507);
    await until(() => sse.events.some((e) => e.type === 'disconnect'));
    const d = sse.events.find((e) => e.type === 'disconnect')!.data;
    assert.deepEqual(d, { code: 3507, reason: 'disconnected by the application', reconnect: false });
    await settle();
    assert.equal(bob.closeCode, null);
    assert.equal(anon.closeCode, null);
    assert.deepEqual(s.server.node.sessionsOf('alice'), []);
    const ping = await bob.request({ id: 1, op: 'ping' });
    assert.equal(ping['ok'], true);
  });

  it("answers a user's held long-poll with 403 disconnected", async () => {
    seam.next('carol');
    const held = fetch(`${s.base}/poll?channel=p1`);
    await until(() => s.server.node.sessionsOf('carol').length === 1);
    await api('/api/disconnect', { user: 'carol' });
    const res = await held;
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: Msg }).error['code'], 'disconnected');
  });
});

describe('POST /api/subscribe and /api/unsubscribe', () => {
  it("subscribes the user's WebSockets: the push comes first, then the channel's messages", async () => {
    const w = await wsAs('dave');
    const other = await wsAs('erin');
    await s.publish('news:1', 'old');
    await api('/api/subscribe', { user: 'dave', channel: 'news:1' });
    const push = await w.next((m) => m['op'] === 'subscribe');
    assert.equal(push['channel'], 'news:1');
    assert.equal(push['offset'], 1, 'live from the current position');
    assert.equal(typeof push['epoch'], 'string');
    await s.publish('news:1', 'new');
    const [msg] = await w.waitForMessages(1, 'news:1');
    assert.deepEqual([msg!['offset'], msg!['data']], [2, 'new']);
    assert.ok(w.received.indexOf(push) < w.received.indexOf(msg!), 'the push before the message');
    // The epoch and offset of the push let the client resume as after its own subscribe.
    const again = await wsAs('frank');
    const r = await again.request({
      id: 1,
      op: 'subscribe',
      channel: 'news:1',
      since: { epoch: push['epoch'], offset: 1 },
    });
    assert.equal(r['recovered'], true);
    assert.equal((await again.waitForMessages(1, 'news:1'))[0]!['data'], 'new');
    await settle();
    assert.equal(other.received.length, 0, 'another user gets nothing');
    // Already subscribed: nothing more is pushed.
    await api('/api/subscribe', { user: 'dave', channel: 'news:1' });
    await settle();
    assert.equal(w.received.filter((m) => m['op'] === 'subscribe').length, 1);
  });

  it('unsubscribes them: a push, and nothing of the channel after it', async () => {
    const w = await wsAs('gina');
    const sse = await sseAs('gina', ['u1', 'u2']);
    const stays = await wsAs('hank');
    for (const c of [w, stays])
      assert.equal((await c.request({ id: 1, op: 'subscribe', channel: 'u1' }))['ok'], true);
    await s.publish('u1', 1);
    await w.waitForMessages(1, 'u1');
    await until(() => sse.events.filter((e) => e.type === 'message').length === 1);
    await api('/api/unsubscribe', { user: 'gina', channel: 'u1' });
    const push = await w.next((m) => m['op'] === 'unsubscribe');
    assert.deepEqual(push, { op: 'unsubscribe', channel: 'u1' });
    await until(() => sse.events.some((e) => e.type === 'unsubscribe'));
    assert.deepEqual(sse.events.find((e) => e.type === 'unsubscribe')!.data, { channel: 'u1' });
    await s.publish('u1', 2);
    await s.publish('u2', 'still');
    await stays.waitForMessages(2, 'u1');
    await until(() => sse.events.filter((e) => e.type === 'message').length === 2);
    await settle();
    assert.equal(w.messages('u1').length, 1, 'the WebSocket got nothing after the push');
    const sseData = sse.events.filter((e) => e.type === 'message').map((e) => e.data['data']);
    assert.deepEqual(sseData, [1, 'still'], 'the SSE stream goes on with its other channel only');
    // The client may subscribe again itself.
    assert.equal((await w.request({ id: 2, op: 'subscribe', channel: 'u1' }))['ok'], true);
  });
});

describe('GET /api/info', () => {
  it("answers this server's facts", async () => {
    const w = await wsAs('ivan');
    await w.request({ id: 1, op: 'subscribe', channel: 'info:1' });
    const res = await fetch(`${s.base}/api/info`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(res.status, 200);
    const info = (await res.json()) as Msg;
    assert.match(String(info['version']), /^\d+\.\d+\.\d+/);
    assert.equal(info['engine'], 'memory');
    assert.ok(typeof info['uptime'] === 'number' && info['uptime'] > 0);
    assert.equal(info['namespaces'], null, 'no namespaces configured');
    const totals = info['totals'] as {
      workers: number;
      connections: Msg;
      subscriptions: number;
      channels: number;
    };
    assert.equal(totals.workers, 1);
    assert.ok((totals.connections['ws'] as number) >= 1);
    assert.ok(totals.subscriptions >= 1);
    assert.ok(totals.channels >= 1);
    const local = info['local'] as Msg;
    assert.equal(local['worker'], 0);
    assert.equal(local['pid'], process.pid);
    assert.equal((local['connections'] as Msg)['ws'], s.server.ws.sessions.size);
    assert.equal(local['channels'], s.server.node.channelCount);
    assert.equal(local['users'], s.server.node.userCount);
    assert.ok((local['users'] as number) >= 1);
    const workers = info['workers'] as Msg[];
    assert.equal(workers.length, 1);
    assert.equal(workers[0]!['worker'], 0);
    assert.ok((workers[0]!['rss'] as number) > 0);
    const noKey = await fetch(`${s.base}/api/info`);
    assert.equal(noKey.status, 401);
  });
});

describe('with namespaces', () => {
  it('/api/subscribe refuses a channel in no configured namespace; /api/info lists the rules', async () => {
    const ns = await startServer({
      namespaces: JSON.stringify({ chat: { access: 'token', clientPublish: true }, '': {} }),
    });
    try {
      const post = (body: unknown) =>
        fetch(`${ns.base}/api/subscribe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
          body: JSON.stringify(body),
        });
      const bad = await post({ user: 'u', channel: 'nope:x' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: Msg }).error['code'], 'unknown_namespace');
      assert.equal((await post({ user: 'u', channel: 'chat:x' })).status, 200);
      assert.equal((await post({ user: 'u', channel: 'plain' })).status, 200);
      const info = (await (
        await fetch(`${ns.base}/api/info`, { headers: { 'x-api-key': API_KEY } })
      ).json()) as Msg;
      const list = info['namespaces'] as Msg[];
      assert.deepEqual(list.map((n) => [n['name'], n['access'], n['clientPublish']]).sort(), [
        ['', 'public', false],
        ['chat', 'token', true],
      ]);
      assert.deepEqual(Object.keys(list[0]!).sort(), [
        'access',
        'anonymous',
        'clientPublish',
        'historySize',
        'historyTtl',
        'joinLeave',
        'name',
        'presence',
      ]);
    } finally {
      await ns.close();
    }
  });
});

describe('idle deadline', () => {
  it('a WebSocket left with no channel by a server-side unsubscribe is closed as idle (3003)', {
    timeout: 15_000,
  }, async () => {
    const idle = await startServer({ idleTimeout: 1 });
    const idleSeam = new IdentitySeam(idle.server.node);
    try {
      idleSeam.next('jack');
      const c = await TestWs.connect(idle.wsUrl);
      open.push(c);
      assert.equal((await c.request({ id: 1, op: 'subscribe', channel: 'only' }))['ok'], true);
      const res = await fetch(`${idle.base}/api/unsubscribe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ user: 'jack', channel: 'only' }),
      });
      assert.equal(res.status, 200);
      await c.next((m) => m['op'] === 'unsubscribe');
      assert.equal(await c.closed, 3003);
    } finally {
      await idle.close();
    }
  });
});
