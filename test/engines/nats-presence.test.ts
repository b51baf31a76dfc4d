import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NatsEngine } from '../../src/engines/nats/engine.js';
import type { PresenceEvent } from '../../src/engines/types.js';
import { runPrefix, startNats } from './brokers.js';
import { DEFAULT_LIMITS, eventually, freshChannel } from './conformance.js';
import { runPresenceConformance } from './presence-conformance.js';

const started = await startNats();
const url = 'broker' in started ? started.broker.url : '';
const skip = 'skip' in started ? started.skip : false;
after(async () => {
  if ('dispose' in started) await started.dispose();
});

/** A short presenceTimeout, so a dead node is reaped soon (the tests wait on the events). */
const TIMEOUT_MS = 900;

let n = 0;
// Presence is in a JetStream KV bucket whatever natsHistory says; pub/sub-only history here.
runPresenceConformance(
  'nats',
  async (nodes) => {
    const prefix = runPrefix(`nats-presence${n++}`);
    const engines = Array.from(
      { length: nodes },
      () =>
        new NatsEngine({
          servers: url,
          prefix,
          jetstream: false,
          history: DEFAULT_LIMITS,
          presenceTimeoutMs: TIMEOUT_MS,
        }),
    );
    const closed = new Set<number>();
    return {
      engines,
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

describe('nats presence: the registry', { skip }, () => {
  it('a node reaped while alive (it had stopped heartbeating) comes back with a new id and its members', async () => {
    const prefix = runPrefix('nats-presence-back');
    const make = () =>
      new NatsEngine({
        servers: url,
        prefix,
        jetstream: false,
        history: DEFAULT_LIMITS,
        presenceTimeoutMs: TIMEOUT_MS,
      });
    const a = make();
    const b = make();
    const seen: PresenceEvent[] = [];
    try {
      for (const e of [a, b]) await e.pubsub.start(() => undefined);
      await a.presence.start(() => undefined);
      await b.presence.start((ev) => seen.push(ev));
      const ch = freshChannel('back');
      await b.pubsub.subscribe(ch);
      await a.presence.join(ch, { client: 'c-back', user: 'u' });
      const before = a.presence.node;
      a.presence.stopHeartbeat();
      await eventually('the reap', () => seen.some((e) => e.op === 'leave'), 20_000);
      assert.deepEqual(await b.presence.members(ch), []);
      // Its heartbeat again (a test seam: the timer had been stopped) finds it reaped.
      a.presence.resumeHeartbeat();
      await eventually('its member joined again', () => seen.length === 3, 20_000);
      assert.notEqual(a.presence.node, before);
      assert.deepEqual(
        seen.map((e) => `${e.op} ${e.member.client}`),
        ['join c-back', 'leave c-back', 'join c-back'],
      );
      assert.deepEqual(
        (await b.presence.members(ch)).map((m) => m.client),
        ['c-back'],
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a leave or join that fails while NATS is down is made once it is back (no member stays or is missing for good)', {
    skip:
      'broker' in started && started.broker.owned
        ? false
        : 'needs a NATS server this test starts (to stop it)',
  }, async () => {
    const broker = 'broker' in started ? started.broker : null;
    assert.ok(broker !== null);
    const prefix = runPrefix('nats-presence-owed');
    const a = new NatsEngine({
      servers: url,
      prefix,
      jetstream: false,
      history: DEFAULT_LIMITS,
      presenceTimeoutMs: TIMEOUT_MS,
    });
    try {
      await a.pubsub.start(() => undefined);
      await a.presence.start(() => undefined);
      const ch = freshChannel('owed');
      await a.presence.join(ch, { client: 'c-owed', user: 'u' });
      await a.presence.join(ch, { client: 'c-stays', user: 'v' });
      await broker.stop();
      // The connection closes during the outage: its leave cannot reach JetStream (it times out).
      // Another completes its subscription meanwhile: its join cannot either.
      await Promise.all([
        a.presence.leave(ch, 'c-owed').catch(() => undefined),
        a.presence.join(ch, { client: 'c-late', user: 'w' }).catch(() => undefined),
      ]);
      await broker.restart(); // stopped already: starts it again, with its JetStream store
      // The node is alive and heartbeats again (never reaped): only a retry removes the member.
      const end = Date.now() + 30_000;
      for (;;) {
        const got = await a.presence.members(ch).catch(() => null);
        if (got !== null && got.length === 2 && !got.some((m) => m.client === 'c-owed')) {
          assert.deepEqual(got.map((m) => m.client).sort(), ['c-late', 'c-stays']);
          break;
        }
        if (Date.now() > end) assert.fail(`the owed leave was not made: ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await a.close();
    }
  });

  it('a node with a shorter presenceTimeout does not reap a live node heartbeating at its own, longer interval', async () => {
    const prefix = runPrefix('nats-presence-mixed');
    const make = (presenceTimeoutMs: number) =>
      new NatsEngine({ servers: url, prefix, jetstream: false, history: DEFAULT_LIMITS, presenceTimeoutMs });
    const slow = make(6000);
    const fast = make(300);
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
      await new Promise((r) => setTimeout(r, 1500));
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
