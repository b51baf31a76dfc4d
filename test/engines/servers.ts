import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runPrefix, type Started } from './brokers.js';
import { Client, KEY, publishOk, type Server, startHoldfast } from './holdfast-servers.js';
import { readNeverPublished } from './read-attack.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * Holdfast servers sharing one broker, over real HTTP and WebSocket connections: what one
 * server takes reaches the other's clients in order, a client resumes on another server from a
 * position it got from the first, and a server rides out the broker going away and coming back.
 */
export function runServersSuite(
  name: string,
  started: Started,
  extraFlags: Record<string, unknown> = {},
  /** The broker's per-channel records under a prefix (keys, stream messages). */
  records?: (url: string, prefix: string) => Promise<number>,
): void {
  const skip = 'skip' in started ? started.skip : false;
  const url = 'broker' in started ? started.broker.url : '';
  after(async () => {
    if ('dispose' in started) await started.dispose();
  });
  const flags = (prefix: string): Record<string, unknown> => ({
    engine: url,
    enginePrefix: prefix,
    ...extraFlags,
  });

  describe(`two servers sharing ${name}`, { skip }, () => {
    const servers: Server[] = [];
    const clients: Client[] = [];
    after(async () => {
      for (const c of clients) c.close();
      for (const s of servers) await s.close();
    });

    it('a client on B receives what is published on A, in order, and resumes on B after A closes', async () => {
      const prefix = runPrefix('two');
      const a = await startHoldfast(flags(prefix));
      const b = await startHoldfast(flags(prefix));
      servers.push(a, b);
      const channel = 'room:shared';

      const onB = await Client.open(b.wsUrl);
      const onA = await Client.open(a.wsUrl);
      clients.push(onB, onA);
      const replyB = await onB.subscribe(1, channel);
      const replyA = await onA.subscribe(1, channel);
      assert.equal(replyB['ok'], true);
      assert.deepEqual([replyA['offset'], replyB['offset']], [0, 0], 'nothing published yet');

      const sent: { epoch: string; offset: number }[] = [];
      for (const i of range(40)) sent.push(await publishOk(i % 4 === 0 ? b : a, channel, { i }));
      assert.deepEqual(
        sent.map((p) => p.offset),
        range(40),
      );
      const gotB = await onB.count(channel, 40);
      assert.deepEqual(
        gotB.map((m) => m['offset']),
        range(40),
      );
      assert.deepEqual(
        gotB.map((m) => (m['data'] as { i: number }).i),
        range(40),
      );
      const gotA = await onA.count(channel, 40);
      assert.deepEqual(
        gotA.map((m) => m['offset']),
        range(40),
      );

      // The client on A stops at offset 25 (as if its connection dropped there), A goes away,
      // more is published through B, and the client comes back on B from A's position: the
      // epoch of its subscribe reply (taken before the first publication) and the last offset.
      const last = gotA[24]!;
      assert.equal(last['offset'], 25);
      onA.close();
      await a.close();
      for (const i of range(10)) await publishOk(b, channel, { i: 40 + i });
      const back = await Client.open(b.wsUrl);
      clients.push(back);
      const reply = await back.subscribe(7, channel, { epoch: replyA['epoch'] as string, offset: 25 });
      assert.equal(reply['ok'], true);
      assert.equal(reply['recovered'], true);
      assert.equal(reply['offset'], 50);
      const resumed = await back.count(channel, 25);
      assert.deepEqual(
        resumed.map((m) => m['offset']),
        range(25).map((i) => 25 + i),
      );
      assert.deepEqual(
        resumed.map((m) => (m['data'] as { i: number }).i),
        range(25).map((i) => 25 + i),
      );
    });

    it('clients that follow never-published channels and leave leave nothing in the broker', async (t) => {
      if (records === undefined) {
        t.skip(`no way to count ${name}'s records here`);
        return;
      }
      const prefix = runPrefix('read-attack');
      const a = await startHoldfast(flags(prefix));
      servers.push(a);
      await publishOk(a, 'published', 1);
      const before = await records(url, prefix);
      await readNeverPublished(a.server, a.base, { sse: 8, perRequest: 128, ws: 2, perClient: 64 });
      assert.equal(await records(url, prefix), before, 'no record for any of the names read');
    });

    it('shares history: GET /api/history on B lists what A published', async () => {
      const prefix = runPrefix('hist');
      const a = await startHoldfast(flags(prefix));
      const b = await startHoldfast(flags(prefix));
      servers.push(a, b);
      for (const i of range(5)) await publishOk(a, 'news', i);
      const res = await fetch(`${b.base}/api/history?channel=news&since=2&limit=2`, {
        headers: { 'x-api-key': KEY },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { offset: number; messages: { offset: number; data: number }[] };
      assert.equal(body.offset, 5);
      assert.deepEqual(
        body.messages.map((m) => [m.offset, m.data]),
        [
          [3, 3],
          [4, 4],
        ],
      );
    });
  });

  describe(`${name} going away and coming back`, {
    skip:
      skip ||
      ('broker' in started && !started.broker.owned
        ? 'needs a redis-server this test starts (REDIS_URL given)'
        : false),
  }, () => {
    it('says not ready and refuses publications with 503 meanwhile; clients get what follows', async () => {
      if (!('broker' in started)) return;
      const broker = started.broker;
      const s = await startHoldfast(flags(runPrefix('outage')));
      const client = await Client.open(s.wsUrl);
      try {
        assert.equal((await fetch(`${s.base}/ready`)).status, 200);
        await client.subscribe(1, 'live');
        await publishOk(s, 'live', 'before');
        await client.count('live', 1);

        await broker.stop();
        const notReady = await waitStatus(`${s.base}/ready`, 503);
        assert.deepEqual(notReady, { ready: false });
        const refused = await s.publish('live', 'during');
        assert.equal(refused.status, 503);
        assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'unavailable');
        const metrics = await (await fetch(`${s.base}/metrics`)).text();
        assert.match(metrics, /^holdfast_engine_ready\{[^}]*\} 0$/m, 'the metrics say the engine is down');

        await broker.restart();
        assert.deepEqual(await waitStatus(`${s.base}/ready`, 200), { ready: true });
        assert.match(await (await fetch(`${s.base}/metrics`)).text(), /^holdfast_engine_ready\{[^}]*\} 1$/m);
        // A broker may take a moment to serve everything after it accepts connections
        // (JetStream recovers its streams): 503 until then, as for any client.
        await waitPublish(s, 'live', 'after');
        const got = await client.count('live', 2);
        assert.deepEqual(
          got.map((m) => m['data']),
          ['before', 'after'],
        );
      } finally {
        client.close();
        await s.close();
      }
    });
  });
}

async function waitPublish(s: Server, channel: string, data: unknown): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const res = await s.publish(channel, data);
    if (res.status === 200) return;
    assert.equal(res.status, 503, 'only "retry later" while the broker comes back');
    if (Date.now() > end) throw new Error('publications still refused');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitStatus(url: string, status: number): Promise<unknown> {
  const end = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(url);
    const body = (await res.json()) as unknown;
    if (res.status === status) return body;
    if (Date.now() > end) throw new Error(`${url} still answers ${res.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
