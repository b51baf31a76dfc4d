import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { clientAddress, KeyGate } from '../../src/api/auth.js';

const req = (xff: string | string[] | undefined, peer = '192.0.2.1') =>
  ({
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
    socket: { remoteAddress: peer },
  }) as unknown as Pick<IncomingMessage, 'headers' | 'socket'>;

test('behind a trusted proxy the client is the last X-Forwarded-For entry, without its port', () => {
  assert.equal(clientAddress(req('198.51.100.1, 10.7.7.7:51'), true), '10.7.7.7');
  assert.equal(clientAddress(req('10.7.7.7:52'), true), '10.7.7.7');
  assert.equal(clientAddress(req('[2001:db8::5]:8443'), true), '2001:db8::5');
  assert.equal(clientAddress(req('2001:db8::5'), true), '2001:db8::5');
  assert.equal(clientAddress(req(['198.51.100.1', ' 203.0.113.9 ']), true), '203.0.113.9');
});

test('an entry that is not an address counts as the peer (the proxy), as does no entry', () => {
  for (const junk of ['unknown', '10.7.7.7:51x', 'evil:1', '', ' , ', '_hidden', '[10.7.7.7]:5']) {
    assert.equal(clientAddress(req(junk), true), '192.0.2.1', junk);
  }
  assert.equal(clientAddress(req(undefined), true), '192.0.2.1');
});

test('without trustProxy X-Forwarded-For is ignored', () => {
  assert.equal(clientAddress(req('10.7.7.7'), false), '192.0.2.1');
});

test('the gate tells once per address per window when an address becomes blocked', () => {
  const told: [string, number][] = [];
  const gate = new KeyGate('the-right-key-0123456789', {
    failuresPerMinute: 2,
    trustProxy: false,
    onBlocked: (address, s) => told.push([address, s]),
  });
  const from = (peer: string) => req(undefined, peer) as IncomingMessage;
  assert.equal(gate.verify(from('192.0.2.7'), 'guess', 0)?.error.status, 401);
  assert.deepEqual(told, []);
  assert.equal(gate.verify(from('192.0.2.7'), 'guess', 1000)?.error.status, 401);
  assert.deepEqual(told, [['192.0.2.7', 59]], 'the failure that blocked it');
  for (let i = 0; i < 5; i++) assert.equal(gate.verify(from('192.0.2.7'), 'guess', 2000)?.error.status, 429);
  assert.equal(gate.verify(from('192.0.2.7'), 'the-right-key-0123456789', 2000)?.error.status, 429);
  assert.equal(told.length, 1, 'told once, however often it knocks');
  gate.verify(from('192.0.2.7'), 'guess', 60_000);
  gate.verify(from('192.0.2.7'), 'guess', 60_001);
  assert.deepEqual(told[1], ['192.0.2.7', 60], 'and once again in the next window');
  assert.equal(gate.verify(from('192.0.2.8'), 'the-right-key-0123456789', 60_001), null);
});
