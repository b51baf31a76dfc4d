import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';
import { formatCursor } from '../../src/contract/positions.js';
import { parseSseRequest, type SseRequest } from '../../src/transports/sse-request.js';

const config = loadConfig({ flags: { allowedOrigins: ['http://ok.test'] } });

function ok(target: string, headers: Record<string, string> = {}): SseRequest {
  const r = parseSseRequest(target, new Map(Object.entries(headers)), config);
  assert.ok(!(r instanceof HoldfastError), `${target}: ${r instanceof HoldfastError ? r.code : ''}`);
  return r;
}

test('an SSE request: channels, Origin, no position without Last-Event-ID', () => {
  assert.deepEqual(ok('/sse?channel=a%2Cb&channel=c', { origin: 'http://ok.test' }), {
    channels: ['a,b', 'c'],
    origin: 'http://ok.test',
    token: undefined,
    since: null,
  });
});

test('resuming: Last-Event-ID, else ?lastEventId=; a malformed one or one for other channels starts from now', () => {
  const id = formatCursor([
    { epoch: 'e1', offset: 4 },
    { epoch: 'e2', offset: 7 },
  ]);
  const both = [
    { epoch: 'e1', offset: 4 },
    { epoch: 'e2', offset: 7 },
  ];
  assert.deepEqual(ok('/sse?channel=a&channel=b', { 'last-event-id': id }).since, both);
  assert.deepEqual(ok(`/sse?channel=a&channel=b&lastEventId=${id}`).since, both);
  // The header wins over the parameter.
  assert.deepEqual(ok('/sse?channel=a&channel=b&lastEventId=x', { 'last-event-id': id }).since, both);
  assert.equal(ok('/sse?channel=a', { 'last-event-id': id }).since, null);
  assert.equal(ok('/sse?channel=a', { 'last-event-id': 'nonsense' }).since, null);
});

test('refusals, each with its code', () => {
  const code = (target: string, headers: Record<string, string> = {}): string | null => {
    const r = parseSseRequest(target, new Map(Object.entries(headers)), config);
    return r instanceof HoldfastError ? r.code : null;
  };
  assert.equal(code(`/sse?channel=a&p=${'p'.repeat(config.maxUrlLength)}`), 'uri_too_long');
  assert.equal(code('/sse?channel=a', { origin: 'http://evil.test' }), 'forbidden');
  assert.equal(code('/sse?channel=a%20b'), 'invalid_channel');
  assert.equal(code('/sse'), 'bad_request');
});
