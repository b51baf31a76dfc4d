import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WsSession } from '../../src/transports/ws/session.js';
import { FakeAccess } from '../helpers/identities.js';
import { API_KEY, type Running, startServer } from '../helpers/server.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';

/**
 * Client publish on WebSocket (DESIGN.md "Client publish"): checked by the server's Access (a
 * fake one here: auth/access.ts is implemented apart), published through the Node like an API
 * publication, rate-limited per connection.
 */

const NAMESPACES = JSON.stringify({ chat: { clientPublish: true }, '': {} });
const PER_SECOND = 5;

let s: Running;
const access = new FakeAccess();
const clients: TestWs[] = [];
before(async () => {
  s = await startServer({ namespaces: NAMESPACES, clientPublishPerSecond: PER_SECOND }, { access });
});
after(async () => {
  for (const c of clients) c.close();
  await s.close();
});

async function client(url = s.wsUrl): Promise<TestWs> {
  const c = await TestWs.connect(url);
  clients.push(c);
  return c;
}

async function history(base: string, channel: string): Promise<Msg> {
  const res = await fetch(`${base}/api/history?channel=${channel}&since=0`, {
    headers: { 'x-api-key': API_KEY },
  });
  return (await res.json()) as Msg;
}

describe('client publish', () => {
  it('reaches another subscriber with its offset and is in history, like an API publication', async () => {
    const reader = await client();
    const writer = await client();
    assert.equal((await reader.request({ id: 1, op: 'subscribe', channel: 'chat:room' }))['ok'], true);
    const session = [...s.server.ws.sessions].find((x) => x.closed === false && x.subscriptions.size === 0);
    assert.equal(
      (session as WsSession).publishLimit,
      null,
      'no rate-limit bucket before the first publication',
    );
    const reply = await writer.request({ id: 7, op: 'publish', channel: 'chat:room', data: { text: 'hi' } });
    assert.equal(reply['ok'], true);
    assert.equal(reply['offset'], 1);
    assert.equal(typeof reply['epoch'], 'string');
    const [msg] = await reader.waitForMessages(1, 'chat:room');
    assert.deepEqual([msg!['offset'], msg!['data']], [1, { text: 'hi' }]);
    assert.deepEqual(access.asked.at(-1), {
      user: null,
      channel: 'chat:room',
      data: '{"text":"hi"}',
      transport: 'ws',
    });
    const h = await history(s.base, 'chat:room');
    assert.equal(h['epoch'], reply['epoch']);
    assert.deepEqual(
      (h['messages'] as Msg[]).map((m) => m['data']),
      [{ text: 'hi' }],
    );
    // An API publication continues the same offsets.
    assert.equal((await s.publish('chat:room', 'api')).offset, 2);
    assert.ok(s.server.ws.sessions.size >= 2);
  });

  it('refused by Access: permission_denied, nothing published, nothing of the channel told', async () => {
    access.refused.add('chat:closed');
    const c = await client();
    const reply = await c.request({ id: 2, op: 'publish', channel: 'chat:closed', data: 1 });
    assert.deepEqual(Object.keys(reply).sort(), ['error', 'id']);
    assert.equal((reply['error'] as Msg)['code'], 'permission_denied');
    const h = await history(s.base, 'chat:closed');
    assert.equal(h['offset'], 0);
  });

  it('a malformed publish gets its coded error', async () => {
    const c = await client();
    const noData = await c.request({ id: 3, op: 'publish', channel: 'chat:x' });
    assert.equal((noData['error'] as Msg)['code'], 'bad_request');
    const badChannel = await c.request({ id: 4, op: 'publish', channel: 'bad channel', data: 1 });
    assert.equal((badChannel['error'] as Msg)['code'], 'invalid_channel');
  });

  it('past clientPublishPerSecond a connection gets rate_limited; another connection is not held back', async () => {
    const flooder = await client();
    const n = PER_SECOND * 4;
    for (let i = 0; i < n; i++) flooder.send({ id: 100 + i, op: 'publish', channel: 'chat:flood', data: i });
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => flooder.next((m) => m['id'] === 100 + i)),
    );
    const ok = replies.filter((r) => r['ok'] === true);
    const limited = replies.filter((r) => (r['error'] as Msg | undefined)?.['code'] === 'rate_limited');
    assert.equal(ok.length + limited.length, n);
    assert.ok(ok.length >= PER_SECOND, 'a full bucket to start with');
    assert.ok(limited.length > 0, 'the flood is cut');
    for (const r of limited) assert.deepEqual(Object.keys(r).sort(), ['error', 'id']);
    const h = await history(s.base, 'chat:flood');
    assert.equal(h['offset'], ok.length, 'only the allowed ones were published');
    const fresh = await client();
    const r = await fresh.request({ id: 1, op: 'publish', channel: 'chat:flood', data: 'other' });
    assert.equal(r['ok'], true);
  });
});

describe('client publish without namespaces (v1), or where the namespace does not allow it', () => {
  it('is refused with permission_denied, and the real Access lets it through where clientPublish is set', async () => {
    const v1 = await startServer({}, { access: new FakeAccess() });
    const real = await startServer({ namespaces: NAMESPACES });
    try {
      for (const [srv, channel] of [
        [v1, 'chat:room'],
        [real, 'lobby'],
      ] as const) {
        const c = await client(srv.wsUrl);
        const reply = await c.request({ id: 1, op: 'publish', channel, data: 1 });
        assert.deepEqual(Object.keys(reply).sort(), ['error', 'id']);
        assert.equal((reply['error'] as { code: string }).code, 'permission_denied');
        assert.equal((await history(srv.base, channel))['offset'], 0);
      }
      const c = await client(real.wsUrl);
      const ok = await c.request({ id: 2, op: 'publish', channel: 'chat:room', data: { n: 1 } });
      assert.equal(ok['ok'], true);
      assert.equal((await history(real.base, 'chat:room'))['offset'], 1);
    } finally {
      await v1.close();
      await real.close();
    }
  });
});
