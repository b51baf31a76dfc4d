import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once, openStream } from '../helpers/http-once.js';
import { API_KEY, startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

// Each request below comes on a connection of its own, so the fast path (which checks admission
// for the first request of every connection) sees every one of them.

test('plain GETs (/health, /metrics, the API) take no accept-rate token: new streams are still admitted', async () => {
  const s = await startServer({ maxNewConnectionsPerSecond: 2 });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await once(s.port, '/health')).status, 200);
    assert.equal((await once(s.port, '/metrics')).status, 200);
    const api = await once(s.port, '/api/channels', { headers: { 'x-api-key': API_KEY } });
    assert.equal(api.status, 200);
    const sse = await openStream(s.port, '/sse?channel=a');
    assert.equal(sse.status, 200);
    const ws = await TestWs.connect(s.wsUrl);
    assert.equal((await ws.request({ id: 1, op: 'subscribe', channel: 'a' }))['ok'], true);
    assert.equal(s.server.node.stats.rejected.get('rate'), undefined);
    sse.close();
    ws.close();
  } finally {
    await s.close();
  }
});

test('an SSE request refused as invalid takes no accept-rate token (it took two)', async () => {
  const s = await startServer({ maxNewConnectionsPerSecond: 2 });
  try {
    const bad = await once(s.port, '/sse?channel=');
    assert.equal(bad.status, 400);
    const a = await openStream(s.port, '/sse?channel=a');
    assert.equal(a.status, 200);
    const b = await openStream(s.port, '/sse?channel=b');
    assert.equal(b.status, 200);
    assert.equal(s.server.node.stats.rejected.get('rate'), undefined);
    a.close();
    b.close();
  } finally {
    await s.close();
  }
});
