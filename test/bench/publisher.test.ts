import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { parseOptions } from '../../src/bench/options.js';
import { Publisher } from '../../src/bench/publisher.js';

/**
 * The publisher sends a request again, once, when the kept-alive socket it went out on is reset
 * before any answer (node:http's keep-alive race), and never otherwise: a reset after the
 * server read a request could publish it twice.
 */
let server: Server;
let port = 0;
/** Request bodies the server read, in order. */
const bodies: string[] = [];
/** Per connection: requests read so far. The second request on the first connection is reset unread. */
let connections = 0;
const sockets = new Set<Socket>();

before(async () => {
  server = createServer((socket: Socket) => {
    const conn = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let seen = 0;
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        seen++;
        if (conn === 1 && seen === 2) {
          socket.resetAndDestroy(); // as if closed idle just before this request arrived
          return;
        }
        bodies.push(body);
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
});
after(() => server.close());

test('a publish reset on a kept-alive socket is sent again once; nothing is lost or doubled', async () => {
  const o = parseOptions({ url: `http://127.0.0.1:${port}`, apiKey: 'k', channels: 1, prefix: 'p.' });
  const pub = new Publisher(o);
  try {
    for (let i = 0; i < 3; i++) {
      pub.publish(0);
      const deadline = Date.now() + 5000;
      while (pub.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(pub.failures, 0, JSON.stringify(pub.failureReasons));
    assert.equal(pub.retries, 1);
    assert.equal(bodies.length, 3, 'the server read each publication once');
    assert.equal(new Set(bodies).size, 3);
    assert.ok(connections >= 2, 'the retry went out on a fresh connection');
  } finally {
    await pub.stop(1000);
    for (const s of sockets) s.destroy();
  }
});
