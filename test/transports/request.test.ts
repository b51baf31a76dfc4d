import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';
import {
  checkRequest,
  NodeHeaders,
  queryOf,
  readChannels,
  readStreamRequest,
  tokenOf,
} from '../../src/transports/request.js';

const config = loadConfig({ flags: { allowedOrigins: ['http://ok.test'], maxUrlLength: 256 } });
const none = new Map<string, string>();
const code = (r: unknown): string | null => (r instanceof HoldfastError ? r.code : null);

test('channels: one per parameter, a comma is part of the name, repeats once, order kept', () => {
  assert.deepEqual(readChannels(queryOf('/sse?channel=dm%3Arx%2342%2C43'), config), ['dm:rx#42,43']);
  assert.deepEqual(readChannels(queryOf('/sse?channel=a,b'), config), ['a,b']);
  assert.deepEqual(readChannels(queryOf('/sse?channel=b&channel=a&channel=b'), config), ['b', 'a']);
  assert.equal(code(readChannels(queryOf('/sse'), config)), 'bad_request');
  assert.equal(code(readChannels(queryOf('/sse?channel='), config)), 'invalid_channel');
  assert.equal(code(readChannels(queryOf('/sse?channel=a%20b'), config)), 'invalid_channel');
  assert.equal(code(readChannels(queryOf(`/sse?channel=${'x'.repeat(256)}`), config)), 'invalid_channel');
  const many = Array.from({ length: config.maxChannelsPerConnection + 1 }, (_, i) => `channel=c${i}`);
  assert.equal(code(readChannels(new URLSearchParams(many.join('&')), config)), 'too_many_channels');
  assert.equal((readChannels(new URLSearchParams(many.slice(1).join('&')), config) as string[]).length, 128);
});

test('the query: after ?, without a fragment, as WHATWG URL reads it', () => {
  for (const target of [
    '/sse?channel=a#b',
    '/sse?channel=a',
    '/sse?x=1&channel=a&y',
    'http://h/sse?channel=a',
  ]) {
    assert.deepEqual(
      queryOf(target).getAll('channel'),
      new URL(target, 'http://h').searchParams.getAll('channel'),
    );
  }
  assert.deepEqual([...queryOf('/sse')], []);
  assert.deepEqual([...queryOf('/sse#?channel=a')], []);
});

test('rules before the query: the target length (maxUrlLength), then the Origin', () => {
  assert.equal(checkRequest(`/sse?channel=${'a'.repeat(256 - 13)}`, none, config), null);
  assert.equal(code(checkRequest(`/sse?channel=${'a'.repeat(256 - 12)}`, none, config)), 'uri_too_long');
  assert.equal(checkRequest('/sse', new Map([['origin', 'http://ok.test']]), config), null);
  assert.equal(code(checkRequest('/sse', new Map([['origin', 'http://evil.test']]), config)), 'forbidden');
  const long = `/sse?channel=a&p=${'p'.repeat(300)}`;
  assert.equal(code(checkRequest(long, new Map([['origin', 'http://evil.test']]), config)), 'uri_too_long');
});

test('a stream request: its channels and its allowed Origin', () => {
  const read = readStreamRequest('/sse?channel=a&channel=b', new Map([['origin', 'http://ok.test']]), config);
  assert.ok(!(read instanceof HoldfastError));
  assert.deepEqual(read.request, { channels: ['a', 'b'], origin: 'http://ok.test', token: undefined });
});

test("node:http's headers as a lookup: lower-case names, repeats joined as the fast path joins them", () => {
  const h = new NodeHeaders({ origin: 'http://ok.test', 'x-many': ['1', '2'] });
  assert.equal(h.get('origin'), 'http://ok.test');
  assert.equal(h.get('x-many'), '1, 2');
  assert.equal(h.get('last-event-id'), undefined);
});

test('the connection token: ?token=, else Authorization: Bearer; an empty one is none', () => {
  const h = (headers: Record<string, string>) => new NodeHeaders(headers);
  assert.equal(tokenOf(queryOf('/sse?channel=a&token=abc'), h({})), 'abc');
  assert.equal(tokenOf(queryOf('/sse?channel=a&token=abc'), h({ authorization: 'Bearer xyz' })), 'abc');
  assert.equal(tokenOf(queryOf('/sse?channel=a'), h({ authorization: 'Bearer xyz' })), 'xyz');
  assert.equal(tokenOf(queryOf('/sse?channel=a'), h({ authorization: 'bearer  xyz ' })), 'xyz');
  assert.equal(tokenOf(queryOf('/sse?channel=a'), h({ authorization: 'Basic xyz' })), undefined);
  assert.equal(tokenOf(queryOf('/sse?channel=a&token='), h({ authorization: 'Bearer ' })), undefined);
  assert.equal(tokenOf(queryOf('/sse?channel=a'), h({})), undefined);
});
