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

test('the retry goes out on a new connection, not on another kept-alive socket gone stale too', async () => {
  // Every connection answers its first request and resets its second unread, as a server does
  // whose keep-alive time-out closed all its idle sockets at once.
  let conns = 0;
  const read: string[] = [];
  const open = new Set<Socket>();
  const stale = createServer((socket: Socket) => {
    conns++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
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
        if (++seen === 2) {
          socket.resetAndDestroy();
          return;
        }
        read.push(body);
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => stale.listen(0, '127.0.0.1', r));
  const a = stale.address();
  const p = typeof a === 'object' && a !== null ? a.port : 0;
  const o = parseOptions({ url: `http://127.0.0.1:${p}`, apiKey: 'k', channels: 4, prefix: 's.' });
  const pub = new Publisher(o);
  const settle = async (): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (pub.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    // Four requests at once: four kept-alive sockets in the pool.
    for (let c = 0; c < 4; c++) pub.publish(c);
    await settle();
    assert.equal(conns, 4);
    // Each next request meets a stale socket; its retry must not take another stale one.
    for (let c = 0; c < 4; c++) {
      pub.publish(c);
      await settle();
    }
    assert.equal(pub.failures, 0, JSON.stringify(pub.failureReasons));
    assert.equal(pub.retries, 4);
    assert.equal(read.length, 8, 'the server read each publication once');
    assert.equal(new Set(read).size, 8);
  } finally {
    await pub.stop(1000);
    for (const s of open) s.destroy();
    stale.close();
  }
});
