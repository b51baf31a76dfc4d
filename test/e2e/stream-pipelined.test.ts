import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { startServer } from '../helpers/server.js';

/**
 * Requests pipelined behind a stream held open by the server, over raw TCP on loopback against a
 * real server: no session may outlive its socket, and a held poll is not cut by a whole request
 * sent behind it.
 */

const CHANNELS = Array.from({ length: 128 }, (_, j) => `channel=tail${j}`).join('&');
const TAILS = [get('/health'), get('/sse?channel=tail')];

test('SSE on the node:http path with 127 requests pipelined behind it: no session outlives the socket', async () => {
  // Heartbeats far apart: a session may not wait for a failed heartbeat write to end.
  const s = await startServer({ sseHeartbeat: 300 });
  try {
    for (const tail of TAILS) {
      const c = await RawConn.open(s.port);
      // One write (bytes after the head: the fast path hands the connection to node:http). The
      // queued answers would pass the socket's high-water mark and stop node:http reading it.
      c.socket.write(get(`/sse?${CHANNELS}`) + tail.repeat(127));
      await until(() => c.closed || s.server.sse.sessions.size > 0, 5000, 'the stream');
      c.destroy();
      await until(() => s.server.node.sessionCount === 0, 5000, 'the session to end with the socket');
      assert.equal(s.server.sse.sessions.size, 0);
      assert.deepEqual(s.server.node.channels(), []);
    }
  } finally {
    await s.close();
  }
});

test('a long-poll on the node:http path with 127 requests pipelined behind it: not held behind them, answered first', async () => {
  const s = await startServer({ pollTimeout: 300 });
  try {
    // Closed by the client before any answer is read: nothing stays (the session may not wait
    // for the poll time-out).
    const d = await RawConn.open(s.port);
    d.socket.write(get(`/poll?${CHANNELS}`) + get('/sse?channel=tail').repeat(127));
    await until(() => d.closed || s.server.poll.sessions.size > 0, 5000, 'the held poll');
    d.destroy();
    await until(() => s.server.node.sessionCount === 0, 5000, 'the session to end with the socket');
    assert.deepEqual(s.server.node.channels(), []);

    // Read: the poll is answered at once, with what it has, then the requests behind it.
    const c = await RawConn.open(s.port);
    c.socket.write(get(`/poll?${CHANNELS}`) + get('/health').repeat(127));
    await until(() => c.responses().length === 128, 5000, 'every answer');
    const answers = c.responses();
    assert.ok(answers.every((a) => a.status === 200));
    assert.deepEqual((JSON.parse(answers[0]!.body) as { messages: unknown[] }).messages, []);
    await until(() => s.server.node.sessionCount === 0, 5000, 'the poll session to end');
  } finally {
    await s.close();
  }
});

test('a whole request sent while a long-poll is held on the fast path waits for the answer, then is served', async () => {
  const s = await startServer({ pollTimeout: 300, headersTimeout: 1 });
  try {
    const c = await RawConn.open(s.port);
    c.socket.write(get('/poll?channel=held-next'));
    await until(
      () => s.server.node.channels().some((ch) => ch.channel === 'held-next'),
      5000,
      'the held poll',
    );
    c.socket.write(get('/health'));
    // A connection opened after the whole head was sent, that sends nothing: once the server has
    // closed it for that, any first-bytes clock started before it has run out too.
    const idle = await RawConn.open(s.port);
    await until(() => idle.closed, 10_000, 'the idle connection to be closed');
    assert.equal(c.closed, false, 'the held poll is still open');
    await s.publish('held-next', 'hello');
    await until(() => c.responses().length === 2, 5000, 'the poll answer and the next');
    const [poll, health] = c.responses();
    assert.equal(poll!.status, 200);
    assert.match(poll!.body, /"hello"/);
    assert.equal(health!.status, 200);
    assert.match(health!.body, /"status":"ok"/);
    c.destroy();
    await until(() => s.server.node.sessionCount === 0, 5000, 'the session to end');
  } finally {
    await s.close();
  }
});
