import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGetHead, startsGetFor, targetPathIs } from '../../src/transports/http1/head.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('a plain GET head: target, headers (lower-cased, repeats joined), length, keep-alive', () => {
  const text =
    'GET /sse?channel=a&channel=b HTTP/1.1\r\nHost: x\r\nLast-Event-ID: k-1\r\nX-A: 1\r\nx-a:  2 \r\n\r\n';
  const h = parseGetHead(b(text), 16384);
  assert.ok(h !== null);
  assert.equal(h.target, '/sse?channel=a&channel=b');
  assert.deepEqual(Object.fromEntries(h.headers), { host: 'x', 'last-event-id': 'k-1', 'x-a': '1, 2' });
  assert.equal(h.length, Buffer.byteLength(text));
  assert.equal(h.keepAlive, true);
  assert.equal(
    parseGetHead(b('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 100)?.keepAlive,
    false,
  );
  assert.equal(parseGetHead(b('GET / HTTP/1.0\r\n\r\n'), 100)?.keepAlive, false);
  assert.equal(parseGetHead(b('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n'), 100)?.keepAlive, true);
  assert.equal(parseGetHead(b('GET / HTTP/1.1\r\nHost: x\r\n\r\nextra'), 100)?.length, 27);
});

test('anything not fully understood is left to node:http (null)', () => {
  const cases = [
    'GET /sse HTTP/1.1\r\nHost: x\r\n', // incomplete
    'GET /sse HTTP/1.1\r\nAccept: */*\r\n\r\n', // HTTP/1.1 without Host
    'POST /sse HTTP/1.1\r\n\r\n',
    'get /sse HTTP/1.1\r\n\r\n',
    'GET /sse HTTP/2.0\r\n\r\n',
    'GET  /sse HTTP/1.1\r\n\r\n',
    'GET sse HTTP/1.1\r\n\r\n',
    'GET http://x/sse HTTP/1.1\r\n\r\n',
    'GET /s e HTTP/1.1\r\n\r\n',
    'GET /sse HTTP/1.1\r\nContent-Length: 0\r\n\r\n',
    'GET /sse HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET /sse HTTP/1.1\r\nExpect: 100-continue\r\n\r\n',
    'GET /sse HTTP/1.1\r\nNo colon\r\n\r\n',
    'GET /sse HTTP/1.1\r\n: empty name\r\n\r\n',
    'GET /sse HTTP/1.1\r\nBad Name: x\r\n\r\n',
    'GET /sse HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n',
    'GET /sse HTTP/1.1\r\nX: a\x01b\r\n\r\n',
    'GET /sse HTTP/1.1\r\nX: caf\xe9\r\n\r\n',
    'GET /sse HTTP/1.1\nHost: x\n\n',
  ];
  for (const c of cases) assert.equal(parseGetHead(b(c), 16384), null, JSON.stringify(c));
  // Over the size limit.
  assert.equal(parseGetHead(b(`GET / HTTP/1.1\r\nX: ${'a'.repeat(200)}\r\n\r\n`), 100), null);
});

test('header names that are Object.prototype members are plain headers', () => {
  const h = parseGetHead(
    b('GET / HTTP/1.1\r\nHost: x\r\nConstructor: c\r\n__proto__: p\r\ntoString: t\r\n\r\n'),
    1000,
  );
  assert.ok(h !== null);
  assert.deepEqual(
    [...h.headers],
    [
      ['host', 'x'],
      ['constructor', 'c'],
      ['__proto__', 'p'],
      ['tostring', 't'],
    ],
  );
});

test('targetPathIs: the path alone or before a query, nothing longer', () => {
  assert.equal(targetPathIs('/poll', '/poll'), true);
  assert.equal(targetPathIs('/poll?channel=a', '/poll'), true);
  for (const t of ['/pollx', '/poll/', '/pol', '/sse?x', '/'])
    assert.equal(targetPathIs(t, '/poll'), false, t);
});

test('startsGetFor: a GET of the path, with or without a query, seen from its first bytes', () => {
  for (const b of ['GET /poll HTTP/1.1\r\n', 'GET /poll?channel=a', 'GET /poll '])
    assert.equal(startsGetFor(Buffer.from(b), '/poll'), true, b);
  for (const b of ['GET /poll', 'GET /pollx HTTP/1.1', 'POST /poll HTTP/1.1', 'GET /sse?x', 'get /poll ', ''])
    assert.equal(startsGetFor(Buffer.from(b), '/poll'), false, b);
});
