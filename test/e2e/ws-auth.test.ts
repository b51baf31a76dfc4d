import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/** WebSocket credentials by header, and a v1 server that ignores tokens. */

const SECRET = 'ws-auth-secret-0123456789abcdef';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

test('Authorization: Bearer at the upgrade; user channels admit only their users', async () => {
  const s = await startServer({ tokenHmacSecret: SECRET });
  try {
    const token = await sign({ sub: '42' });
    const a = await TestWs.connect(s.wsUrl, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await a.request({ id: 1, op: 'subscribe', channel: 'dialog:#42,43' }))['ok'], true);
    const refused = await a.request({ id: 2, op: 'subscribe', channel: 'dialog:#43,44' });
    assert.deepEqual(refused, { id: 2, error: { code: 'permission_denied', message: 'Permission denied.' } });
    // No namespaces option: everything else is public, as in v1.
    assert.equal((await a.request({ id: 3, op: 'subscribe', channel: 'news' }))['ok'], true);
    const anon = await TestWs.connect(s.wsUrl);
    assert.equal(
      ((await anon.request({ id: 1, op: 'subscribe', channel: 'feed#42' }))['error'] as { code: string })
        .code,
      'permission_denied',
    );
    assert.equal((await anon.request({ id: 2, op: 'subscribe', channel: 'news' }))['ok'], true);
    await s.publish('dialog:#42,43', { n: 1 });
    await a.waitForMessages(1, 'dialog:#42,43');
    a.close();
    anon.close();
  } finally {
    await s.close();
  }
});

test('a server without access options ignores tokens and knows no refresh (v1)', async () => {
  const s = await startServer();
  try {
    const c = await TestWs.connect(`${s.wsUrl}?token=garbage`);
    assert.equal((await c.request({ id: 1, op: 'subscribe', channel: 'dialog:#42' }))['ok'], true);
    assert.deepEqual(await c.request({ id: 2, op: 'refresh', token: 'x' }), {
      id: 2,
      error: { code: 'unknown_op', message: 'Unknown op "refresh".' },
    });
    c.close();
  } finally {
    await s.close();
  }
});
