import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { startServer } from '../helpers/server.js';

/**
 * Clients that try to make the server buffer without limit, over raw TCP on loopback against a
 * real server.
 */

/** Writes `chunk` until the connection closes or `limit` bytes are written; returns the count. */
async function flood(c: RawConn, chunk: Buffer, limit: number): Promise<number> {
  let sent = 0;
  while (!c.closed && sent < limit) {
    if (!c.socket.write(chunk)) {
      await Promise.race([
        new Promise((r) => c.socket.once('drain', r)),
        until(() => c.closed, 5000).catch(() => undefined),
      ]);
    } else await new Promise((r) => setImmediate(r));
    sent += chunk.length;
  }
  return sent;
}

test('a held long-poll sent megabytes is closed once past maxHeaderBytes, on both paths', async () => {
  const maxHeaderBytes = 16384;
  const s = await startServer({ pollTimeout: 300, maxHeaderBytes });
  try {
    for (const open of [RawConn.open, RawConn.afterAnother]) {
      const c = await open(s.port);
      c.socket.write(get('/poll?channel=flood'));
      await until(() => s.server.poll.sessions.size === 1, 5000, 'the held poll');
      // A next request head that never ends: a header line that goes on and on.
      c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Flood: ');
      const sent = await flood(c, Buffer.alloc(4096, 'a'), 4 * 1024 * 1024);
      await until(() => c.closed, 5000, 'the connection to close');
      // Closed near the cap: what was in flight when the server closed is all that passed it.
      assert.ok(sent < 4 * 1024 * 1024, `closed after ${sent} bytes`);
      await until(() => s.server.node.sessionCount === 0, 5000, 'the session to end');
      c.destroy();
    }
  } finally {
    await s.close();
  }
});

test('a next request begun during a held long-poll on the fast path must be whole within the headers time-out', async () => {
  // (node:http applies its own headersTimeout there, checked every connectionsCheckingInterval.)
  const s = await startServer({ pollTimeout: 300, headersTimeout: 1 });
  try {
    const c = await RawConn.open(s.port);
    c.socket.write(get('/poll?channel=slow'));
    await until(() => s.server.poll.sessions.size === 1, 5000, 'the held poll');
    c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n'); // and never the blank line
    await until(() => c.closed, 10_000, 'the connection to close');
    await until(() => s.server.node.sessionCount === 0, 5000, 'the session to end');
  } finally {
    await s.close();
  }
});
