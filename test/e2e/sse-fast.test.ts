import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startServer } from '../helpers/server.js';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function rawGet(
  port: number,
  target: string,
  headers = '',
  allowHalfOpen = false,
): { socket: Socket; text: () => string } {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d.toString();
  });
  socket.on('connect', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`));
  return { socket, text: () => text };
}

test('SSE on the fast path: plain stream from the socket, events, cleanup on close, disconnect on shutdown', async () => {
  const s = await startServer();
  try {
    const a = rawGet(s.port, '/sse?channel=fast', 'Origin: http://example.test\r\n');
    await until(() => a.text().includes('event: subscribed'));
    const head = a.text().slice(0, a.text().indexOf('\r\n\r\n')).toLowerCase();
    assert.match(head, /^http\/1.1 200 ok\r\n/);
    assert.match(head, /content-type: text\/event-stream/);
    assert.match(head, /access-control-allow-origin: http:\/\/example.test/);
    assert.doesNotMatch(head, /transfer-encoding/); // not node:http's chunked response
    const { epoch, offset } = await s.publish('fast', { n: 1 });
    await until(() => a.text().includes('"data":{"n":1}'));
    assert.ok(
      a
        .text()
        .includes(`id: ${epoch}-${offset}\ndata: {"channel":"fast","offset":${offset},"data":{"n":1}}\n\n`),
    );
    assert.equal(s.server.sse.sessions.size, 1);
    a.socket.end();
    await until(() => s.server.sse.sessions.size === 0);
    assert.equal(s.server.node.channels().length, 0);

    // Requests that get an error go to node:http, which answers them.
    const bad = rawGet(s.port, '/sse?channel=' + encodeURIComponent('bad name'));
    await until(() => bad.text().includes('}'));
    assert.match(bad.text(), /^HTTP\/1.1 400 /);
    assert.match(bad.text(), /"code":"invalid_channel"/);
    bad.socket.destroy();

    // A client that never closes its side: shutdown closes the socket itself.
    const b = rawGet(s.port, '/sse?channel=fast2', '', true);
    await until(() => b.text().includes('event: subscribed'));
    const ended = once(b.socket, 'end');
    await s.close(); // resolves only once the server has closed every socket
    await ended;
    b.socket.destroy();
    assert.match(b.text(), /event: disconnect\n/);
  } finally {
    await s.close().catch(() => undefined);
  }
});
