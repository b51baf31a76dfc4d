import assert from 'node:assert/strict';
import { test } from 'node:test';
import { json, TestBackend } from '../helpers/proxy-backend.js';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * The connect proxy's `remoteAddr` is the client's address: behind a trusted reverse proxy
 * (trustProxy) the last X-Forwarded-For entry, as docs/AUTH-proxy.md says, not the reverse
 * proxy's own address (which every client would share); without trustProxy the peer's.
 */

test('remoteAddr is the last X-Forwarded-For entry with trustProxy, the peer without it', async () => {
  const backend = new TestBackend();
  backend.handler = (_req, res) => json(res, 401, {});
  const url = await backend.start();
  const xff = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9:4711' };
  try {
    for (const trustProxy of [true, false]) {
      const s = await startServer({
        connectProxy: `${url}/connect`,
        allowedOrigins: 'https://app.test',
        trustProxy,
      });
      try {
        backend.received.length = 0;
        const ws = await TestWs.connect(s.wsUrl, { headers: xff });
        await ws.closed;
        for (const path of ['/sse?channel=a', '/poll?channel=a']) {
          const conn = await RawConn.open(s.port);
          conn.socket.write(get(path, `X-Forwarded-For: ${xff['x-forwarded-for']}\r\n`));
          await until(() => conn.responses().length === 1, 5000, path);
          assert.equal(conn.responses()[0]!.status, 403);
          conn.destroy();
        }
        const addrs = backend.received.map((r) => (r.body as { remoteAddr: string }).remoteAddr);
        const expected = trustProxy ? '203.0.113.9' : '127.0.0.1';
        assert.deepEqual(addrs, [expected, expected, expected], `trustProxy ${trustProxy}`);
      } finally {
        await s.close();
      }
    }
  } finally {
    await backend.stop();
  }
});
