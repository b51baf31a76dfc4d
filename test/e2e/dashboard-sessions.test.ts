import assert from 'node:assert/strict';
import { Agent, type ClientRequest, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { LocalSessions, SessionStore } from '../../src/observe/dashboard/sessions.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { once } from '../helpers/http-once.js';
import { spawnServer } from '../helpers/proc.js';
import { until } from '../helpers/raw-http.js';
import { API_KEY, startServer } from '../helpers/server.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Logs in through the form; the cookie as a browser would send it back (name=value). */
async function login(port: number, opts: { agent?: Agent; headers?: Record<string, string> } = {}) {
  const res = await once(port, '/dashboard/login', {
    method: 'POST',
    headers: { ...FORM, ...opts.headers },
    body: new URLSearchParams({ key: API_KEY }).toString(),
    ...(opts.agent !== undefined ? { agent: opts.agent } : {}),
  });
  assert.equal(res.status, 303);
  const setCookie = String(res.headers['set-cookie'] ?? '');
  return { cookie: setCookie.split(';')[0]!, setCookie };
}

function page(port: number, cookie: string, agent?: Agent): Promise<number> {
  return once(port, '/dashboard', { headers: { cookie }, ...(agent !== undefined ? { agent } : {}) }).then(
    (r) => r.status,
  );
}

function logout(port: number, cookie: string, agent?: Agent): Promise<number> {
  return once(port, '/dashboard/logout', {
    method: 'POST',
    headers: { cookie },
    ...(agent !== undefined ? { agent } : {}),
  }).then((r) => r.status);
}

/** A /dashboard/stream followed with `cookie`: the events seen, and whether it ended. */
function follow(port: number, cookie: string, agent?: Agent) {
  const seen = { status: 0, events: 0, ended: false, req: null as ClientRequest | null };
  seen.req = request(
    { host: '127.0.0.1', port, path: '/dashboard/stream', headers: { cookie }, agent: agent ?? false },
    (res) => {
      seen.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        seen.events += d.split('event: stats').length - 1;
      });
      res.on('end', () => {
        seen.ended = true;
      });
      res.on('error', () => undefined);
    },
  );
  seen.req.on('error', () => undefined);
  seen.req.end();
  return seen;
}

describe('dashboard sessions', () => {
  let server: HoldfastServer;
  let port: number;

  before(async () => {
    ({ server, port } = await startServer());
  });
  after(() => server.close());

  it('gives every login its own session (the cookie was the same for all)', async () => {
    const a = await login(port);
    const b = await login(port);
    assert.notEqual(a.cookie, b.cookie);
    assert.match(a.setCookie, /HttpOnly/);
    assert.match(a.setCookie, /SameSite=Strict/);
    assert.match(a.setCookie, /Path=\/dashboard/);
    assert.match(a.setCookie, /Max-Age=\d+/);
    assert.equal(await page(port, a.cookie), 200);
    assert.equal(await page(port, b.cookie), 200);
  });

  it('refuses a cookie once its session has logged out (it stayed valid)', async () => {
    const a = await login(port);
    const b = await login(port);
    assert.equal(await logout(port, a.cookie), 303);
    assert.equal(await page(port, a.cookie), 401);
    const stream = await once(port, '/dashboard/stream', { headers: { cookie: a.cookie }, method: 'HEAD' });
    assert.equal(stream.status, 401);
    assert.equal(await page(port, b.cookie), 200, 'the other login is not ended');
  });

  it('sends a Secure cookie over HTTPS only through a trusted proxy', async () => {
    const plain = await login(port, { headers: { 'x-forwarded-proto': 'https' } });
    assert.doesNotMatch(plain.setCookie, /Secure/, 'X-Forwarded-Proto is ignored without trustProxy');
    const proxied = await startServer({ trustProxy: true });
    try {
      const viaHttps = await login(proxied.port, { headers: { 'x-forwarded-proto': 'https' } });
      assert.match(viaHttps.setCookie, /; Secure/);
      const viaHttp = await login(proxied.port, { headers: { 'x-forwarded-proto': 'http' } });
      assert.doesNotMatch(viaHttp.setCookie, /Secure/);
    } finally {
      await proxied.close();
    }
  });
});

