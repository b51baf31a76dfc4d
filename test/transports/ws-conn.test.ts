import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import {
  WsConnection as Conn,
  type WsConnection,
  type WsHandler,
  type WsLimits,
} from '../../src/transports/ws/conn.js';
import { MAX_FRAGMENTS } from '../../src/transports/ws/frame.js';

const LIMITS: WsLimits = { maxPayload: 1024, maxFragments: MAX_FRAGMENTS, maxQueuedBytes: 4096 };

/** A WsConnection over a real loopback socket, driven by raw client bytes. */
class Handler implements WsHandler {
  readonly messages: string[] = [];
  pongs = 0;
  closes = 0;
  slow = 0;
  dropped = 0;
  conn: WsConnection | null = null;
  onFrame(): boolean {
    return true;
  }
  onDropped(): void {
    this.dropped++;
  }
  onSlow(): void {
    this.slow++;
  }
  onMessage(_conn: WsConnection, payload: Buffer, binary: boolean): void {
    this.messages.push(binary ? `bin:${payload.toString('hex')}` : payload.toString());
  }
  onPong(): void {
    this.pongs++;
  }
  onClose(): void {
    this.closes++;
  }
}

let server: Server;
let port = 0;
const accepted: { handler: Handler; conn: WsConnection }[] = [];
const waiters: ((x: { handler: Handler; conn: WsConnection }) => void)[] = [];

before(async () => {
  server = createServer((socket) => {
    const handler = new Handler();
    const conn = new Conn(socket, handler, LIMITS);
    handler.conn = conn;
    conn.start(Buffer.alloc(0));
    const entry = { handler, conn };
    accepted.push(entry);
    waiters.shift()?.(entry);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as { port: number }).port;
});
after(() => server.close());

function masked(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = Buffer.from(payload);
  const mask = [1, 2, 3, 4];
  const body = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length, ...mask]), body]);
}

async function pair(): Promise<{
  client: Socket;
  handler: Handler;
  conn: WsConnection;
  received: () => Buffer;
}> {
  const got = new Promise<{ handler: Handler; conn: WsConnection }>((r) => waiters.push(r));
  const client = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (d: Buffer) => chunks.push(d));
  const { handler, conn } = await got;
  return { client, handler, conn, received: () => Buffer.concat(chunks) };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not met in time');
}

test('messages (also fragmented and split across TCP writes) reach the handler; pings get pongs', async () => {
  const { client, handler, received } = await pair();
  const bytes = Buffer.concat([
    masked(1, 'hello'),
    masked(1, 'frag', false),
    masked(9, 'p'),
    masked(0, 'ment'),
    masked(10, ''),
  ]);
  for (let i = 0; i < bytes.length; i += 3) {
    client.write(bytes.subarray(i, i + 3));
    await new Promise((r) => setImmediate(r));
  }
  await until(() => handler.messages.length === 2 && handler.pongs === 1);
  assert.deepEqual(handler.messages, ['hello', 'fragment']);
  await until(() => received().length >= 3);
  assert.deepEqual([...received()], [0x8a, 0x01, 0x70]); // pong echoing "p", unmasked
  client.destroy();
  await until(() => handler.closes === 1);
});

test("the peer's close is echoed, then the socket ends; onClose runs once", async () => {
  const { client, handler, received } = await pair();
  client.write(masked(8, Buffer.from([0x0f, 0xa1, 0x68, 0x69]))); // 4001 "hi"
  await once(client, 'end');
  assert.deepEqual([...received()], [0x88, 0x04, 0x0f, 0xa1, 0x68, 0x69]);
  client.end();
  await until(() => handler.closes === 1);
  assert.equal(handler.conn?.readyState, 3);
});

test('a protocol error (unmasked frame) closes with 1002', async () => {
  const { client, handler, received } = await pair();
  client.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  await once(client, 'end');
  const r = received();
  assert.equal(r[0], 0x88);
  assert.equal(r.readUInt16BE(2), 1002);
  assert.deepEqual(handler.messages, []);
  client.end();
  await until(() => handler.closes === 1);
});

test('a frame over maxPayload closes with 1009 before its payload arrives', async () => {
  const { client, handler, received } = await pair();
  client.write(Buffer.from([0x82, 0x80 | 126, 0x04, 0x01, 0, 0, 0, 0])); // 1025 bytes announced
  await once(client, 'end');
  assert.equal(received().readUInt16BE(2), 1009);
  client.end();
  await until(() => handler.closes === 1);
});

