import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { parseNamespaces } from '../../src/config/namespaces.js';
import { RedisEngine } from '../../src/engines/redis/engine.js';
import { redisChannelKeys, runPrefix, startRedis } from './brokers.js';
import {
  DEFAULT_LIMITS,
  type EngineLimits,
  eventually,
  Received,
  runEngineConformance,
  sleep,
} from './conformance.js';

const started = await startRedis();
const url = 'broker' in started ? started.broker.url : '';
after(async () => {
  if ('dispose' in started) await started.dispose();
});

let n = 0;
function make(prefix: string, limits: EngineLimits): RedisEngine {
  return new RedisEngine({ url, prefix, history: limits });
}

runEngineConformance(
  'redis',
  async (limits) => {
    const prefix = runPrefix(`redis${n++}`);
    const engine = make(prefix, limits);
    return { engine, records: () => redisChannelKeys(url, prefix), cleanup: () => engine.close() };
  },
  {
    skip: 'skip' in started ? started.skip : false,
    makePeers: async (limits) => {
      const prefix = runPrefix(`redis-peers${n++}`);
      const a = make(prefix, limits);
      const b = make(prefix, limits);
      return {
        engines: [a, b],
        cleanup: async () => {
          await a.close();
          await b.close();
        },
      };
    },
  },
);

describe('redis engine: losing the subscription connection', {
  skip: 'skip' in started ? started.skip : false,
}, () => {
  it('delivers, once and in order, what was published while it was reconnecting', async () => {
    const prefix = runPrefix('kill');
    const a = make(prefix, DEFAULT_LIMITS);
    const b = make(prefix, DEFAULT_LIMITS);
    const admin = new Redis(url);
    const got = new Received();
    try {
      await a.pubsub.start(got.handler);
      await b.pubsub.start(() => undefined);
      await a.pubsub.subscribe('k');
      await b.pubsub.publish('k', '0');
      await eventually('the first publication', () => got.pubs.length === 1);
      const list = (await admin.client('LIST')) as string;
      const line = list.split('\n').find((l) => l.includes(`name=holdfast-${a.id}`) && / sub=[1-9]/.test(l));
      assert.ok(line !== undefined, 'the subscription connection is listed');
      const id = /\bid=(\d+)/.exec(line ?? '')![1]!;
      await admin.client('KILL', 'ID', id);
      const sent = await Promise.all(
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => b.pubsub.publish('k', String(i))),
      );
      await eventually('the reconnection', () => a.reconnects >= 1 && a.ready());
      await eventually('every publication', () => got.pubs.length >= 11);
      await sleep(50);
      assert.deepEqual(
        got.pubs.map((p) => p.offset),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      );
      assert.deepEqual(
        got.pubs.slice(1).map((p) => p.data),
        [...sent].sort((x, y) => x.offset - y.offset).map((p) => p.data),
      );
    } finally {
      admin.disconnect();
      await a.close();
      await b.close();
    }
  });

  it('fails to start with a clear error when Redis is unreachable', async () => {
    const engine = new RedisEngine({
      url: 'redis://127.0.0.1:1',
      prefix: 'x',
      history: DEFAULT_LIMITS,
      connectTimeoutMs: 500,
    });
    await assert.rejects(
      engine.pubsub.start(() => undefined),
      /redis engine: cannot reach redis:\/\/127\.0\.0\.1:1/,
    );
    assert.equal(engine.ready(), false);
    await engine.close();
  });
});

describe('redis engine: broker subscriptions', { skip: 'skip' in started ? started.skip : false }, () => {
  it('holds a Redis subscription for a channel only between subscribe and unsubscribe', async () => {
    const prefix = runPrefix('numsub');
    const engine = make(prefix, DEFAULT_LIMITS);
    const admin = new Redis(url);
    const numsub = async (channel: string): Promise<number> => {
      const r = (await admin.pubsub('NUMSUB', `${prefix}:p:${channel}`)) as [string, number];
      return Number(r[1]);
    };
    try {
      await engine.pubsub.start(() => undefined);
      assert.equal(await numsub('x'), 0);
      await engine.pubsub.publish('x', '1');
      assert.equal(await numsub('x'), 0, 'publishing does not subscribe');
      await engine.pubsub.subscribe('x');
      assert.equal(await numsub('x'), 1);
      await engine.pubsub.unsubscribe('x');
      assert.equal(await numsub('x'), 0);
    } finally {
      admin.disconnect();
      await engine.close();
    }
  });
});

describe('redis engine: per-namespace history', { skip: 'skip' in started ? started.skip : false }, () => {
  it("trims each channel's stream to its namespace's size; historySize 0 keeps no stream", async () => {
    const prefix = runPrefix('ns');
    const namespaces = (none: number) =>
      parseNamespaces(
        { small: { historySize: 2 }, none: { historySize: none } },
        { historySize: 5, historyTtl: 60 },
      );
    const admin = new Redis(url);
    const before = make(prefix, { ...DEFAULT_LIMITS, size: 5, namespaces: namespaces(4) });
    const after_ = make(prefix, { ...DEFAULT_LIMITS, size: 5, namespaces: namespaces(0) });
    try {
      await before.pubsub.start(() => undefined);
      await after_.pubsub.start(() => undefined);
      for (let i = 1; i <= 6; i++) {
        await before.pubsub.publish('small:c', String(i));
        await before.pubsub.publish('none:c', String(i));
      }
      assert.equal(
        await admin.xlen(`${prefix}:{small:c}:s`),
        2,
        'Redis holds no more than the namespace keeps',
      );
      assert.equal(await admin.xlen(`${prefix}:{none:c}:s`), 4);
      // The configuration now says none:* keep nothing: what an earlier one kept goes too.
      const pub = await after_.pubsub.publish('none:c', '7');
      assert.equal(pub.offset, 7);
      assert.equal(await admin.exists(`${prefix}:{none:c}:s`), 0);
      const res = await after_.history!.read('none:c', {
        since: { epoch: pub.epoch, offset: 0 },
        limit: 100,
      });
      assert.deepEqual([res.offset, res.publications], [7, []]);
    } finally {
      admin.disconnect();
      await before.close();
      await after_.close();
    }
  });
});
