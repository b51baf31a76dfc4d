import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  isExpired,
  MAX_GRANTED_CHANNELS,
  MAX_INFO_BYTES,
  MAX_USER_LENGTH,
  MalformedAnswer,
  parseConnectAnswer,
  parsePublishAnswer,
  parseSubscribeAnswer,
} from '../../src/auth/proxy-answers.js';

const MAX_CHANNEL = 255;
const connect = (body: string) => parseConnectAnswer(body, MAX_CHANNEL);

test('connect: an identity from user, info, channels and expireAt (seconds -> ms)', () => {
  assert.deepEqual(
    connect('{"user": "42", "info": {"name": "Ann"}, "channels": ["a", "b*"], "expireAt": 2000000000}'),
    {
      user: '42',
      info: { name: 'Ann' },
      channels: ['a', 'b*'],
      expiresAt: 2_000_000_000_000,
    },
  );
  assert.deepEqual(connect('{"user": "42"}'), { user: '42', info: undefined, channels: [], expiresAt: 0 });
  assert.deepEqual(connect('{"user": "42", "channels": null, "info": null, "expireAt": 0}'), {
    user: '42',
    info: undefined,
    channels: [],
    expiresAt: 0,
  });
  assert.deepEqual(connect('{"user": "42", "channels": ["*"]}')?.channels, ['*']);
});

test('connect: {"user": ""} is anonymous (null), and may grant nothing', () => {
  assert.equal(connect('{"user": ""}'), null);
  assert.equal(connect('{"user": "", "channels": [], "info": null, "expireAt": 0}'), null);
  for (const body of [
    '{"user": "", "channels": ["a"]}',
    '{"user": "", "info": {"admin": true}}',
    '{"user": "", "expireAt": 2000000000}',
  ]) {
    assert.throws(() => connect(body), MalformedAnswer, body);
  }
});

test('connect: fields outside the contract are ignored and never copied', () => {
  const id = connect(
    '{"user": "42", "channels": ["a"], "expiresAt": 0, "admin": true, "__proto__": {"channels": ["*"]}, "constructor": 1}',
  );
  assert.deepEqual(id, { user: '42', info: undefined, channels: ['a'], expiresAt: 0 });
  assert.deepEqual(Object.keys(id ?? {}).sort(), ['channels', 'expiresAt', 'info', 'user']);
  assert.equal(Object.getPrototypeOf(id), Object.prototype);
});

test('connect: answers off the contract are refused, not coerced', () => {
  const bad = [
    '',
    '   ',
    'not json',
    '{"user": "42"',
    'null',
    '[]',
    '["42"]',
    '"42"',
    '42',
    '{}',
    '{"user": null}',
    '{"user": 42}',
    '{"user": ["42"]}',
    '{"user": {"toString": "42"}}',
    JSON.stringify({ user: 'x'.repeat(MAX_USER_LENGTH + 1) }),
    '{"user": "42", "channels": "a"}',
    '{"user": "42", "channels": "*"}',
    '{"user": "42", "channels": {"0": "*", "length": 1}}',
    '{"user": "42", "channels": [1]}',
    '{"user": "42", "channels": [["a"]]}',
    '{"user": "42", "channels": [null]}',
    '{"user": "42", "channels": [""]}',
    '{"user": "42", "channels": ["a b"]}',
    '{"user": "42", "channels": ["**"]}',
    '{"user": "42", "channels": ["a*b"]}',
    JSON.stringify({ user: '42', channels: ['x'.repeat(MAX_CHANNEL + 1)] }),
    JSON.stringify({
      user: '42',
      channels: Array.from({ length: MAX_GRANTED_CHANNELS + 1 }, (_, i) => `c${i}`),
    }),
    JSON.stringify({ user: '42', info: { s: 'x'.repeat(MAX_INFO_BYTES) } }),
    '{"user": "42", "expireAt": "2000000000"}',
    '{"user": "42", "expireAt": 2000000000.5}',
    '{"user": "42", "expireAt": -1}',
    '{"user": "42", "expireAt": true}',
    '{"user": "42", "expireAt": 2000000000000}',
  ];
  for (const body of bad) assert.throws(() => connect(body), MalformedAnswer, body.slice(0, 100));
});

