import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once, openStream } from '../helpers/http-once.js';
import { get, RawConn, until } from '../helpers/raw-http.js';
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

test('long-polls take no accept-rate token: new SSE and WebSocket streams are still admitted (polls emptied the bucket)', async () => {
  const s = await startServer({ maxNewConnectionsPerSecond: 2 });
  const conns: RawConn[] = [];
  try {
    // New poll sessions on every path: the fast path (first request of a connection), node:http
    // (a request after another), and HTTP/1.0, which makes a new session for every poll.
    for (let i = 0; i < 3; i++) conns.push(await RawConn.open(s.port));
    for (let i = 0; i < 2; i++) conns.push(await RawConn.afterAnother(s.port));
    for (const c of conns) c.socket.write(get(`/poll?channel=held`));
    const old = await RawConn.open(s.port);
    conns.push(old);
    old.socket.write('GET /poll?channel=held HTTP/1.0\r\n\r\n');
    await until(() => s.server.poll.sessions.size === 6, 5000, 'six held polls');

    const sse = await openStream(s.port, '/sse?channel=a');
    assert.equal(sse.status, 200, 'the SSE stream gets a token the polls did not take');
    const ws = await TestWs.connect(s.wsUrl);
    assert.equal((await ws.request({ id: 1, op: 'subscribe', channel: 'a' }))['ok'], true);
    assert.equal(s.server.node.stats.rejected.get('rate'), undefined);
    assert.equal(s.server.node.stats.streamsOpened, 2, 'only the two streams are counted');
    sse.close();
    ws.close();
  } finally {
    for (const c of conns) c.socket.destroy();
    await s.close();
  }
});
