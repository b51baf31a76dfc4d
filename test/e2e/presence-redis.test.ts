import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runPrefix, startRedis } from '../engines/brokers.js';
import { spawnServer } from '../helpers/proc.js';
import { API_KEY, type Running, startServer } from '../helpers/server.js';
import { mintToken, TOKEN_SECRET } from '../helpers/tokens.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';

/**
 * Presence across servers sharing one Redis: two servers in this process, and one `holdfast
 * serve` child process that is SIGKILLed, whose members the others reap (presenceTimeout 2 s
 * here, so within 2 s plus one reap interval; the test waits on the leave events).
 */
const started = await startRedis();
const skip = 'skip' in started ? started.skip : false;
const url = 'broker' in started ? started.broker.url : '';
const NAMESPACES = JSON.stringify({ '': { access: 'public' }, room: { presence: true, joinLeave: true } });
const prefix = runPrefix('presence-e2e');
const flags = {
  engine: url,
  enginePrefix: prefix,
  namespaces: NAMESPACES,
  tokenHmacSecret: TOKEN_SECRET,
  presenceTimeout: 2,
};

let a: Running;
let b: Running;
before(async () => {
  if (skip !== false) return;
  a = await startServer(flags);
  b = await startServer(flags);
});
after(async () => {
  await a?.close();
  await b?.close();
  if ('dispose' in started) await started.dispose();
});

async function connect(wsUrl: string, sub: string | null, channel: string): Promise<TestWs> {
  const q = sub === null ? '' : `?token=${encodeURIComponent(await mintToken(sub))}`;
  const c = await TestWs.connect(wsUrl + q);
  const r = await c.request({ id: 1, op: 'subscribe', channel } as Msg & { id: number });
  assert.equal(r['ok'], true, JSON.stringify(r));
  return c;
}

async function members(base: string, channel: string): Promise<string[]> {
  const r = await fetch(`${base}/api/presence?channel=${encodeURIComponent(channel)}`, {
    headers: { 'x-api-key': API_KEY },
  });
  return ((await r.json()) as { members: { user: string }[] }).members.map((m) => m.user).sort();
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pushes = (c: TestWs): string[] =>
  c.received.filter((m) => m['op'] === 'join' || m['op'] === 'leave').map((m) => `${m['op']} ${m['user']}`);

describe('presence across servers on Redis', { skip }, () => {
  it("both servers see both servers' members; a follower on one sees the other's joins and leaves in order", async () => {
    const watcher = await connect(b.wsUrl, null, 'room:x');
    const onB = await connect(b.wsUrl, 'bob', 'room:x');
    try {
      const want: string[] = ['join bob'];
      for (let i = 0; i < 3; i++) {
        const c = await connect(a.wsUrl, `a${i}`, 'room:x');
        await until('both servers list it', async () => {
          const [ma, mb] = [await members(a.base, 'room:x'), await members(b.base, 'room:x')];
          return ma.join() === ['bob', `a${i}`].sort().join() && mb.join() === ma.join();
        });
        c.close();
        want.push(`join a${i}`, `leave a${i}`);
      }
      await until('the pushes', () => pushes(watcher).length === want.length);
      assert.deepEqual(pushes(watcher), want);
      const stats = await fetch(`${a.base}/api/presence_stats?channel=room:x`, {
        headers: { 'x-api-key': API_KEY },
      });
      assert.deepEqual(await stats.json(), { channel: 'room:x', clients: 1, users: 1 });
    } finally {
      watcher.close();
      onB.close();
    }
  });

  it('the members of a SIGKILLed server leave, with leave events, within presenceTimeout and a reap interval', {
    timeout: 60_000,
  }, async () => {
    const srv = await spawnServer([
      '--engine',
      url,
      '--engine-prefix',
      prefix,
      '--namespaces',
      NAMESPACES,
      '--token-hmac-secret',
      TOKEN_SECRET,
      '--presence-timeout',
      '2',
    ]);
    const watcher = await connect(b.wsUrl, null, 'room:kill');
    const victims: TestWs[] = [];
    try {
      for (const name of ['v1', 'v2'])
        victims.push(await connect(`ws://127.0.0.1:${srv.port}/ws`, name, 'room:kill'));
      await until('the joins', () => pushes(watcher).length === 2);
      assert.deepEqual((await members(b.base, 'room:kill')).join(), 'v1,v2');
      srv.child.kill('SIGKILL');
      await srv.exited;
      await until('the leaves', () => pushes(watcher).length === 4);
      assert.deepEqual(pushes(watcher).slice(2).sort(), ['leave v1', 'leave v2']);
      assert.deepEqual(await members(a.base, 'room:kill'), []);
    } finally {
      watcher.close();
      for (const v of victims) v.close();
      await srv.stop();
    }
  });
});