test('connect: channel patterns are bounded by the configured channel length', () => {
  assert.deepEqual(parseConnectAnswer('{"user": "1", "channels": ["abcd", "ab*"]}', 4)?.channels, [
    'abcd',
    'ab*',
  ]);
  assert.throws(() => parseConnectAnswer('{"user": "1", "channels": ["abcde"]}', 4), MalformedAnswer);
});

test('isExpired: 0 never; a past expireAt has expired', () => {
  const id = { user: '1', info: undefined, channels: [], expiresAt: 0 };
  assert.equal(isExpired(id, Date.now()), false);
  assert.equal(isExpired({ ...id, expiresAt: 1000 }, 1000), true);
  assert.equal(isExpired({ ...id, expiresAt: 1001 }, 1000), false);
});

test('subscribe: empty or an object allows; anything else is off the contract', () => {
  parseSubscribeAnswer('');
  parseSubscribeAnswer('{}');
  parseSubscribeAnswer('{"result": {}}');
  for (const body of ['OK', 'true', '[]', 'null', '"yes"', '{']) {
    assert.throws(() => parseSubscribeAnswer(body), MalformedAnswer, body);
  }
});

test('publish: the client data unless the backend sends "data"; bounded', () => {
  assert.equal(parsePublishAnswer('', '{"a":1}', 100), '{"a":1}');
  assert.equal(parsePublishAnswer('{}', '{"a":1}', 100), '{"a":1}');
  assert.equal(parsePublishAnswer('{"other": 1}', '{"a":1}', 100), '{"a":1}');
  assert.equal(parsePublishAnswer('{"data": {"b": 2}}', '{"a":1}', 100), '{"b":2}');
  assert.equal(parsePublishAnswer('{"data": null}', '{"a":1}', 100), 'null');
  assert.equal(parsePublishAnswer('{"data": "x"}', '1', 100), '"x"');
  assert.throws(
    () => parsePublishAnswer(JSON.stringify({ data: 'x'.repeat(100) }), '1', 100),
    MalformedAnswer,
  );
  assert.throws(() => parsePublishAnswer('[{"data": 1}]', '1', 100), MalformedAnswer);
  assert.throws(() => parsePublishAnswer('{"data": ', '1', 100), MalformedAnswer);
});

test('connect (property): any answer is refused, or grants exactly what it says', () => {
  const field = fc.oneof(
    fc.jsonValue(),
    fc.string(),
    fc.array(fc.oneof(fc.constantFrom('a', 'b*', '*', 'chat:#42', 'a b', ''), fc.jsonValue()), {
      maxLength: 4,
    }),
    fc.integer({ min: -10, max: 3_000_000_000 }),
  );
  const answer = fc.record(
    {
      user: fc.oneof(fc.constantFrom('', '42'), field),
      channels: field,
      info: field,
      expireAt: field,
      extra: field,
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(answer, (o) => {
      const body = JSON.stringify(o);
      let id: ReturnType<typeof connect>;
      try {
        id = connect(body);
      } catch (err) {
        assert.ok(err instanceof MalformedAnswer, String(err));
        return;
      }
      const sent = JSON.parse(body) as Record<string, unknown>;
      if (id === null) {
        assert.equal(sent.user, '');
        return;
      }
      assert.equal(id.user, sent.user);
      assert.deepEqual(id.channels, sent.channels ?? []);
      assert.ok(id.channels.every((c) => typeof c === 'string'));
      const exp = sent.expireAt ?? 0;
      assert.equal(typeof exp, 'number');
      assert.equal(id.expiresAt, (exp as number) * 1000);
      assert.deepEqual(id.info, sent.info ?? undefined);
    }),
    { numRuns: 2000 },
  );
});
