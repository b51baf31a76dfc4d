import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressKey, bareAddress, FailureThrottle } from '../../src/api/throttle.js';

test('an address is blocked after its failures until its window ends', () => {
  const t = new FailureThrottle({ maxFailures: 2, windowMs: 60_000, maxAddresses: 100 });
  assert.equal(t.blockedFor('10.0.0.1', 0), 0);
  t.failed('10.0.0.1', 0);
  t.failed('10.0.0.1', 1000);
  assert.equal(t.blockedFor('10.0.0.1', 1000), 59);
  assert.equal(t.blockedFor('10.0.0.2', 1000), 0);
  assert.equal(t.blockedFor('10.0.0.1', 59_999), 1);
  assert.equal(t.blockedFor('10.0.0.1', 60_000), 0, 'a new window');
  t.failed('10.0.0.1', 60_000);
  assert.equal(t.blockedFor('10.0.0.1', 60_000), 0, 'one failure in the new window');
});

test('the table of addresses is bounded', () => {
  const t = new FailureThrottle({ maxFailures: 1, windowMs: 60_000, maxAddresses: 50 });
  for (let i = 0; i < 10_000; i++) t.failed(`10.0.${i >> 8}.${i & 255}`, 0);
  assert.equal(t.size, 50);
  assert.ok(t.blockedFor('10.0.39.15', 0) > 0, 'the latest addresses are kept');
});

test('IPv6 addresses count by their /64; IPv4-mapped ones as IPv4', () => {
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:ffff:1:2:3'));
  assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  assert.equal(addressKey('2001:0db8:0001:0002:0:0:0:1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('::ffff:127.0.0.2'), '127.0.0.2');
  assert.equal(addressKey('127.0.0.2'), '127.0.0.2');
  const t = new FailureThrottle({ maxFailures: 1, windowMs: 60_000, maxAddresses: 10 });
  t.failed('2001:db8:1:2::1', 0);
  assert.ok(t.blockedFor('2001:db8:1:2::99', 0) > 0);
});

test('a port is no part of an address: a.b.c.d:port and [v6]:port count as the address', () => {
  assert.equal(addressKey('10.7.7.7:51'), '10.7.7.7');
  assert.equal(addressKey('10.7.7.7:52'), addressKey('10.7.7.7'));
  assert.equal(addressKey('[2001:db8:1:2::1]:443'), '2001:db8:1:2::/64');
  assert.equal(addressKey('[2001:db8:1:2::7]'), '2001:db8:1:2::/64');
  assert.equal(addressKey('[::ffff:10.7.7.7]:9'), '10.7.7.7');
  assert.equal(bareAddress(' 10.7.7.7:51 '), '10.7.7.7');
  assert.equal(bareAddress('2001:db8::1'), '2001:db8::1');
  assert.equal(bareAddress('fe80::1%eth0'), 'fe80::1%eth0');
  for (const junk of [
    '',
    'unknown',
    '10.7.7.7:',
    '10.7.7:51',
    '999.1.1.1:5',
    '[10.7.7.7]:5',
    '2001:db8::1:51x',
    '[::1',
  ]) {
    assert.equal(bareAddress(junk), null, junk);
  }
  const t = new FailureThrottle({ maxFailures: 2, windowMs: 60_000, maxAddresses: 100 });
  t.failed('10.7.7.7:51', 0);
  t.failed('10.7.7.7:52', 0);
  assert.ok(t.blockedFor('10.7.7.7:53', 0) > 0, 'one client, whatever port it came from');
  assert.ok(t.blockedFor('10.7.7.7', 0) > 0);
});

test('failed() says when a failure blocks its address: once per address per window', () => {
  const t = new FailureThrottle({ maxFailures: 3, windowMs: 60_000, maxAddresses: 100 });
  const blocked = (a: string, now: number) => t.failed(a, now);
  assert.deepEqual(
    [blocked('10.0.0.1', 0), blocked('10.0.0.1', 1), blocked('10.0.0.1', 2)],
    [false, false, true],
  );
  assert.equal(blocked('10.0.0.1', 3), false, 'already blocked in this window');
  assert.equal(blocked('10.0.0.2', 3), false, 'another address has its own count');
  assert.deepEqual(
    [blocked('10.0.0.1', 60_000), blocked('10.0.0.1', 60_001), blocked('10.0.0.1', 60_002)],
    [false, false, true],
  );
  const one = new FailureThrottle({ maxFailures: 1, windowMs: 60_000, maxAddresses: 100 });
  assert.equal(one.failed('10.0.0.3', 0), true);
  const off = new FailureThrottle({ maxFailures: 0, windowMs: 60_000, maxAddresses: 100 });
  assert.equal(off.failed('10.0.0.3', 0), false);
});
