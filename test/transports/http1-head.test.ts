import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  HEAD_NOT_BEGUN,
  HEAD_WHOLE,
  parseGetHead,
  scanHeadEnd,
  startsGetFor,
  targetPathIs,
} from '../../src/transports/http1/head.js';

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

test('scanHeadEnd: a head is whole at its blank line, however its bytes are split', () => {
  const bytes = Buffer.from('\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /x');
  const end = bytes.indexOf('\r\n\r\n', 2) + 4;
  for (let cut = 0; cut <= bytes.length; cut++) {
    const first = scanHeadEnd(bytes.subarray(0, cut), HEAD_NOT_BEGUN);
    assert.equal(first === HEAD_WHOLE, cut >= end, `cut at ${cut}`);
    assert.equal(scanHeadEnd(bytes.subarray(cut), first), HEAD_WHOLE, `cut at ${cut}`);
  }
  // Byte by byte.
  let state = HEAD_NOT_BEGUN;
  for (let i = 0; i < end; i++) state = scanHeadEnd(bytes.subarray(i, i + 1), state);
  assert.equal(state, HEAD_WHOLE);
  // Empty lines before a request line, a head not ended yet, and bare LFs are not whole heads.
  for (const text of [
    '\r\n\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\n',
    'GET / HTTP/1.1\n\n',
    'GET / HTTP/1.1\r\n\r\r\n',
  ]) {
    assert.notEqual(scanHeadEnd(Buffer.from(text), HEAD_NOT_BEGUN), HEAD_WHOLE, JSON.stringify(text));
  }
  assert.equal(scanHeadEnd(Buffer.from('GET / HTTP/1.0\r\n\r\n'), HEAD_NOT_BEGUN), HEAD_WHOLE);
});
