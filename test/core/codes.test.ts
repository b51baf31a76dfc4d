import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Disconnects, ErrorCodes, NO_STATUS } from '../../src/contract/codes.js';

test('every close reason fits a close frame (123 bytes)', () => {
  for (const [name, d] of Object.entries(Disconnects)) {
    assert.ok(Buffer.byteLength(d.reason) <= 123, name);
    assert.ok(d.reason.length > 0, name);
  }
});

test('close codes are unique, and their ranges say whether to reconnect', () => {
  const codes: number[] = Object.values(Disconnects).map((d) => d.code);
  assert.equal(new Set(codes).size, codes.length, 'one name per code');
  for (const [name, d] of Object.entries(Disconnects)) {
    assert.ok(d.code >= 1000 && d.code <= 3999, name);
    if (d.code >= 3000 && d.code <= 3499)
      assert.equal(d.reconnect, true, `${name} (${d.code}) is in the reconnect range`);
    if (d.code >= 3500)
      assert.equal(d.reconnect, false, `${name} (${d.code}) is in the do-not-reconnect range`);
    // A reason that tells the client to come back belongs in a reconnect range.
    if (/reconnect|try again|retry/.test(d.reason)) assert.equal(d.reconnect, true, `${name}: "${d.reason}"`);
    // RFC 6455 7.4.1: 1004-1006 and 1015 must never be sent in a close frame.
    assert.ok(![1004, 1005, 1006, 1015].includes(d.code), name);
  }
  assert.equal(codes.includes(NO_STATUS), false);
});

test('contract v2 codes: 3005 token expired (reconnect), 3506 invalid token (do not)', () => {
  assert.deepEqual(Disconnects.tokenExpired, { code: 3005, reason: 'token expired', reconnect: true });
  assert.deepEqual(Disconnects.invalidToken, { code: 3506, reason: 'invalid token', reconnect: false });
});

test('error codes: an HTTP status and a message each', () => {
  for (const [name, e] of Object.entries(ErrorCodes)) {
    assert.ok(e.status >= 400 && e.status <= 599, name);
    assert.ok(e.message.length > 0, name);
  }
});
