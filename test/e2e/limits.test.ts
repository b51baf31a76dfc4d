import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Disconnects } from '../../src/contract/codes.js';
import { RawWs } from '../helpers/raw-ws.js';
import { API_KEY, startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a client that stops reading is cut at its cap while the others keep receiving', {
  timeout: 60_000,
}, async () => {
  const s = await startServer({ maxQueuedBytes: 256 * 1024 });
  try {
    const good = await TestWs.connect(s.wsUrl);
    await good.request({ id: 1, op: 'subscribe', channel: 'big' });
    const slow = await RawWs.open(s.port);
    slow.send({ id: 1, op: 'subscribe', channel: 'big' });
    await until('two subscribers', () => s.server.node.channels()[0]?.subscribers === 2);
    slow.pause();
    const payload = 'x'.repeat(100_000);
    let published = 0;
    // Loopback socket buffers take several MB before the server's own queue grows.
    while (s.server.node.stats.disconnects.get(Disconnects.slow.code) === undefined && published < 400) {
      await s.publish('big', payload);
      published++;
    }
    assert.equal(s.server.node.stats.disconnects.get(Disconnects.slow.code), 1, 'the slow client was cut');
    assert.deepEqual(s.server.node.channels(), [{ channel: 'big', subscribers: 1 }]);
    const got = await good.waitForMessages(published, 'big', 30_000);
    assert.equal(got.length, published, 'the reading client got every message');
    good.close();
    slow.destroy();
  } finally {
    await s.close();
  }
});

test('a dead peer (no pong) is reaped', { timeout: 30_000 }, async () => {
  const s = await startServer({ pingInterval: 1 });
  try {
    const dead = await RawWs.open(s.port);
    dead.send({ id: 1, op: 'subscribe', channel: 'x' });
    await until('the subscription', () => s.server.node.channels().length === 1);
    dead.pause();
    await until('the reaping', () => s.server.node.stats.disconnects.get(Disconnects.noPong.code) === 1);
    // The session leaves the server's set when its socket has closed, which can be a turn later.
    await until('the session gone', () => s.server.ws.sessions.size === 0);
    dead.destroy();
  } finally {
    await s.close();
  }
});

test('a WebSocket that never subscribes is closed (3003)', { timeout: 30_000 }, async () => {
  const s = await startServer({ firstMessageTimeout: 1 });
  try {
    const c = await TestWs.connect(s.wsUrl);
    assert.equal(await c.closed, Disconnects.idle.code);
  } finally {
    await s.close();
  }
});

test('connection cap: WebSocket gets 1013, SSE and long-poll 503 with Retry-After; connected clients keep working', async () => {
  const s = await startServer({ maxConnections: 2, maxNewConnectionsPerSecond: 0 });
  try {
    const a = await TestWs.connect(s.wsUrl);
    await a.request({ id: 1, op: 'subscribe', channel: 'c' });
    const sse = await fetch(`${s.base}/sse?channel=c`);
    assert.equal(sse.status, 200);
    const refused = await TestWs.connect(s.wsUrl);
    assert.equal(await refused.closed, 1013);
    const sse2 = await fetch(`${s.base}/sse?channel=c`);
    assert.equal(sse2.status, 503);
    assert.match(sse2.headers.get('retry-after') ?? '', /^[1-3]$/);
    assert.equal(((await sse2.json()) as { error: { code: string } }).error.code, 'overloaded');
    const poll = await fetch(`${s.base}/poll?channel=c`);
    assert.equal(poll.status, 503);
    await s.publish('c', 'still');
    assert.equal((await a.waitForMessages(1, 'c')).length, 1);
    assert.equal(s.server.node.stats.rejected.get('max_connections'), 3);
    await sse.body?.cancel();
    a.close();
  } finally {
    await s.close();
  }
});

test('accept rate and memory watermark refuse new connections', async () => {
  const s = await startServer({ maxNewConnectionsPerSecond: 1 });
  try {
    const first = await TestWs.connect(s.wsUrl);
    const second = await TestWs.connect(s.wsUrl);
    assert.equal(await second.closed, 1013);
    assert.equal(s.server.node.stats.rejected.get('rate'), 1);
    first.close();
  } finally {
    await s.close();
  }
  const m = await startServer({ memoryWatermark: 1 });
  try {
    const r = await fetch(`${m.base}/poll?channel=c`);
    assert.equal(r.status, 503);
    assert.equal(m.server.node.stats.rejected.get('memory'), 1);
  } finally {
    await m.close();
  }
});

test('subscribers per channel are capped', async () => {
  const s = await startServer({ maxSubscribersPerChannel: 1 });
  try {
    const a = await TestWs.connect(s.wsUrl);
    const b = await TestWs.connect(s.wsUrl);
    assert.equal((await a.request({ id: 1, op: 'subscribe', channel: 'solo' }))['ok'], true);
    const r = await b.request({ id: 1, op: 'subscribe', channel: 'solo' });
    assert.equal((r['error'] as { code: string }).code, 'channel_full');
    a.close();
    b.close();
  } finally {
    await s.close();
  }
});

test('client frames are rate limited: errors first, then the rate-limited close', async () => {
  const s = await startServer({ maxClientFramesPerSecond: 5 });
  try {
    const c = await TestWs.connect(s.wsUrl);
    for (let i = 0; i < 30; i++) c.send({ id: i, op: 'ping' });
    const limited = await c.next(
      (m) => (m['error'] as { code?: string } | undefined)?.code === 'rate_limited',
    );
    assert.ok(limited);
    assert.equal(await c.closed, Disconnects.rateLimited.code);
  } finally {
    await s.close();
  }
});

test('over-long URLs get 414', async () => {
  const s = await startServer({ maxUrlLength: 300 });
  try {
    const r = await fetch(`${s.base}/poll?channel=${'a'.repeat(400)}`);
    assert.equal(r.status, 414);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'uri_too_long');
    const api = await fetch(`${s.base}/api/history?channel=a&x=${'b'.repeat(400)}`, {
      headers: { 'x-api-key': API_KEY },
    });
    assert.equal(api.status, 414);
  } finally {
    await s.close();
  }
});

test('long-poll requests on a kept-alive connection are not new connections (no accept-rate limit)', async () => {
  const s = await startServer({ maxNewConnectionsPerSecond: 2, pollTimeout: 1 });
  try {
    // Ten polls in a row, each answered at once from history: the accept rate must not refuse them.
    await s.publish('kept', 1);
    const first = (await (
      await fetch(`${s.base}/api/history?channel=kept`, { headers: { 'x-api-key': API_KEY } })
    ).json()) as {
      epoch: string;
    };
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${s.base}/poll?channel=kept&cursor=${first.epoch}-0`);
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { messages: unknown[] }).messages.length, 1);
    }
    assert.equal(s.server.node.stats.rejected.get('rate'), undefined);
  } finally {
    await s.close();
  }
});
