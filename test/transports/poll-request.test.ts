import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';
import { formatCursor } from '../../src/contract/positions.js';
import { type PollRequest, parsePollRequest } from '../../src/transports/poll-request.js';

const config = loadConfig({ flags: { allowedOrigins: ['http://ok.test'] } });

function read(target: string, headers: Record<string, string> = {}): PollRequest | string {
  const r = parsePollRequest(target, new Map(Object.entries(headers)), config);
  return r instanceof HoldfastError ? r.code : r;
}

test('a long-poll request: channels, Origin, the cursor as given and the positions it holds', () => {
  const cursor = formatCursor([
    { epoch: 'e1', offset: 4 },
    { epoch: 'e2', offset: 7 },
  ]);
  assert.deepEqual(read(`/poll?channel=a%2Cb&channel=c&cursor=${cursor}`, { origin: 'http://ok.test' }), {
    channels: ['a,b', 'c'],
    origin: 'http://ok.test',
    token: undefined,
    cursor,
    since: [
      { epoch: 'e1', offset: 4 },
      { epoch: 'e2', offset: 7 },
    ],
  });
  // No cursor, or an empty one: from now.
  assert.deepEqual(read('/poll?channel=a'), {
    channels: ['a'],
    origin: undefined,
    token: undefined,
    cursor: null,
    since: null,
  });
  assert.deepEqual(read('/poll?channel=a&cursor='), {
    channels: ['a'],
    origin: undefined,
    token: undefined,
    cursor: '',
    since: null,
  });
});

test('refusals, each with its code: a bad cursor is an error (unlike SSE)', () => {
  assert.equal(read('/poll?channel=a&cursor=nonsense'), 'bad_request');
  assert.equal(read('/poll?channel=a&channel=b&cursor=e1-4'), 'bad_request');
  assert.equal(read(`/poll?channel=a&p=${'p'.repeat(config.maxUrlLength)}`), 'uri_too_long');
  assert.equal(read('/poll?channel=a', { origin: 'http://evil.test' }), 'forbidden');
  assert.equal(read('/poll?channel=%00'), 'invalid_channel');
  assert.equal(read('/poll?cursor=e1-4'), 'bad_request');
});
