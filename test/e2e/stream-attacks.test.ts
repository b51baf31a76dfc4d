import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { startServer } from '../helpers/server.js';

/**
 * Clients that try to make SSE and long-poll sessions outlive their connections, or to make the
 * server buffer without limit, over raw TCP on loopback against a real server.
 */

const PIPELINED = /"code":"bad_request","message":"A stream request must not be pipelined/;

test('pipelined SSE requests: the connection is closed at the first behind the stream; no session outlives the socket', async () => {
  const s = await startServer();
  try {
    // Five streams in one write (node:http's parser gets them all at once): a request behind
    // an open stream can never be answered, so the server closes the connection.
    const c = await RawConn.open(s.port);
    c.socket.write(Array.from({ length: 5 }, (_, i) => get(`/sse?channel=pipe${i}`)).join(''));
    await until(() => c.closed, 5000, 'the server to close the connection');
    await until(() => s.server.node.sessionCount === 0, 5000, 'every session to end with the socket');
    assert.equal(s.server.sse.sessions.size, 0);
    assert.deepEqual(s.server.node.channels(), []);

    // Behind a short answer: the stream is refused with 400, after that answer, and the
    // connection closes.
    const d = await RawConn.open(s.port);
    d.socket.write(get('/health') + get('/sse?channel=pipe-h'));
    await until(() => d.closed, 5000, 'the connection to close');
    const answers = d.responses();
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400],
    );
    assert.match(answers[1]!.body, PIPELINED);
    assert.equal(answers[1]!.headers.get('connection'), 'close');
    assert.equal(s.server.node.sessionCount, 0);
  } finally {
    await s.close();
  }
});

test('pipelined long-polls: the first is answered at once, the others refused; no session outlives the socket', async () => {
  const s = await startServer({ pollTimeout: 300 });
  try {
    // In one write: node:http parses them all; the held poll gives way to the requests behind it.
    const c = await RawConn.open(s.port);
    c.socket.write(Array.from({ length: 5 }, (_, i) => get(`/poll?channel=pp${i}`)).join(''));
    await until(() => c.closed, 5000, 'the connection to close');
    const all = c.responses();
    assert.deepEqual(
      all.map((a) => a.status),
      [200, 400],
    );
    assert.match(all[1]!.body, PIPELINED);
    await until(() => s.server.node.sessionCount === 0, 5000, 'every session to end with the socket');

    // The next poll sent while the first is held on the fast path: the held one is answered,
    // the next refused, the connection closed.
    const accepted: Socket[] = [];
    s.server.http.on('connection', (socket: Socket) => accepted.push(socket));
    const d = await RawConn.open(s.port);
    const first = get('/poll?channel=held');
    const second = get('/poll?channel=next');
    d.socket.write(first);
    await until(() => s.server.node.channels().some((ch) => ch.channel === 'held'), 5000, 'the held poll');
    d.socket.write(second);
    // The server has read the second request before the first is answered.
    await until(() => accepted[0]?.bytesRead === first.length + second.length, 5000, 'the second request');
    await s.publish('held', 'x');
    await until(() => d.closed, 5000, 'the connection to close');
    const answers = d.responses();
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400],
    );
    assert.match(answers[1]!.body, PIPELINED);
    await until(() => s.server.node.sessionCount === 0, 5000, 'every session to end');
  } finally {
    await s.close();
  }
});

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