test('server close sends the code and reason; send, sendFrame and ping write frames; terminate ends at once', async () => {
  const a = await pair();
  a.conn.send(Buffer.from('hi'));
  a.conn.ping();
  a.conn.close(4000, 'bye');
  a.conn.send(Buffer.from('dropped after close'));
  await once(a.client, 'end');
  assert.deepEqual(
    [...a.received()],
    [0x81, 0x02, 0x68, 0x69, 0x89, 0x00, 0x88, 0x05, 0x0f, 0xa0, 0x62, 0x79, 0x65],
  );
  a.client.end();
  await until(() => a.handler.closes === 1);

  const b = await pair();
  b.conn.terminate();
  await once(b.client, 'close');
  await until(() => b.handler.closes === 1);
  assert.equal(b.handler.closes, 1);
});

test('a peer that ends without a close frame is closed', async () => {
  const { client, handler } = await pair();
  client.end();
  await until(() => handler.closes === 1);
});

/** A socket whose peer never reads: every write stays queued (writableLength) until release(). */
class Stalled extends Duplex {
  readonly #held: (() => void)[] = [];
  readonly written: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.written.push(chunk);
    this.#held.push(cb);
  }
  /** The kernel took everything written so far. */
  release(): void {
    for (const cb of this.#held.splice(0)) cb();
  }
}

function stalled(limits: WsLimits = LIMITS): { socket: Stalled; handler: Handler; conn: WsConnection } {
  const socket = new Stalled();
  const handler = new Handler();
  const conn = new Conn(socket, handler, limits);
  handler.conn = conn;
  conn.start(Buffer.alloc(0));
  return { socket, handler, conn };
}

/** The frames written to a Stalled socket, as [opcode, payload] pairs. */
function framesOut(socket: Stalled): [number, string][] {
  const all = Buffer.concat(socket.written);
  const out: [number, string][] = [];
  for (let at = 0; at < all.length; ) {
    const n = all[at + 1]! & 0x7f; // the test's frames are all short
    out.push([all[at]! & 0x0f, all.subarray(at + 2, at + 2 + n).toString()]);
    at += 2 + n;
  }
  return out;
}

test('a peer that pings and never reads holds one pong in the queue; the latest ping is answered', async () => {
  const { socket, handler, conn } = stalled();
  const pings = Array.from({ length: 1000 }, (_, i) => masked(9, `ping ${i}`));
  for (const p of pings) conn.pushBytes(p);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(framesOut(socket), [[0xa, 'ping 0']], 'one pong queued while it is not flushed');
  assert.equal(conn.bufferedAmount, 8);
  socket.release();
  await new Promise((r) => setImmediate(r));
  // Once the first is flushed, the answer to the latest ping (the one held) follows; no others.
  assert.deepEqual(framesOut(socket), [
    [0xa, 'ping 0'],
    [0xa, 'ping 999'],
  ]);
  socket.release();
  await new Promise((r) => setImmediate(r));
  // Flushed and nothing held: the next ping is answered at once.
  conn.pushBytes(masked(9, 'again'));
  assert.deepEqual(framesOut(socket).at(-1), [0xa, 'again']);
  assert.equal(handler.slow, 0);
  conn.terminate();
});

test("every write of the connection's own checks the send queue: past maxQueuedBytes, onSlow", () => {
  const { handler, conn } = stalled({ ...LIMITS, maxQueuedBytes: 1024 });
  const reply = Buffer.from('{"id":1,"ok":true}'); // 20 bytes framed
  let sent = 0;
  while (handler.slow === 0 && sent < 10_000) {
    conn.send(reply);
    sent++;
  }
  assert.equal(handler.slow, 1, 'told once the queue passed the limit');
  assert.equal(sent, Math.floor(1024 / 20) + 1);
  // A pong over the limit is reported too.
  const p = stalled({ ...LIMITS, maxQueuedBytes: 1024 });
  for (let i = 0; i < 51; i++) p.conn.send(reply);
  assert.equal(p.handler.slow, 0);
  p.conn.pushBytes(masked(9, 'xxxxxxxxxx'));
  assert.equal(p.handler.slow, 1);
  conn.terminate();
  p.conn.terminate();
});
