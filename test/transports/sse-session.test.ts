import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Node } from '../../src/core/node.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { SseSession } from '../../src/transports/sse.js';
import { FakeTransport } from '../helpers/fake.js';

const limits = { size: 100, ttlMs: 60_000, metaTtlMs: 600_000 };

async function sessionOn(channels: string[]) {
  const node = new Node(new MemoryEngine(limits), { maxRecover: 100 });
  await node.start();
  const transport = new FakeTransport();
  const session = new SseSession(transport, channels, null, 1 << 20);
  node.attach(session);
  for (const c of channels) await node.subscribe(session, c, undefined, () => undefined);
  return { node, transport, session };
}

test('a multi-channel SSE event is one write: its id line and its data together', async () => {
  const { node, transport, session } = await sessionOn(['a', 'b']);
  await node.publish('b', '"first"');
  const before = transport.writes.length;
  await node.publish('a', '{"n":1}');
  assert.equal(transport.writes.length, before + 1, 'one write for the event');
  const text = transport.writes.at(-1)!.toString('utf8');
  const match = /^id: (\S+)\ndata: (.*)\n\n$/.exec(text);
  assert.ok(match, `an id line then a data line: ${JSON.stringify(text)}`);
  assert.equal(match[1], session.cursor(), 'the id is the cursor over both channels');
  assert.match(match[1]!, /^[a-z0-9]+-1\.[a-z0-9]+-1$/);
  const data = JSON.parse(match[2]!) as { channel: string; offset: number; data: unknown };
  assert.equal(data.channel, 'a');
  assert.equal(data.offset, 1);
  assert.deepEqual(data.data, { n: 1 });
});

test('a single-channel SSE event is the shared encoded bytes, one write', async () => {
  const { node, transport } = await sessionOn(['a']);
  const before = transport.writes.length;
  await node.publish('a', '2');
  assert.equal(transport.writes.length, before + 1);
  assert.match(transport.writes.at(-1)!.toString('utf8'), /^id: [a-z0-9]+-1\ndata: .*"offset":1.*\n\n$/);
});

test('a server-side unsubscribe stops the channel, sends an unsubscribe event, and the ids keep its position', async () => {
  const node = new Node(new MemoryEngine(limits), { maxRecover: 100 });
  await node.start();
  const transport = new FakeTransport();
  const session = new SseSession(transport, ['a', 'b'], null, 1 << 20);
  session.identity = { user: 'u', info: undefined, channels: [], expiresAt: 0 };
  node.attach(session);
  for (const c of ['a', 'b']) await node.subscribe(session, c, undefined, () => undefined);
  await node.publish('a', '1');
  await node.publish('a', '2');
  const cursorBefore = session.cursor();
  node.control({ t: 'unsubscribe', user: 'u', channel: 'a' });
  assert.equal(session.subscriptions.has('a'), false);
  const event = transport.writes.at(-1)!.toString('utf8');
  const match = /^event: unsubscribe\nid: (\S+)\ndata: (.*)\n\n$/.exec(event);
  assert.ok(match, JSON.stringify(event));
  assert.deepEqual(JSON.parse(match[2]!), { channel: 'a' });
  assert.equal(match[1], cursorBefore, "the id still holds a's last position");
  const writes = transport.writes.length;
  await node.publish('a', '3');
  assert.equal(transport.writes.length, writes, 'nothing of a after it');
  await node.publish('b', '"b1"');
  assert.equal(transport.writes.length, writes + 1);
  const id = /^id: (\S+)\n/.exec(transport.writes.at(-1)!.toString('utf8'))![1]!;
  assert.match(id, /^[a-z0-9]+-2\.[a-z0-9]+-1$/, 'a resumes from 2 on reconnection, b from 1');
  // A server-side subscribe is not for SSE: the stream's ids cover the channels of its URL.
  node.control({ t: 'subscribe', user: 'u', channel: 'c' });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(session.subscriptions.has('c'), false);
});
