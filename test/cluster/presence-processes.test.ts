import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnServer, workerPids } from '../helpers/proc.js';
import { mintToken, TOKEN_SECRET } from '../helpers/tokens.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';

/**
 * Presence over `holdfast serve --workers 2` (the cluster engine: the primary holds every
 * worker's members); identities from tokens signed with the configured tokenHmacSecret.
 */
const NAMESPACES = JSON.stringify({ '': { access: 'public' }, room: { presence: true, joinLeave: true } });
const ARGS = ['--workers', '2', '--namespaces', NAMESPACES, '--token-hmac-secret', TOKEN_SECRET];

async function members(base: string, channel: string): Promise<string[]> {
  const r = await fetch(`${base}/api/presence?channel=${encodeURIComponent(channel)}`, {
    headers: { 'x-api-key': 'test-key' },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await r.json()) as { members: { user: string }[] };
  return body.members.map((m) => m.user).sort();
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // A request that reached the killed worker: ask again.
    }
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pushes = (c: TestWs): string[] =>
  c.received.filter((m) => m['op'] === 'join' || m['op'] === 'leave').map((m) => `${m['op']} ${m['user']}`);

async function connect(port: number, sub: string | null, channel: string): Promise<TestWs> {
  const q = sub === null ? '' : `?token=${encodeURIComponent(await mintToken(sub))}`;
  const c = await TestWs.connect(`ws://127.0.0.1:${port}/ws${q}`);
  const r = await c.request({ id: 1, op: 'subscribe', channel } as Msg & { id: number });
  assert.equal(r['ok'], true, JSON.stringify(r));
  return c;
}

test('members on two workers are seen from both; a SIGKILLed worker’s members leave at once, with leave events', {
  timeout: 90_000,
}, async () => {
  const srv = await spawnServer(ARGS);
  const clients: TestWs[] = [];
  try {
    assert.equal((await workerPids(srv.base, 2)).size, 2);
    // Connections are spread over the workers (round robin): some of each kind land on each.
    const watchers: TestWs[] = [];
    const users: { name: string; ws: TestWs }[] = [];
    for (let i = 0; i < 6; i++) {
      const w = await connect(srv.port, null, 'room:k');
      watchers.push(w);
      clients.push(w);
    }
    for (let i = 0; i < 6; i++) {
      const name = `u${i}`;
      const u = await connect(srv.port, name, 'room:k');
      users.push({ name, ws: u });
      clients.push(u);
    }
    const all = users.map((u) => u.name).sort();
    await until('every member', async () => (await members(srv.base, 'room:k')).join() === all.join());
    // Every watcher sees every join, whichever worker it and the member are on.
    await until('six joins everywhere', () => watchers.every((w) => pushes(w).length === 6));
    for (const w of watchers) assert.deepEqual([...pushes(w)].sort(), all.map((n) => `join ${n}`).sort());

    const victim = [...(await workerPids(srv.base, 2))][0]!;
    process.kill(victim, 'SIGKILL');
    await until('the killed worker’s connections to close', () => clients.some((c) => c.closeCode !== null));
    // Give every socket of the victim time to report its close (the kernel resets them all).
    await until('the killed worker’s members to leave', async () => {
      const gone = users.filter((u) => u.ws.closeCode !== null).map((u) => u.name);
      const left = all.filter((n) => !gone.includes(n));
      return gone.length > 0 && (await members(srv.base, 'room:k')).join() === left.join();
    });
    const gone = users.filter((u) => u.ws.closeCode !== null).map((u) => u.name);
    const survivors = watchers.filter((w) => w.closeCode === null);
    assert.ok(gone.length > 0 && gone.length < users.length, 'members on both workers');
    for (const w of survivors) {
      await until('the leaves', () => pushes(w).length === 6 + gone.length);
      assert.deepEqual(pushes(w).slice(6).sort(), gone.map((n) => `leave ${n}`).sort());
    }
  } finally {
    for (const c of clients) c.close();
    await srv.stop();
  }
});
