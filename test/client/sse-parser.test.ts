import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../../src/client/sse-parser.js';

test('unnamed events with ids, named events, comments', () => {
  const p = new SseParser();
  const out = p.push(
    ':\n\nid: k-1\ndata: {"channel":"a","offset":1,"data":1}\n\n' +
      'event: subscribed\nid: k-1\ndata: {"channel":"a"}\n\n: heartbeat\n\nevent: join\ndata: {"op":"join"}\n\n',
  );
  assert.deepEqual(out, [
    { event: 'message', data: '{"channel":"a","offset":1,"data":1}', id: 'k-1' },
    { event: 'subscribed', data: '{"channel":"a"}', id: 'k-1' },
    { event: 'join', data: '{"op":"join"}', id: 'k-1' },
  ]);
});

test('any chunking gives the same events, whatever the line ends', () => {
  const text =
    'event: disconnect\r\ndata: {"code":3000,\r\ndata: "reason":"x"}\r\n\r\nid:7\rdata:x\r\rdata: y\n\n' +
    'event: leave\ndata\n\n';
  const whole = new SseParser().push(text);
  assert.deepEqual(whole, [
    { event: 'disconnect', data: '{"code":3000,\n"reason":"x"}', id: null },
    { event: 'message', data: 'x', id: '7' },
    { event: 'message', data: 'y', id: '7' },
    { event: 'leave', data: '', id: '7' },
  ]);
  for (let size = 1; size <= 7; size++) {
    const p = new SseParser();
    const got = [];
    for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
    assert.deepEqual(got, whole, `chunks of ${size}`);
  }
});

test('an event without data, an unfinished event and unknown fields dispatch nothing', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('event: subscribed\n\nretry: 10\nfoo: bar\n\ndata: never ended\n'), []);
  assert.deepEqual(p.push('\n'), [{ event: 'message', data: 'never ended', id: null }]);
});

test('an id holding NUL is ignored; an empty id resets it', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('id: a\ndata: 1\n\nid: b\0c\ndata: 2\n\nid\ndata: 3\n\n'), [
    { event: 'message', data: '1', id: 'a' },
    { event: 'message', data: '2', id: 'a' },
    { event: 'message', data: '3', id: '' },
  ]);
});
