import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { Holdfast } from '../../src/client/holdfast.js';
import type { HoldfastOptions } from '../../src/client/options.js';
import type { TransportName } from '../../src/client/transport.js';
import type { WebSocketConstructor } from '../../src/client/ws.js';
import { Disconnects } from '../../src/contract/codes.js';
import { type Running, startServer } from '../helpers/server.js';

/**
 * The client library against a real server on loopback, on each transport: every publication
 * once and in order across server-side disconnects, fallback when a transport is refused, and
 * onRecoveryFailed when the history no longer reaches back.
 */
const WS = WebSocket as unknown as WebSocketConstructor;
let s: Running;
before(async () => {
  s = await startServer({ historySize: 1000, pollTimeout: 2 });
});
after(() => s.close());

function connect(opts: HoldfastOptions = {}): Holdfast {
  return new Holdfast(s.base, { WebSocket: WS, backoff: { baseMs: 50, capMs: 500 }, ...opts });
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every server-side session of the transport is closed with 3000 (reconnect and resume). */
function dropAll(): void {
  for (const session of s.server.ws.sessions) session.close(Disconnects.shutdown);
  for (const session of s.server.sse.sessions) session.close(Disconnects.shutdown);
  for (const session of s.server.poll.sessions) session.close(Disconnects.shutdown);
}

for (const transport of ['ws', 'sse', 'poll'] as TransportName[]) {
  test(`${transport}: 200 publications, the server dropping the client twice: each once, in order`, async () => {
    const channel = `order-${transport}`;
    const hf = connect({ transports: [transport] });
    const got: number[] = [];
    let failed = 0;
    const connects: string[] = [];
    hf.on('state', (st) => connects.push(st));
    hf.subscribe(channel, { onMessage: (d) => got.push(d as number), onRecoveryFailed: () => failed++ });
    await until('connected', () => hf.state === 'connected');
    assert.equal(hf.transport, transport);
    // The subscription is live once a publication arrives.
    await s.publish(channel, 0);
    await until('the first message', () => got.length === 1);
    for (let i = 1; i <= 200; i++) {
      await s.publish(channel, i);
      if (i === 70 || i === 140) dropAll();
    }
    await until('every message', () => got.length >= 201);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      got,
      Array.from({ length: 201 }, (_, i) => i),
    );
    assert.equal(failed, 0);
    assert.ok(
      connects.filter((st) => st === 'connected').length >= (transport === 'poll' ? 1 : 3),
      connects.join(),
    );
    hf.close();
  });
}

test('WebSocket refused (the upgrade is answered 404): falls back to SSE, which delivers', async () => {
  const hf = connect({ paths: { ws: '/no-ws' } });
  const got: unknown[] = [];
  hf.subscribe('fallback-1', { onMessage: (d) => got.push(d) });
  await until('connected', () => hf.state === 'connected');
  assert.equal(hf.transport, 'sse');
  await until('subscribed', () => s.server.sse.sessions.size > 0);
  await new Promise((r) => setTimeout(r, 50));
  await s.publish('fallback-1', 'hello');
  await until('the message', () => got.length === 1);
  assert.deepEqual(got, ['hello']);
  hf.close();
});

test('WebSocket and SSE refused: falls back to long-poll, which delivers', async () => {
  const hf = connect({ paths: { ws: '/no-ws', sse: '/no-sse' } });
  const got: unknown[] = [];
  hf.subscribe('fallback-2', { onMessage: (d) => got.push(d) });
  await until('connected', () => hf.state === 'connected');
  assert.equal(hf.transport, 'poll');
  await s.publish('fallback-2', 'hello');
  await until('the message', () => got.length === 1);
  assert.deepEqual(got, ['hello']);
  hf.close();
});

test('a change of transport resumes from the same positions: nothing lost or doubled', async () => {
  // WebSocket works until it is turned off; then the client falls back to SSE.
  let wsAllowed = true;
  const hf = connect({ paths: {}, WebSocket: gated(() => wsAllowed) });
  const got: number[] = [];
  hf.subscribe('switch', { onMessage: (d) => got.push(d as number) });
  await until('connected', () => hf.state === 'connected');
  assert.equal(hf.transport, 'ws');
  await s.publish('switch', 1);
  await until('1', () => got.length === 1);
  wsAllowed = false;
  dropAll();
  for (let i = 2; i <= 30; i++) await s.publish('switch', i);
  await until('every message', () => got.length >= 30);
  assert.equal(hf.transport, 'sse');
  await s.publish('switch', 31);
  await until('31', () => got.length >= 31);
  assert.deepEqual(
    got,
    Array.from({ length: 31 }, (_, i) => i + 1),
  );
  hf.close();
});

/** A WebSocket constructor that connects to /ws while `allowed()`, else to a path that refuses the upgrade. */
function gated(allowed: () => boolean): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(allowed() ? url : url.replace('/ws', '/no-ws'));
    }
  } as unknown as WebSocketConstructor;
}

test('onRecoveryFailed when the history no longer reaches back', async () => {
  const small = await startServer({ historySize: 3 });
  try {
    let wsAllowed = true;
    const hf = new Holdfast(small.base, {
      WebSocket: gated(() => wsAllowed),
      transports: ['ws'],
      backoff: { baseMs: 20, capMs: 100 },
    });
    const got: number[] = [];
    let failed = 0;
    hf.subscribe('short', { onMessage: (d) => got.push(d as number), onRecoveryFailed: () => failed++ });
    await until('connected', () => hf.state === 'connected');
    await small.publish('short', 1);
    await until('1', () => got.length === 1);
    wsAllowed = false;
    for (const session of small.server.ws.sessions) session.close(Disconnects.shutdown);
    for (let i = 2; i <= 10; i++) await small.publish('short', i);
    wsAllowed = true;
    await until('recovery failed', () => failed === 1);
    await small.publish('short', 11);
    await until('11', () => got.includes(11));
    assert.deepEqual(got, [1, 11], 'the lost ones are not replayed; live ones continue');
    assert.equal(failed, 1);
    hf.close();
  } finally {
    await small.close();
  }
});
