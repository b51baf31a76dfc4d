import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Disconnects } from '../../src/contract/codes.js';
import { MAX_FRAGMENTS } from '../../src/transports/ws/frame.js';
import type { WsSession } from '../../src/transports/ws/session.js';
import { encodeFrame, RawWs, text } from '../fuzz/ws-wire.js';
import { type Running, startServer } from '../helpers/server.js';

/**
 * Attacks on the WebSocket transport by a raw TCP client on loopback, against a real server in
 * this process (so the server's side of the connection can be looked at).
 */

const DEADLINE_MS = 10_000;

/** The server's session of the only connection. */
function onlySession(s: Running): WsSession {
  assert.equal(s.server.ws.sessions.size, 1);
  return [...s.server.ws.sessions][0]!;
}

const ping = (payload: string | Buffer): Buffer =>
  encodeFrame({ opcode: 9, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload) });

/** Writes `bytes`, waiting for the socket to take them (the server reads as fast as it can). */
async function write(ws: RawWs, bytes: Buffer): Promise<void> {
  if (ws.ended) return;
  if (!ws.socket.write(bytes))
    await Promise.race([once(ws.socket, 'drain').catch(() => undefined), ws.endedPromise]);
}

test('control frames count against the frame budget: a ping flood is closed as rate limited', async () => {
  const s = await startServer({ maxClientFramesPerSecond: 100 });
  try {
    const ws = await RawWs.open(s.port);
    // Far more pings than a second's budget, in one write; then a command as a probe.
    ws.send(Buffer.concat(Array.from({ length: 2000 }, (_, i) => ping(String(i)))));
    ws.send(text('{"id":"probe","op":"ping"}'));
    const probed = (): boolean => ws.texts.some((t) => t.includes('"probe"'));
    assert.ok(await ws.waitFor(() => probed() || ws.closeCode !== null, DEADLINE_MS), 'an answer');
    assert.equal(ws.closeCode, Disconnects.rateLimited.code);
    assert.equal(probed(), false, 'nothing after the close');
    assert.ok(ws.pongs.length <= 100, `${ws.pongs.length} pongs: refused pings are not answered`);
    ws.destroy();
  } finally {
    await s.close();
  }
});

test('endless zero-length non-final continuations are closed with 1009', async () => {
  // No frame budget, so that only the fragment cap stands in the way.
  const s = await startServer({ maxClientFramesPerSecond: 0 });
  try {
    const ws = await RawWs.open(s.port);
    ws.send(text('{"id":1,', { fin: false }));
    const empty = encodeFrame({ opcode: 0, fin: false, payload: Buffer.alloc(0) });
    for (let i = 0; i < 100 && !ws.ended; i++) await write(ws, Buffer.concat(Array(100).fill(empty)));
    // A ping may come between fragments: answered only if the connection is still open.
    ws.send(ping('probe'));
    assert.ok(await ws.waitFor(() => ws.pongs.includes('probe') || ws.closeCode !== null, DEADLINE_MS));
    assert.equal(ws.closeCode, Disconnects.messageTooBig.code);
    assert.equal(ws.closeReason, 'too many fragments');
    ws.destroy();
  } finally {
    await s.close();
  }
});

test('one-byte fragments, one per TCP write: the server holds about the message, then closes at the cap', async () => {
  const s = await startServer({ maxClientFramesPerSecond: 0 });
  try {
    const ws = await RawWs.open(s.port);
    const one = (): Buffer => encodeFrame({ opcode: 0, fin: false, payload: Buffer.from('x') });
    ws.send(text('"', { fin: false }));
    const under = MAX_FRAGMENTS - 2;
    for (let i = 0; i < under; i++) {
      ws.send(one());
      await new Promise((r) => setImmediate(r)); // each in its own segment, as an attacker would
    }
    ws.send(ping('sync'));
    assert.ok(await ws.waitFor(() => ws.pongs.includes('sync'), DEADLINE_MS), 'the server read them all');
    const held = onlySession(s).ws.receiveBuffered;
    // One buffer, grown by doubling (from a small first size), not a view of every packet.
    assert.ok(
      held >= under + 1 && held <= Math.max(256, 2 * (under + 1)),
      `holds ${held} B for ${under + 1}`,
    );
    for (let i = 0; i < 10 && ws.closeCode === null; i++) {
      ws.send(one());
      await new Promise((r) => setImmediate(r));
    }
    ws.send(ping('probe'));
    assert.ok(await ws.waitFor(() => ws.pongs.includes('probe') || ws.closeCode !== null, DEADLINE_MS));
    assert.equal(ws.closeCode, Disconnects.messageTooBig.code);
    ws.destroy();
  } finally {
    await s.close();
  }
});

test('a client that sends commands and never reads is closed once replies pass maxQueuedBytes', async () => {
  const s = await startServer({ maxClientFramesPerSecond: 0, maxQueuedBytes: 1024 });
  try {
    const ws = await RawWs.open(s.port);
    ws.socket.pause();
    const session = onlySession(s);
    // Each command gets an error reply a little longer than itself.
    const cmd = text(JSON.stringify({ id: 'i'.repeat(60), op: 'o'.repeat(32) }));
    const batch = Buffer.concat(Array(500).fill(cmd));
    let sent = 0;
    while (!session.closed && sent < 64 << 20) {
      await write(ws, batch);
      sent += batch.length;
    }
    assert.equal(session.closed, true, `still open after ${sent} bytes of commands`);
    assert.equal(s.server.node.stats.disconnects.get(Disconnects.slow.code), 1);
    ws.destroy();
  } finally {
    await s.close();
  }
});

test('a client that pings and never reads: with a pong queued, new pings add none', async () => {
  const s = await startServer({ maxClientFramesPerSecond: 0, maxQueuedBytes: 8 << 20 });
  try {
    const ws = await RawWs.open(s.port);
    ws.send(text('{"id":1,"op":"subscribe","channel":"fill"}'));
    assert.ok(await ws.waitFor(() => ws.texts.length > 0, DEADLINE_MS), 'subscribed');
    ws.socket.pause();
    const session = onlySession(s);
    // Publications until the peer's kernel buffers are full and bytes wait in the server.
    const data = 'd'.repeat(60_000);
    for (let i = 0; i < 1000 && session.ws.bufferedAmount === 0; i++) await s.publish('fill', data);
    const before = session.ws.bufferedAmount;
    assert.ok(before > 0, 'the send queue is backed up');
    // Pings in many writes (so in many reads of the server), then a command to know all were read.
    for (let i = 0; i < 100; i++)
      await write(ws, Buffer.concat(Array.from({ length: 100 }, () => ping('p'.repeat(125)))));
    ws.send(text('{"id":2,"op":"subscribe","channel":"sync"}'));
    for (let i = 0; i < 1000 && !session.subscriptions.has('sync'); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(session.subscriptions.has('sync'), 'the server read every ping');
    assert.equal(session.closed, false);
    const added = session.ws.bufferedAmount - before;
    // One pong (127 bytes) and the subscribe reply; the other pongs were replaced, not queued.
    assert.ok(added <= 127 + 100, `${added} bytes queued by 10,000 pings`);
    ws.destroy();
  } finally {
    await s.close();
  }
});
