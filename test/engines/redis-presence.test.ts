import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisEngine } from '../../src/engines/redis/engine.js';
import { RedisPresence } from '../../src/engines/redis/presence.js';
import type { PresenceEvent } from '../../src/engines/types.js';
import { runPrefix, startRedis } from './brokers.js';
import { DEFAULT_LIMITS, eventually, freshChannel, sleep } from './conformance.js';
import { runPresenceConformance } from './presence-conformance.js';

const started = await startRedis();
const url = 'broker' in started ? started.broker.url : '';
const skip = 'skip' in started ? started.skip : false;
after(async () => {
  if ('dispose' in started) await started.dispose();
});

/** A short presenceTimeout, so a dead node is reaped soon (the tests wait on the events). */
const TIMEOUT_MS = 900;

function make(prefix: string): RedisEngine {
  return new RedisEngine({ url, prefix, history: DEFAULT_LIMITS, presenceTimeoutMs: TIMEOUT_MS });
}

let n = 0;
runPresenceConformance(
  'redis',
  async (nodes) => {
    const prefix = runPrefix(`redis-presence${n++}`);
    const engines = Array.from({ length: nodes }, () => make(prefix));
    const closed = new Set<number>();
    return {
      engines,
      // Dead without leaving: the process's heartbeat stops and its connections go.
      kill: async (i) => {
        engines[i]!.presence.stopHeartbeat();
        closed.add(i);
        await engines[i]!.close();
      },
      cleanup: async () => {
        for (const [i, e] of engines.entries()) if (!closed.has(i)) await e.close();
      },
    };
  },
  { maxNodes: 2, skip },
);

