import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import type { Backend } from '../../src/auth/access.js';
import { loadConfig } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { API_KEY } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * A refresh cannot keep a channel the new token no longer grants. The attack: the application
 * revokes a user's access to `room:secret` (the tokens it mints from now on leave it out of
 * `channels`); the client keeps its connection and refreshes with those tokens, and went on
 * receiving the channel for as long as it kept refreshing. A channel the backend allowed (the
 * subscribe proxy) stays, as the backend's answers do.
 */

const SECRET = 'refresh-grants-secret-0123456789abcdef';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ exp: Math.floor(Date.now() / 1000) + 600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));

async function start(backend?: Backend) {
  const config = loadConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      apiKey: API_KEY,
      logLevel: 'silent',
      tokenHmacSecret: SECRET,
      namespaces: { '': {}, room: { access: 'token' } },
    },
  });
  const server = new HoldfastServer(config, createEngine(config), backend ? { backend } : {});
  const port = await server.listen(0, '127.0.0.1');
  return { server, wsUrl: `ws://127.0.0.1:${port}/ws` };
}

const code = (m: Record<string, unknown>) => (m['error'] as { code: string } | undefined)?.code;

test('a refresh whose token no longer grants a followed channel is refused; once it is left, it passes', async () => {
  const s = await start();
  try {
    const c = await TestWs.connect(`${s.wsUrl}?token=${await sign({ sub: '7', channels: ['room:*'] })}`);
    assert.equal((await c.request({ id: 1, op: 'subscribe', channel: 'room:secret' }))['ok'], true);
    assert.equal((await c.request({ id: 2, op: 'subscribe', channel: 'room:open' }))['ok'], true);
    // Revoked: the new token grants room:open only.
    const narrower = await sign({ sub: '7', channels: ['room:open'] });
    const refused = await c.request({ id: 3, op: 'refresh', token: narrower });
    assert.equal(code(refused), 'permission_denied');
    assert.match((refused['error'] as { message: string }).message, /room:secret/);
    // A subscribe sent right behind the refresh is checked with the old token, and caught too.
    c.send({ id: 4, op: 'refresh', token: await sign({ sub: '7', channels: ['room:open'] }) });
    c.send({ id: 5, op: 'unsubscribe', channel: 'room:secret' });
    c.send({ id: 6, op: 'subscribe', channel: 'room:other' });
    assert.equal((await c.next((m) => m['id'] === 6))['ok'], true);
    assert.equal(code(await c.next((m) => m['id'] === 4)), 'permission_denied');
    assert.equal((await c.request({ id: 7, op: 'unsubscribe', channel: 'room:other' }))['ok'], true);
    assert.deepEqual(await c.request({ id: 8, op: 'refresh', token: narrower }), { id: 8, ok: true });
    // The new claims apply from now on.
    assert.equal(
      code(await c.request({ id: 9, op: 'subscribe', channel: 'room:secret' })),
      'permission_denied',
    );
    c.close();
  } finally {
    await s.server.close();
  }
});

test('with a subscribe proxy, a channel the new token no longer grants is asked again; one the backend allowed stays', async () => {
  const allowed = new Set(['room:asked']);
  const asked: string[] = [];
  const backend: Backend = {
    connect: null,
    publish: null,
    subscribe: async (_id, channel) => {
      asked.push(channel);
      if (!allowed.has(channel)) throw new HoldfastError('permission_denied');
    },
  };
  const s = await start(backend);
  try {
    const c = await TestWs.connect(
      `${s.wsUrl}?token=${await sign({ sub: '7', channels: ['room:granted'] })}`,
    );
    assert.equal((await c.request({ id: 1, op: 'subscribe', channel: 'room:granted' }))['ok'], true);
    assert.equal((await c.request({ id: 2, op: 'subscribe', channel: 'room:asked' }))['ok'], true);
    assert.deepEqual(asked, ['room:asked']);
    const bare = await sign({ sub: '7' });
    assert.equal(code(await c.request({ id: 3, op: 'refresh', token: bare })), 'permission_denied');
    // room:asked was the backend's decision, not the token's: not asked again.
    assert.deepEqual(asked, ['room:asked', 'room:granted']);
    allowed.add('room:granted');
    assert.deepEqual(await c.request({ id: 4, op: 'refresh', token: bare }), { id: 4, ok: true });
    c.close();
  } finally {
    await s.server.close();
  }
});
