import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodePresenceWire,
  encodePresenceWire,
  isPresenceWire,
  memberJson,
} from '../../src/engines/presence-wire.js';
import { decodeWire, encodeWire } from '../../src/engines/wire.js';

test('a presence event round-trips, info included or left out', () => {
  const m = { client: 'c1', user: 'u|1', info: { a: [1, '|'] } };
  assert.deepEqual(decodePresenceWire('room:1', encodePresenceWire('join', m)), {
    op: 'join',
    channel: 'room:1',
    member: m,
  });
  const bare = { client: 'c2', user: 'u2' };
  assert.equal(memberJson(bare), '{"client":"c2","user":"u2"}');
  assert.deepEqual(decodePresenceWire('x', encodePresenceWire('leave', bare)), {
    op: 'leave',
    channel: 'x',
    member: bare,
  });
});

test('presence events and publications are never read as each other', () => {
  const pub = encodeWire('node', { channel: 'c', epoch: 'e', offset: 1, time: 5, data: '"p1|join|x"' });
  assert.equal(isPresenceWire(pub), false);
  assert.equal(decodePresenceWire('c', pub), null);
  const ev = encodePresenceWire('join', { client: 'c', user: 'u' });
  assert.equal(decodeWire('c', ev), null);
});

test('malformed presence events are dropped', () => {
  for (const text of [
    'p1|',
    'p1|join',
    'p1|kick|{"client":"c","user":"u"}',
    'p1|join|{nope',
    'p1|join|null',
    'p1|join|{"client":1,"user":"u"}',
    'p1|join|{"client":"c"}',
    'p2|join|{"client":"c","user":"u"}',
  ]) {
    assert.equal(decodePresenceWire('c', text), null, text);
  }
});

test('a lone surrogate is written as U+FFFD (Lua cjson refuses its escape); escaped backslashes and pairs stay', () => {
  const m = { client: 'c1', user: 'u\ud800', info: { '\udc00': 'a\\ud800\ud83d\ude00\\\ud801' } };
  const json = memberJson(m);
  assert.doesNotMatch(json, /(^|[^\\])(\\\\)*\\ud[89a-f]/);
  assert.deepEqual(JSON.parse(json), {
    client: 'c1',
    user: 'u\ufffd',
    info: { '\ufffd': 'a\\ud800\ud83d\ude00\\\ufffd' },
  });
});
