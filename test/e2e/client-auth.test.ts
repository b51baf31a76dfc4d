import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { Holdfast } from '../../src/client/holdfast.js';
import type { HoldfastOptions } from '../../src/client/options.js';
import type { Member } from '../../src/client/transport.js';
import type { WebSocketConstructor } from '../../src/client/ws.js';
import { type Running, startServer } from '../helpers/server.js';
import { mintToken, TOKEN_SECRET } from '../helpers/tokens.js';

/** The client library with tokens, presence and client publish, against a real server. */
const WS = WebSocket as unknown as WebSocketConstructor;
const NAMESPACES = JSON.stringify({
  '': {},
  chat: { access: 'token', presence: true, joinLeave: true, clientPublish: true },
});
let s: Running;
before(async () => {
  s = await startServer({ tokenHmacSecret: TOKEN_SECRET, namespaces: NAMESPACES });
});
after(() => s.close());

function connect(opts: HoldfastOptions): Holdfast {
  return new Holdfast(s.base, { WebSocket: WS, backoff: { baseMs: 50, capMs: 500 }, ...opts });
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('presence, join and leave, and client publish on WebSocket', async () => {
  const ada = connect({ token: await mintToken('ada', { channels: ['chat:*'], info: { name: 'Ada' } }) });
  const joins: Member[] = [];
  const leaves: Member[] = [];
  const got: unknown[] = [];
  const room = ada.subscribe('chat:room', {
    onJoin: (m) => joins.push(m),
    onLeave: (m) => leaves.push(m),
    onMessage: (d) => got.push(d),
  });
  await until('ada joined', () => joins.some((m) => m.user === 'ada'));
  const bob = connect({ getToken: () => mintToken('bob', { channels: ['chat:room'] }) });
  bob.subscribe('chat:room');
  await until('bob joined', () => joins.some((m) => m.user === 'bob'));
  const members = await room.presence();
  assert.deepEqual(members.map((m) => m.user).sort(), ['ada', 'bob']);
  assert.deepEqual(members.find((m) => m.user === 'ada')?.info, { name: 'Ada' });
  const published = await bob.publish('chat:room', { text: 'hi' });
  assert.equal(typeof published.epoch, 'string');
  await until('the message', () => got.length === 1);
  assert.deepEqual(got, [{ text: 'hi' }]);
  bob.close();
  await until('bob left', () => leaves.some((m) => m.user === 'bob'));
  await assert.rejects(ada.publish('news', 1), { code: 'permission_denied' });
  ada.close();
});

test('a refused subscription ends with its error; the connection goes on', async () => {
  const hf = connect({ token: await mintToken('eve', { channels: ['chat:lobby'] }) });
  const errors: string[] = [];
  hf.subscribe('chat:secret', { onError: (e) => errors.push(e.code) });
  await until('the refusal', () => errors.length === 1);
  assert.deepEqual(errors, ['permission_denied']);
  assert.equal(hf.state, 'connected');
  hf.close();
});

test('getToken is called again before exp and the token is refreshed on the open connection', async () => {
  let tokens = 0;
  const hf = connect({
    getToken: () => {
      tokens++;
      return new SignJWT({ channels: ['chat:room'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('ann')
        .setExpirationTime(Math.floor(Date.now() / 1000) + 3)
        .sign(new TextEncoder().encode(TOKEN_SECRET));
    },
  });
  const states: string[] = [];
  hf.on('state', (st) => states.push(st));
  const errors: string[] = [];
  hf.on('error', (e) => errors.push(e.code));
  hf.subscribe('chat:room');
  await until('connected', () => hf.state === 'connected');
  // Past the first token's exp (and the server's expiry sweep): refreshed, never closed.
  await until('three tokens', () => tokens >= 3, 20_000);
  assert.deepEqual(states, ['connecting', 'connected'], 'one connection throughout');
  assert.deepEqual(errors, []);
  hf.close();
});

for (const transport of ['ws', 'sse'] as const) {
  test(`${transport}: a bad token stops the client with the server's code`, async () => {
    const hf = connect({
      token: await mintToken('mallory', {}, 'another-secret-0123456789abcdef'),
      transports: [transport],
    });
    const errors: { code: string; closeCode: number | null }[] = [];
    hf.on('error', (e) => errors.push({ code: e.code, closeCode: e.closeCode }));
    hf.subscribe('chat:room');
    await until('the error', () => errors.length > 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(hf.state, 'disconnected');
    assert.deepEqual(
      errors,
      transport === 'ws'
        ? [{ code: 'disconnect', closeCode: 3506 }]
        : [{ code: 'invalid_token', closeCode: null }],
    );
    hf.close();
  });
}
