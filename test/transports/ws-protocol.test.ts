import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommand } from '../../src/transports/ws/protocol.js';

const parse = (s: string) => parseCommand(s, 255);

test('valid commands', () => {
  assert.deepEqual(parse('{"id":1,"op":"subscribe","channel":"news"}'), {
    id: 1,
    op: 'subscribe',
    channel: 'news',
  });
  assert.deepEqual(parse('{"id":2,"op":"subscribe","channel":"a:b#c","since":{"epoch":"e","offset":4}}'), {
    id: 2,
    op: 'subscribe',
    channel: 'a:b#c',
    since: { epoch: 'e', offset: 4 },
  });
  assert.deepEqual(parse('{"id":3,"op":"unsubscribe","channel":"news"}'), {
    id: 3,
    op: 'unsubscribe',
    channel: 'news',
  });
  assert.deepEqual(parse('{"id":"x","op":"ping"}'), { id: 'x', op: 'ping' });
});

test('malformed input gets a coded error, with the id when there is one', () => {
  assert.deepEqual(parse('{nope'), {
    error: { code: 'invalid_json', message: 'The frame is not valid JSON.' },
  });
  assert.equal((parse('[1]') as { error: { code: string } }).error.code, 'bad_request');
  assert.equal((parse('{"op":"ping"}') as { error: { code: string } }).error.code, 'bad_request');
  assert.equal((parse('{"id":-1,"op":"ping"}') as { error: { code: string } }).error.code, 'bad_request');
  assert.deepEqual(parse('{"id":5,"op":"dance"}'), {
    id: 5,
    error: { code: 'unknown_op', message: 'Unknown op "dance".' },
  });
  assert.deepEqual(parse('{"id":6,"op":"subscribe","channel":"bad name"}'), {
    id: 6,
    error: { code: 'invalid_channel', message: 'The channel name is not valid.' },
  });
  assert.equal(
    (parse('{"id":7,"op":"subscribe"}') as { error: { code: string } }).error.code,
    'invalid_channel',
  );
  assert.equal(
    (
      parse('{"id":8,"op":"subscribe","channel":"a","since":{"epoch":"e","offset":-1}}') as {
        error: { code: string };
      }
    ).error.code,
    'bad_request',
  );
  assert.equal(
    (parse('{"id":9,"op":"subscribe","channel":"a","since":"x"}') as { error: { code: string } }).error.code,
    'bad_request',
  );
});

test('channel length is capped', () => {
  const long = 'a'.repeat(300);
  assert.equal(
    (parseCommand(`{"id":1,"op":"subscribe","channel":"${long}"}`, 255) as { error: { code: string } }).error
      .code,
    'invalid_channel',
  );
});

test('presence: a channel is all it takes; since or extra fields are ignored, a bad channel is refused', () => {
  assert.deepEqual(parse('{"id":4,"op":"presence","channel":"room:1"}'), {
    id: 4,
    op: 'presence',
    channel: 'room:1',
  });
  assert.deepEqual(parse('{"id":5,"op":"presence","channel":"room:1","since":{"epoch":"e","offset":1}}'), {
    id: 5,
    op: 'presence',
    channel: 'room:1',
  });
  const noChannel = parse('{"id":6,"op":"presence"}');
  assert.ok('error' in noChannel && noChannel.error.code === 'invalid_channel' && noChannel.id === 6);
  const badChannel = parse('{"id":7,"op":"presence","channel":"a b"}');
  assert.ok('error' in badChannel && badChannel.error.code === 'invalid_channel');
  const noId = parse('{"op":"presence","channel":"room:1"}');
  assert.ok('error' in noId && noId.error.code === 'bad_request');
});

test('op refresh: only where the server takes it; a token is a non-empty string', () => {
  assert.deepEqual(parseCommand('{"id":7,"op":"refresh","token":"abc"}', 255), {
    id: 7,
    error: { code: 'unknown_op', message: 'Unknown op "refresh".' },
  });
  assert.deepEqual(parseCommand('{"id":7,"op":"refresh","token":"abc"}', 255, true), {
    id: 7,
    op: 'refresh',
    token: 'abc',
  });
  for (const bad of [
    '{"id":7,"op":"refresh"}',
    '{"id":7,"op":"refresh","token":""}',
    '{"id":7,"op":"refresh","token":5}',
  ])
    assert.equal((parseCommand(bad, 255, true) as { error: { code: string } }).error.code, 'bad_request');
  const long = JSON.stringify({ id: 1, op: 'refresh', token: 'x'.repeat(9000) });
  assert.equal((parseCommand(long, 255, true) as { error: { code: string } }).error.code, 'bad_request');
});

test('publish: a valid channel and any JSON data, carried as its JSON text', () => {
  assert.deepEqual(parse('{"id":9,"op":"publish","channel":"chat:room","data":{"text":"hi","n":[1,2]}}'), {
    id: 9,
    op: 'publish',
    channel: 'chat:room',
    data: '{"text":"hi","n":[1,2]}',
  });
  assert.deepEqual(parse('{"id":"p","op":"publish","channel":"c","data":null}'), {
    id: 'p',
    op: 'publish',
    channel: 'c',
    data: 'null',
  });
  assert.deepEqual(parse('{"id":1,"op":"publish","channel":"c","data":"text"}'), {
    id: 1,
    op: 'publish',
    channel: 'c',
    data: '"text"',
  });
});

test('publish: a missing or bad channel, or no data, is refused with the id', () => {
  const code = (s: string): unknown => {
    const r = parse(s) as { id?: unknown; error?: { code: string } };
    return [r.id, r.error?.code];
  };
  assert.deepEqual(code('{"id":1,"op":"publish","data":1}'), [1, 'invalid_channel']);
  assert.deepEqual(code('{"id":2,"op":"publish","channel":"bad name","data":1}'), [2, 'invalid_channel']);
  assert.deepEqual(code('{"id":3,"op":"publish","channel":7,"data":1}'), [3, 'invalid_channel']);
  assert.deepEqual(code('{"id":4,"op":"publish","channel":"c"}'), [4, 'bad_request']);
  assert.deepEqual(code(`{"id":5,"op":"publish","channel":"${'x'.repeat(256)}","data":1}`), [
    5,
    'invalid_channel',
  ]);
});

test('publish: data nested deeper than JSON.stringify can give back is a bad request, not a crash', () => {
  const deep = `{"id":6,"op":"publish","channel":"c","data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  const r = parse(deep) as { id?: unknown; error?: { code: string }; data?: string };
  // Either it round-trips (the stack was deep enough) or it is refused with a code.
  if (r.error !== undefined) assert.deepEqual([r.id, r.error.code], [6, 'bad_request']);
  else assert.equal(r.data?.length, 40_000);
});
