import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Encoded, sseEvent } from '../../src/core/encode.js';

const pub = { channel: 'chat:room"1', epoch: 'e1', offset: 7, data: '{"text":"hi\\nthere"}', time: 0 };

test('WebSocket push bytes', () => {
  const enc = new Encoded(pub);
  assert.equal(
    enc.ws.toString(),
    '{"op":"message","channel":"chat:room\\"1","offset":7,"data":{"text":"hi\\nthere"}}',
  );
  assert.deepEqual(JSON.parse(enc.ws.toString()), {
    op: 'message',
    channel: 'chat:room"1',
    offset: 7,
    data: { text: 'hi\nthere' },
  });
});

test('SSE bytes: with the shared id and without', () => {
  const enc = new Encoded(pub);
  const json = '{"channel":"chat:room\\"1","offset":7,"data":{"text":"hi\\nthere"}}';
  assert.equal(enc.sseId.toString(), `id: e1-7\ndata: ${json}\n\n`);
  assert.equal(enc.sse.toString(), `data: ${json}\n\n`);
  assert.equal(enc.json, json);
});

test('each encoding is built once and shared', () => {
  const enc = new Encoded(pub);
  assert.equal(enc.ws, enc.ws);
  assert.equal(enc.sse, enc.sse);
});

test('named SSE control events', () => {
  assert.equal(sseEvent('reset', { a: 1 }, 'x-1').toString(), 'event: reset\nid: x-1\ndata: {"a":1}\n\n');
  assert.equal(
    sseEvent('disconnect', { code: 3001 }).toString(),
    'event: disconnect\ndata: {"code":3001}\n\n',
  );
});

test('jsonBytes counts UTF-8 bytes, not characters', () => {
  const enc = new Encoded({ ...pub, data: '"héllo €"' });
  assert.equal(enc.jsonBytes, Buffer.from(enc.json).length);
  assert.equal(enc.jsonBytes, enc.json.length + 3); // é: 2 bytes, €: 3 bytes
});
