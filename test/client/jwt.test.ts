import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenExpiry } from '../../src/client/jwt.js';

const b64url = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

test("a JWT's exp in milliseconds, read without verifying", () => {
  assert.equal(
    tokenExpiry(`${b64url({ alg: 'HS256' })}.${b64url({ sub: 'ü', exp: 1700000000 })}.sig`),
    1700000000000,
  );
  assert.equal(tokenExpiry(`${b64url({})}.${b64url({ sub: '1' })}.sig`), null, 'no exp');
  assert.equal(tokenExpiry('not-a-jwt'), null);
  assert.equal(tokenExpiry('a.!!!.c'), null);
  assert.equal(tokenExpiry(`a.${b64url({ exp: '1' })}.c`), null);
});
