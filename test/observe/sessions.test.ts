import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import {
  LocalSessions,
  RemoteSessions,
  type SessionPort,
  SessionStore,
  serveSessions,
} from '../../src/observe/dashboard/sessions.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { once } from '../helpers/http-once.js';
import { API_KEY } from '../helpers/server.js';

test('a session expires on the server: its cookie is refused after the login time-out', async () => {
  let now = Date.now();
  const store = new SessionStore({ ttlMs: 60_000, now: () => now });
  const config = loadConfig({
    flags: { port: 0, host: '127.0.0.1', apiKey: API_KEY, logLevel: 'silent', dashboardSessionTtl: 60 },
  });
  const server = new HoldfastServer(config, createEngine(config), { sessions: new LocalSessions(store) });
  const port = await server.listen(0, '127.0.0.1');
  try {
    const res = await once(port, '/dashboard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `key=${API_KEY}`,
    });
    const setCookie = String(res.headers['set-cookie']);
    assert.match(setCookie, /Max-Age=60;/);
    const cookie = setCookie.split(';')[0]!;
    now += 59_999;
    assert.equal((await once(port, '/dashboard', { headers: { cookie } })).status, 200);
    now += 1;
    assert.equal((await once(port, '/dashboard', { headers: { cookie } })).status, 401);
    assert.equal(store.size, 0, 'the expired session is forgotten');
  } finally {
    await server.close();
  }
});

test('the store: ids are unique, end() ends one, and it is bounded', () => {
  let now = 0;
  const store = new SessionStore({ ttlMs: 1000, max: 3, now: () => now });
  const ids = [store.create(), store.create(), store.create()];
  assert.equal(new Set(ids).size, 3);
  for (const id of ids) assert.equal(store.valid(id), true);
  store.end(ids[1]!);
  assert.equal(store.valid(ids[1]!), false);
  const d = store.create();
  const e = store.create();
  assert.equal(store.size, 3, 'past the cap the oldest session ends');
  assert.equal(store.valid(ids[0]!), false);
  assert.equal(store.valid(d), true);
  assert.equal(store.valid(e), true);
  now = 1000;
  assert.equal(store.valid(e), false, 'expired at its time-out');
  store.create();
  assert.equal(store.size, 1, 'expired sessions are dropped when a new one is made');
  assert.equal(store.valid('not a session'), false);
});

/** Two ends of an in-process pipe, delivering on a later turn as IPC does. */
function pipe(): {
  worker: SessionPort<unknown, unknown>;
  primary: SessionPort<unknown, unknown>;
  cut(): void;
} {
  const handlers: { worker: ((m: unknown) => void)[]; primary: ((m: unknown) => void)[] } = {
    worker: [],
    primary: [],
  };
  let up = true;
  const end = (me: 'worker' | 'primary', peer: 'worker' | 'primary'): SessionPort<unknown, unknown> => ({
    send: (m: unknown) => {
      if (!up) return;
      setImmediate(() => {
        for (const h of handlers[peer]) h(structuredClone(m));
      });
    },
    onMessage: (h) => handlers[me].push(h),
    connected: () => up,
  });
  return {
    worker: end('worker', 'primary'),
    primary: end('primary', 'worker'),
    cut: () => {
      up = false;
    },
  };
}

test('workers share the primary store: a session made through one is valid through another and ends for both', async () => {
  const store = new SessionStore({ ttlMs: 60_000 });
  const p1 = pipe();
  const p2 = pipe();
  serveSessions(store, p1.primary, 1);
  serveSessions(store, p2.primary, 1);
  const w1 = new RemoteSessions(p1.worker, 1, 1);
  const w2 = new RemoteSessions(p2.worker, 2, 1);
  const id = await w1.create();
  assert.equal(await w2.valid(id), true);
  await w2.end(id);
  assert.equal(await w1.valid(id), false);
  p2.cut();
  const other = await w1.create();
  assert.equal(await w2.valid(other), false, 'a worker cut off from the primary refuses every cookie');
  await assert.rejects(w2.create());
});
