import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EncodedPresence, presenceMember } from '../../src/core/encode.js';

test('a join push: the WebSocket JSON and the SSE named event, each built once', () => {
  const enc = new EncodedPresence({
    op: 'join',
    channel: 'room:"1"',
    member: { client: 'c1', user: '42', info: { name: 'Ada' } },
  });
  const json = '{"op":"join","channel":"room:\\"1\\"","client":"c1","user":"42","info":{"name":"Ada"}}';
  assert.equal(enc.ws.toString(), json);
  assert.equal(enc.sse.toString(), `event: join\ndata: ${json}\n\n`);
  assert.equal(enc.ws, enc.ws, 'the same Buffer each time');
  assert.equal(enc.sse, enc.sse);
});

test('a member without info shows info: null', () => {
  const enc = new EncodedPresence({ op: 'leave', channel: 'r', member: { client: 'c', user: 'u' } });
  assert.equal(enc.ws.toString(), '{"op":"leave","channel":"r","client":"c","user":"u","info":null}');
  assert.deepEqual(presenceMember({ client: 'c', user: 'u' }), { client: 'c', user: 'u', info: null });
});
