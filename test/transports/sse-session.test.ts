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
