import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { parseOptions } from '../../src/loadgen/options.js';
import { Publisher } from '../../src/loadgen/publisher.js';

/**
 * The publisher sends a request again, once, when the kept-alive socket it went out on is reset
 * before any answer (node:http's keep-alive race), and never otherwise: a reset after the
 * server read a request could publish it twice.
 */

/**
 * An HTTP/1.1 server on a bare socket that answers each request 200 and keeps the connection,
 * except where `reset(connection, request)` (both counted from 1) says to reset it unread.
 * `bodies` are the request bodies it read, in order.
 */
interface FakeServer {
  port: number;
  bodies: string[];
  connections: () => number;
  close: () => void;
}

async function fakeServer(reset: (connection: number, request: number) => boolean): Promise<FakeServer> {
  const bodies: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket: Socket) => {
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
        if (reset(conn, ++seen)) {
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
  return {
    port: typeof a === 'object' && a !== null ? a.port : 0,
    bodies,
    connections: () => connections,
    close: () => {
      for (const x of sockets) x.destroy();
      server.close();
    },
  };
}

/** Waits (at most 5 s) until the publisher has no request in flight. */
async function settle(pub: Publisher): Promise<void> {
  const deadline = Date.now() + 5000;
  while (pub.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

test('a publish reset on a kept-alive socket is sent again once; nothing is lost or doubled', async () => {
  // The second request on the first connection is reset unread.
  const srv = await fakeServer((connection, request) => connection === 1 && request === 2);
  const o = parseOptions({ url: `http://127.0.0.1:${srv.port}`, apiKey: 'k', channels: 1, prefix: 'p.' });
  const pub = new Publisher(o);
  try {
    for (let i = 0; i < 3; i++) {
      pub.publish(0);
      await settle(pub);
    }
    assert.equal(pub.failures, 0, JSON.stringify(pub.failureReasons));
    assert.equal(pub.retries, 1);
    assert.equal(srv.bodies.length, 3, 'the server read each publication once');
    assert.equal(new Set(srv.bodies).size, 3);
    assert.ok(srv.connections() >= 2, 'the retry went out on a fresh connection');
  } finally {
    await pub.stop(1000);
    srv.close();
  }
});

test('the retry goes out on a new connection, not on another kept-alive socket gone stale too', async () => {
  // Every connection answers its first request and resets its second unread, as a server does
  // whose keep-alive time-out closed all its idle sockets at once.
  const srv = await fakeServer((_connection, request) => request === 2);
  const o = parseOptions({ url: `http://127.0.0.1:${srv.port}`, apiKey: 'k', channels: 4, prefix: 's.' });
  const pub = new Publisher(o);
  try {
    // Four requests at once: four kept-alive sockets in the pool.
    for (let c = 0; c < 4; c++) pub.publish(c);
    await settle(pub);
    assert.equal(srv.connections(), 4);
    // Each next request meets a stale socket; its retry must not take another stale one.
    for (let c = 0; c < 4; c++) {
      pub.publish(c);
      await settle(pub);
    }
    assert.equal(pub.failures, 0, JSON.stringify(pub.failureReasons));
    assert.equal(pub.retries, 4);
    assert.equal(srv.bodies.length, 8, 'the server read each publication once');
    assert.equal(new Set(srv.bodies).size, 8);
  } finally {
    await pub.stop(1000);
    srv.close();
  }
});