describe('redis presence: the registry', { skip }, () => {
  it('a node reaped while alive (it had stopped heartbeating) comes back with a new id and its members', async () => {
    const prefix = runPrefix('redis-presence-back');
    const a = make(prefix);
    const b = make(prefix);
    const seen: PresenceEvent[] = [];
    try {
      for (const e of [a, b]) await e.pubsub.start(() => undefined);
      await a.presence.start(() => undefined);
      await b.presence.start((ev) => seen.push(ev));
      const ch = freshChannel('back');
      await b.pubsub.subscribe(ch);
      const m = { client: 'c-back', user: 'u' };
      await a.presence.join(ch, m);
      const before = a.presence.node;
      a.presence.stopHeartbeat();
      await eventually('the reap', () => seen.some((e) => e.op === 'leave'), 20_000);
      assert.deepEqual(await b.presence.members(ch), []);
      // Its next heartbeat (here: a join) finds it unregistered: a new id, and its members again.
      await a.presence.join(ch, { client: 'c-back-2', user: 'u' });
      await eventually('both joins again', () => seen.length === 4);
      assert.equal((await b.presence.members(ch)).length, 2);
      assert.notEqual(a.presence.node, before);
      assert.deepEqual(
        seen.map((e) => `${e.op} ${e.member.client}`),
        ['join c-back', 'leave c-back', 'join c-back', 'join c-back-2'],
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a node closed after its members left takes itself out of the registry', async () => {
    const prefix = runPrefix('redis-presence-out');
    const a = make(prefix);
    const admin = new Redis(url);
    try {
      await a.pubsub.start(() => undefined);
      await a.presence.start(() => undefined);
      assert.equal(await admin.zcard(`${prefix}:pn`), 1);
      const ch = freshChannel('out');
      await a.presence.join(ch, { client: 'x', user: 'u' });
      await a.presence.leave(ch, 'x');
      await a.close();
      assert.equal(await admin.zcard(`${prefix}:pn`), 0);
      assert.deepEqual(await admin.keys(`${prefix}:*`), []);
    } finally {
      admin.disconnect();
    }
  });

  it('a leave that fails while Redis is unreachable is made once it is back (the member does not stay for good)', async () => {
    const prefix = runPrefix('redis-presence-owed');
    const cmd = new Redis(url);
    let down = false;
    const p = new RedisPresence({ prefix, timeoutMs: TIMEOUT_MS, client: () => (down ? null : cmd) });
    try {
      if (cmd.status !== 'ready') await once(cmd, 'ready');
      await p.start(() => undefined);
      const ch = freshChannel('owed');
      await p.join(ch, { client: 'c-owed', user: 'u' });
      await p.join(ch, { client: 'c-stays', user: 'v' });
      // The connection closes during an outage (ioredis reconnecting): its leave cannot run now.
      down = true;
      await assert.rejects(p.leave(ch, 'c-owed'));
      down = false;
      // The node heartbeats on (it is alive, so never reaped): only a retry removes the member.
      const end = Date.now() + 10_000;
      while ((await p.members(ch)).length > 1) {
        if (Date.now() > end) assert.fail('timed out waiting for the owed leave');
        await sleep(20);
      }
      assert.deepEqual(await p.members(ch), [{ client: 'c-stays', user: 'v' }]);
      assert.deepEqual(await p.stats(ch), { clients: 1, users: 1 });
      await p.leave(ch, 'c-stays');
    } finally {
      await p.close();
      cmd.disconnect();
    }
  });

  it('a leave owed from an outage is not made once the same connection has joined again', async () => {
    const prefix = runPrefix('redis-presence-owed2');
    const cmd = new Redis(url);
    let down = false;
    const p = new RedisPresence({ prefix, timeoutMs: TIMEOUT_MS, client: () => (down ? null : cmd) });
    try {
      if (cmd.status !== 'ready') await once(cmd, 'ready');
      await p.start(() => undefined);
      const ch = freshChannel('owed2');
      await p.join(ch, { client: 'c-back', user: 'u' });
      down = true;
      await assert.rejects(p.leave(ch, 'c-back'));
      down = false;
      await p.join(ch, { client: 'c-back', user: 'u' });
      // Two reap intervals: any owed leave would have run.
      await sleep(p.intervalMs * 3);
      assert.deepEqual(await p.members(ch), [{ client: 'c-back', user: 'u' }]);
      await p.leave(ch, 'c-back');
    } finally {
      await p.close();
      cmd.disconnect();
    }
  });

  it('a join that fails while Redis is unreachable is made once it is back (the member is not missing for good)', async () => {
    const prefix = runPrefix('redis-presence-owedjoin');
    const cmd = new Redis(url);
    let down = false;
    const p = new RedisPresence({ prefix, timeoutMs: TIMEOUT_MS, client: () => (down ? null : cmd) });
    try {
      if (cmd.status !== 'ready') await once(cmd, 'ready');
      await p.start(() => undefined);
      const ch = freshChannel('owedjoin');
      // A subscription completes during an outage shorter than presenceTimeout: no reap follows,
      // so no re-registration would join the member again.
      down = true;
      await assert.rejects(p.join(ch, { client: 'c-late', user: 'u' }));
      await assert.rejects(p.join(ch, { client: 'c-gone', user: 'v' }));
      await assert.rejects(p.leave(ch, 'c-gone'));
      down = false;
      const end = Date.now() + 10_000;
      while ((await p.members(ch)).length === 0) {
        if (Date.now() > end) assert.fail('timed out waiting for the owed join');
        await sleep(20);
      }
      await sleep(p.intervalMs * 2);
      assert.deepEqual(await p.members(ch), [{ client: 'c-late', user: 'u' }]);
      await p.leave(ch, 'c-late');
      assert.deepEqual(await p.members(ch), []);
    } finally {
      await p.close();
      cmd.disconnect();
    }
  });

  it('a node with a shorter presenceTimeout does not reap a live node heartbeating at its own, longer interval', async () => {
    // Servers of one deployment with different presenceTimeout (a rolling config change): the
    // short one took the long one for dead between its heartbeats, so its members left and
    // joined again at every one of them.
    const prefix = runPrefix('redis-presence-mixed');
    const slow = new RedisEngine({ url, prefix, history: DEFAULT_LIMITS, presenceTimeoutMs: 6000 });
    const fast = new RedisEngine({ url, prefix, history: DEFAULT_LIMITS, presenceTimeoutMs: 300 });
    const seen: PresenceEvent[] = [];
    try {
      for (const e of [slow, fast]) await e.pubsub.start(() => undefined);
      await slow.presence.start(() => undefined);
      await fast.presence.start((ev) => seen.push(ev));
      const ch = freshChannel('mixed');
      await fast.pubsub.subscribe(ch);
      await slow.presence.join(ch, { client: 'c-slow', user: 'u' });
      const node = slow.presence.node;
      // Longer than the fast node's timeout plus its reap interval, shorter than the slow one's interval.
      await sleep(1500);
      assert.equal(slow.presence.node, node);
      assert.deepEqual(await fast.presence.members(ch), [{ client: 'c-slow', user: 'u' }]);
      assert.deepEqual(
        seen.map((e) => e.op),
        ['join'],
      );
      await slow.presence.leave(ch, 'c-slow');
    } finally {
      await slow.close();
      await fast.close();
    }
  });
});
