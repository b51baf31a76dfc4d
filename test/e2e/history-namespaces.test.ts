import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runPrefix, type Started, startNats, startRedis } from '../engines/brokers.js';
import { API_KEY, type Running, startServer } from '../helpers/server.js';

/**
 * Per-namespace history limits through a whole server (createEngine builds every engine from
 * the config's namespaces), on each engine this machine can run.
 */
const NAMESPACES = { '': { historySize: 3 }, big: { historySize: 8 }, none: { historySize: 0 } };

async function history(s: Running, channel: string): Promise<{ offset: number; kept: number[] }> {
  const res = await fetch(`${s.base}/api/history?channel=${encodeURIComponent(channel)}&since=0&limit=100`, {
    headers: { 'x-api-key': API_KEY },
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { offset: number; messages: { offset: number }[] };
  return { offset: body.offset, kept: body.messages.map((m) => m.offset) };
}

const redis = await startRedis();
const nats = await startNats();
after(async () => {
  for (const b of [redis, nats]) if ('dispose' in b) await b.dispose();
});

const engines: [string, Started | null][] = [
  ['memory', null],
  ['redis', redis],
  ['nats', nats],
];

for (const [name, broker] of engines) {
  describe(`history per namespace through the server: ${name}`, {
    skip: broker !== null && 'skip' in broker ? broker.skip : false,
  }, () => {
    let s: Running;
    before(async () => {
      const engine = broker !== null && 'broker' in broker ? { engine: broker.broker.url } : {};
      s = await startServer({
        ...engine,
        enginePrefix: runPrefix(`e2e-${name}`),
        historySize: 5,
        namespaces: NAMESPACES,
      });
    });
    after(() => s.close());

    it("keeps what each channel's namespace says", async () => {
      for (let i = 1; i <= 10; i++) {
        await s.publish('news', i);
        await s.publish('big:news', i);
        await s.publish('none:news', i);
      }
      assert.deepEqual(await history(s, 'news'), { offset: 10, kept: [8, 9, 10] });
      assert.deepEqual(await history(s, 'big:news'), { offset: 10, kept: [3, 4, 5, 6, 7, 8, 9, 10] });
      assert.deepEqual(await history(s, 'none:news'), { offset: 10, kept: [] });
    });
  });
}