describe('dashboard with X-API-Key', () => {
  it("makes no session, so a script polling the page cannot end the operator's login (each made one)", async () => {
    const config = loadConfig({ flags: { port: 0, host: '127.0.0.1', apiKey: API_KEY, logLevel: 'silent' } });
    const store = new SessionStore({ ttlMs: 60_000, max: 3 });
    const server = new HoldfastServer(config, createEngine(config), { sessions: new LocalSessions(store) });
    const port = await server.listen(0, '127.0.0.1');
    try {
      const operator = await login(port);
      for (let i = 0; i < 5; i++) {
        const res = await once(port, '/dashboard', { headers: { 'x-api-key': API_KEY } });
        assert.equal(res.status, 200);
        assert.equal(res.headers['set-cookie'], undefined, 'no login made');
      }
      assert.equal(store.size, 1, "only the operator's session");
      assert.equal(await page(port, operator.cookie), 200, 'the operator is still logged in');
      const stream = await once(port, '/dashboard/stream', {
        method: 'HEAD',
        headers: { 'x-api-key': API_KEY },
      });
      assert.equal(stream.status, 200, 'the stream takes the key too');
      assert.equal((await once(port, '/dashboard', { headers: { 'x-api-key': 'wrong' } })).status, 401);
    } finally {
      await server.close();
    }
  });
});

describe('dashboard streams end with their session', () => {
  it('at logout and at expiry (a stream opened before kept streaming)', async () => {
    let clock = Date.now();
    const config = loadConfig({ flags: { port: 0, host: '127.0.0.1', apiKey: API_KEY, logLevel: 'silent' } });
    const store = new SessionStore({ ttlMs: 60_000, now: () => clock });
    const server = new HoldfastServer(config, createEngine(config), { sessions: new LocalSessions(store) });
    const port = await server.listen(0, '127.0.0.1');
    const streams: ReturnType<typeof follow>[] = [];
    try {
      const a = await login(port);
      const b = await login(port);
      const sa = follow(port, a.cookie);
      const sb = follow(port, b.cookie);
      streams.push(sa, sb);
      await until(() => sa.events > 0 && sb.events > 0, 10_000, 'a first push on both');
      assert.equal(sa.status, 200);
      assert.equal(await logout(port, a.cookie), 303);
      await until(() => sa.ended, 10_000, 'the logged-out stream to end');
      const before = sb.events;
      await until(() => sb.events > before, 10_000, 'the other login to keep its stream');
      assert.equal(sb.ended, false);
      clock += 60_001;
      await until(() => sb.ended, 10_000, 'the expired stream to end');
    } finally {
      for (const s of streams) s.req?.destroy();
      await server.close();
    }
  });
});

/** A keep-alive agent whose one connection is served by the worker with `pid`. */
async function agentOn(port: number, pid: number): Promise<Agent> {
  for (let i = 0; i < 200; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const r = await once(port, '/health', { agent });
    if ((JSON.parse(r.body) as { pid: number }).pid === pid) return agent;
    agent.destroy();
  }
  throw new Error(`no connection reached worker ${pid}`);
}

async function workerOf(port: number, agent: Agent): Promise<number> {
  return (JSON.parse((await once(port, '/health', { agent })).body) as { pid: number }).pid;
}

describe('dashboard sessions with two workers', { timeout: 60_000 }, () => {
  it('a login holds on every worker, and its logout ends it on every worker', async () => {
    const srv = await spawnServer(['--workers', '2']);
    const agents: Agent[] = [];
    try {
      const pids = new Set<number>();
      for (let i = 0; i < 200 && pids.size < 2; i++) {
        pids.add((JSON.parse((await once(srv.port, '/health')).body) as { pid: number }).pid);
      }
      assert.equal(pids.size, 2);
      const [pa, pb] = [...pids] as [number, number];
      const a = await agentOn(srv.port, pa);
      const b = await agentOn(srv.port, pb);
      agents.push(a, b);

      const { cookie } = await login(srv.port, { agent: a });
      assert.equal(await page(srv.port, cookie, b), 200, 'valid on the other worker');
      assert.equal(await logout(srv.port, cookie, a), 303);
      assert.equal(await page(srv.port, cookie, b), 401, 'ended on the other worker');
      assert.equal(await page(srv.port, cookie, a), 401, 'ended where it logged out');
      assert.equal(await workerOf(srv.port, a), pa);
      assert.equal(await workerOf(srv.port, b), pb);

      // A stream on one worker ends when its login logs out on the other.
      const second = await login(srv.port, { agent: a });
      const onB = await agentOn(srv.port, pb);
      agents.push(onB);
      const stream = follow(srv.port, second.cookie, onB);
      try {
        await until(() => stream.events > 0, 10_000, 'a first push');
        assert.equal(await logout(srv.port, second.cookie, a), 303);
        await until(() => stream.ended, 10_000, 'the stream on the other worker to end');
      } finally {
        stream.req?.destroy();
      }
    } finally {
      for (const agent of agents) agent.destroy();
      await srv.stop();
    }
  });
});
