import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import type { Backend } from '../../src/auth/access.js';
import { loadConfig } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { API_KEY, type Running, startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * Credentials over time: a refresh keeps a WebSocket open past its first token's exp; without
 * one it closes with 3005; an SSE stream ends with a disconnect event; a held long-poll answers
 * and the next one is refused. Waits are on events (and on the token's own exp, which is whole
 * seconds); nothing asserts on elapsed time.
 */

const SECRET = 'token-expiry-secret-0123456789abcdef';
const nowS = () => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
/** Resolves once the wall clock is past `expS` (a token's exp) and one sweep of the expiry index. */
const pastExpiry = (expS: number) => until(() => Date.now() > expS * 1000 + 1100, 10_000, 'the expiry');

let s: Running;
before(async () => {
  s = await startServer({ tokenHmacSecret: SECRET });
});
after(() => s.close());

test('WebSocket: a refresh before exp keeps the connection open past it; without one it closes with 3005', async () => {
  const exp = nowS() + 2;
  const short = await sign({ sub: 'u1', exp });
  const refreshed = await TestWs.connect(`${s.wsUrl}?token=${short}`);
  const lapsing = await TestWs.connect(`${s.wsUrl}?token=${short}`);
  for (const c of [refreshed, lapsing]) {
    assert.equal((await c.request({ id: 1, op: 'subscribe', channel: 'exp-room' }))['ok'], true);
  }
  // Another user's token is refused, and the connection stays as it was.
  const other = await refreshed.request({
    id: 2,
    op: 'refresh',
    token: await sign({ sub: 'u2', exp: nowS() + 60 }),
  });
  assert.equal((other['error'] as { code: string }).code, 'invalid_token');
  const bad = await refreshed.request({ id: 3, op: 'refresh', token: 'not.a.token' });
  assert.equal((bad['error'] as { code: string }).code, 'invalid_token');
  const ok = await refreshed.request({
    id: 4,
    op: 'refresh',
    token: await sign({ sub: 'u1', exp: nowS() + 60 }),
  });
  assert.deepEqual(ok, { id: 4, ok: true });
  assert.equal(await lapsing.closed, 3005);
  await pastExpiry(exp);
  assert.deepEqual(await refreshed.request({ id: 5, op: 'ping' }), { id: 5, ok: true });
  await s.publish('exp-room', { n: 1 });
  await refreshed.waitForMessages(1, 'exp-room');
  assert.equal(refreshed.closeCode, null);
  refreshed.close();
});

test('WebSocket: a token that expires without refresh closes 3005 even if refreshed with an expired one', async () => {
  const exp = nowS() + 1;
  const c = await TestWs.connect(`${s.wsUrl}?token=${await sign({ sub: 'u3', exp })}`);
  const stale = await sign({ sub: 'u3', exp: nowS() - 1 });
  const reply = await c.request({ id: 1, op: 'refresh', token: stale });
  assert.equal((reply['error'] as { code: string }).code, 'token_expired');
  assert.equal(await c.closed, 3005);
});

test('an anonymous WebSocket cannot refresh into a user', async () => {
  const c = await TestWs.connect(s.wsUrl);
  const reply = await c.request({ id: 1, op: 'refresh', token: await sign({ sub: 'u4' }) });
  assert.equal((reply['error'] as { code: string }).code, 'invalid_token');
  c.close();
});

test('SSE: a stream outliving its token ends with a disconnect event (3005)', async () => {
  const exp = nowS() + 3;
  const token = await sign({ sub: 'u5', exp });
  // Through node:http (the first sight of the token), then the fast path (cached).
  const conns: RawConn[] = [];
  for (const open of [() => RawConn.afterAnother(s.port), () => RawConn.open(s.port)]) {
    const conn = await open();
    conn.socket.write(get(`/sse?channel=exp-sse&token=${token}`));
    await until(() => conn.text.includes('event: subscribed'), 5000, 'the subscription');
    conns.push(conn);
  }
  for (const conn of conns) {
    await until(() => conn.text.includes('event: disconnect'), 10_000, 'the disconnect');
    assert.match(conn.text, /event: disconnect\ndata: \{"code":3005,"reason":"token expired"/);
    await until(() => conn.closed, 5000, 'the end of the stream');
  }
});

test('long-poll: a held poll whose token expires answers then; the next poll gets 401 token_expired', async () => {
  const exp = nowS() + 2;
  const token = await sign({ sub: 'u6', exp });
  const conn = await RawConn.open(s.port);
  conn.socket.write(get('/poll?channel=exp-poll', `Authorization: Bearer ${token}\r\n`));
  await until(() => conn.responses().length === 1, 10_000, 'the held poll to answer');
  const first = conn.responses()[0]!;
  assert.equal(first.status, 200);
  const { cursor } = JSON.parse(first.body) as { cursor: string };
  await pastExpiry(exp);
  conn.socket.write(get(`/poll?channel=exp-poll&cursor=${cursor}`, `Authorization: Bearer ${token}\r\n`));
  await until(() => conn.responses().length === 2, 5000, 'the next answer');
  const second = conn.responses()[1]!;
  assert.equal(second.status, 401);
  assert.equal((JSON.parse(second.body) as { error: { code: string } }).error.code, 'token_expired');
  conn.destroy();
});

test('both paths answer a request alike (node:http, and the fast path once the token is cached)', async () => {
  const ns = await startServer({
    tokenHmacSecret: SECRET,
    namespaces: JSON.stringify({ '': {}, tok: { access: 'token' } }),
  });
  try {
    const token = await sign({ sub: 'u7', channels: ['tok:a'] });
    const { epoch } = await ns.publish('tok:a', { n: 1 });
    const cases = [
      `/poll?channel=tok:b&token=${token}`,
      `/poll?channel=tok:a&channel=zz:x&token=${token}`,
      `/sse?channel=tok:b&token=${token}`,
      '/sse?channel=tok:a',
      `/sse?channel=tok:a&token=${token}`,
      `/poll?channel=tok:a&cursor=${epoch}-0&token=${token}`,
    ];
    for (const target of cases) {
      const answers = [];
      // node:http first (it verifies and caches the token), then a fresh connection (fast path).
      for (const [path, open] of [
        ['node:http', () => RawConn.afterAnother(ns.port)],
        ['fast path', () => RawConn.open(ns.port)],
      ] as const) {
        const conn = await open();
        conn.socket.write(get(target, 'Origin: http://o.test\r\n'));
        await until(
          () =>
            conn.responses().length > 0 &&
            (conn.responses()[0]!.status !== 200 ||
              target.startsWith('/poll') ||
              conn.text.includes('\n\n', conn.text.indexOf('\r\n\r\n') + 4)),
          3000,
          `${path} ${target}`,
        );
        const r = conn.responses()[0]!;
        const head = [...r.headers].filter(([k]) => k !== 'date' && k !== 'connection' && k !== 'keep-alive');
        const body =
          target.startsWith('/sse') && r.status === 200 ? r.body.slice(0, r.body.indexOf('\n\n')) : r.body;
        answers.push({
          status: r.status,
          head: head.sort(),
          body: target.startsWith('/poll') && r.status === 200 ? '' : body,
        });
        conn.destroy();
      }
      assert.deepEqual(answers[1], answers[0], target);
    }
  } finally {
    await ns.close();
  }
});

test('a failing connect backend: WebSocket closes 3007, SSE and long-poll answer 503; a refusal 3501 / 403', async () => {
  let answer: HoldfastError = new HoldfastError('backend_unavailable');
  const backend: Backend = {
    connect: async () => {
      throw answer;
    },
    subscribe: null,
    publish: null,
  };
  const config = loadConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      apiKey: API_KEY,
      logLevel: 'silent',
      connectProxy: 'http://127.0.0.1:9/connect',
      allowedOrigins: 'https://app.test',
    },
  });
  const server = new HoldfastServer(config, createEngine(config), { backend });
  const port = await server.listen(0, '127.0.0.1');
  try {
    const ws = await TestWs.connect(`ws://127.0.0.1:${port}/ws`);
    assert.equal(await ws.closed, 3007);
    for (const path of ['/sse?channel=a', '/poll?channel=a']) {
      const conn = await RawConn.open(port);
      conn.socket.write(get(path));
      await until(() => conn.responses().length > 0);
      assert.equal(conn.responses()[0]!.status, 503, path);
      assert.match(conn.responses()[0]!.body, /backend_unavailable/);
      conn.destroy();
    }
    answer = new HoldfastError('permission_denied');
    const refused = await TestWs.connect(`ws://127.0.0.1:${port}/ws`);
    assert.equal(await refused.closed, 3501);
    const conn = await RawConn.open(port);
    conn.socket.write(get('/sse?channel=a'));
    await until(() => conn.responses().length > 0);
    assert.equal(conn.responses()[0]!.status, 403);
    conn.destroy();
  } finally {
    await server.close();
  }
});
