import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptKey, handshake } from '../../src/transports/ws/handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const good = {
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': KEY,
  'sec-websocket-version': '13',
};

test('the accept key of RFC 6455 1.3', () => {
  assert.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('a valid upgrade gets a 101 with the accept key and no extension', () => {
  const h = handshake('GET', { ...good, 'sec-websocket-extensions': 'permessage-deflate' });
  assert.equal(h.ok, true);
  assert.equal(
    h.response,
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
  );
  assert.equal(handshake('GET', { ...good, upgrade: 'WebSocket' }).ok, true);
});

test('the first offered subprotocol is selected', () => {
  const h = handshake('GET', { ...good, 'sec-websocket-protocol': 'chat, superchat' });
  assert.match(h.response, /\r\nSec-WebSocket-Protocol: chat\r\n\r\n$/);
});

test('bad upgrades are refused with a status', () => {
  const cases: [string | undefined, Record<string, string>, number][] = [
    ['POST', good, 405],
    ['GET', { ...good, upgrade: 'h2c' }, 400],
    ['GET', { ...good, 'sec-websocket-key': 'short' }, 400],
    ['GET', { ...good, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ=' }, 400],
    ['GET', { ...good, 'sec-websocket-version': '12' }, 400],
  ];
  for (const [method, headers, status] of cases) {
    const h = handshake(method, headers);
    assert.equal(h.ok, false);
    assert.equal(!h.ok && h.status, status);
    assert.match(h.response, new RegExp(`^HTTP/1.1 ${status} `));
    assert.match(h.response, /\r\nConnection: close\r\n/);
  }
  const { headers: _k, ...noKey } = { headers: 0, ...good };
  const { 'sec-websocket-key': _key, ...missing } = noKey;
  assert.equal(handshake('GET', missing).ok, false);
  assert.match(
    handshake('GET', { ...good, 'sec-websocket-version': '12' }).response,
    /Sec-WebSocket-Version: 13, 8/,
  );
});
