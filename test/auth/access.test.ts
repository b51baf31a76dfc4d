import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { AccessControl, type Backend, type ConnectInfo } from '../../src/auth/access.js';
import { loadConfig } from '../../src/config/config.js';
import { HoldfastError } from '../../src/contract/codes.js';
import type { Identity } from '../../src/contract/identity.js';

const SECRET = 'access-test-secret-0123456789abcdef';
const key = new TextEncoder().encode(SECRET);
const token = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
const now = () => Math.floor(Date.now() / 1000);
const info = (t?: string): ConnectInfo => ({
  transport: 'ws',
  token: t,
  headers: { cookie: 'sid=1' },
  remoteAddr: '127.0.0.1',
});
const NAMESPACES = {
  '': { access: 'public' },
  chat: { access: 'public', clientPublish: true },
  room: { access: 'token', clientPublish: true },
  dialog: { access: 'token', clientPublish: true },
};

async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(
    p,
    (err: unknown) => err instanceof HoldfastError && err.code === code,
    `expected ${code}`,
  );
}

/** A Backend that records its calls and answers as told. */
class FakeBackend implements Backend {
  readonly calls: string[] = [];
  connectAnswer: Identity | HoldfastError = { user: 'cookie-user', info: null, channels: [], expiresAt: 0 };
  subscribeAnswer: HoldfastError | null = null;
  publishAnswer: string | HoldfastError = '"replaced"';
  readonly connect = async (c: ConnectInfo): Promise<Identity> => {
    this.calls.push(`connect ${c.headers['cookie']}`);
    if (this.connectAnswer instanceof HoldfastError) throw this.connectAnswer;
    return this.connectAnswer;
  };
  readonly subscribe = async (identity: Identity | null, channel: string): Promise<void> => {
    this.calls.push(`subscribe ${identity?.user} ${channel}`);
    if (this.subscribeAnswer !== null) throw this.subscribeAnswer;
  };
  readonly publish = async (identity: Identity | null, channel: string, data: string): Promise<string> => {
    this.calls.push(`publish ${identity?.user} ${channel} ${data}`);
    if (this.publishAnswer instanceof HoldfastError) throw this.publishAnswer;
    return this.publishAnswer;
  };
}

describe('AccessControl', () => {
  test('disabled when nothing is configured; then every token is ignored by transports and all is allowed', async () => {
    const a = new AccessControl(loadConfig());
    assert.equal(a.enabled, false);
    assert.equal(await a.authenticate(info()), null);
    assert.equal(a.identityNow(undefined), null);
    assert.equal(await a.subscribe(null, 'dialog:#1', info()), null);
    assert.equal(a.subscribeNow(null, 'dialog:#1'), true);
    assert.equal(new AccessControl(loadConfig({ flags: { tokenHmacSecret: SECRET } })).enabled, true);
    assert.equal(new AccessControl(loadConfig({ flags: { namespaces: '{"":{}}' } })).enabled, true);
    assert.equal(new AccessControl(loadConfig(), new FakeBackend()).enabled, true);
  });

  test('authenticate: a token decides alone, even where anonymous access would pass', async () => {
    const backend = new FakeBackend();
    const a = new AccessControl(
      loadConfig({ flags: { tokenHmacSecret: SECRET, namespaces: JSON.stringify(NAMESPACES) } }),
      backend,
    );
    const id = await a.authenticate(info(await token({ sub: '42' })));
    assert.equal(id?.user, '42');
    await refused(a.authenticate(info('garbage')), 'invalid_token');
    await refused(a.authenticate(info(await token({ sub: '42', exp: now() - 1 }))), 'token_expired');
    assert.deepEqual(backend.calls, [], 'the backend is not asked when a token is given');
    assert.equal((await a.authenticate(info()))?.user, 'cookie-user');
    assert.deepEqual(backend.calls, ['connect sid=1']);
    assert.equal(a.identityNow(undefined), undefined, 'a connect proxy: no answer without asking');
    backend.connectAnswer = new HoldfastError('backend_unavailable');
    await refused(a.authenticate(info()), 'backend_unavailable');
  });

  test('authenticate without any key: a token is invalid, no token is anonymous', async () => {
    const a = new AccessControl(loadConfig({ flags: { namespaces: JSON.stringify(NAMESPACES) } }));
    await refused(a.authenticate(info(await token({ sub: '1' }))), 'invalid_token');
    assert.equal(await a.authenticate(info()), null);
  });

  test('identityNow and cached: a verified token answers at once', async () => {
    const a = new AccessControl(loadConfig({ flags: { tokenHmacSecret: SECRET } }));
    const t = await token({ sub: '9' });
    assert.equal(a.identityNow(t), undefined);
    const id = await a.authenticate(info(t));
    assert.equal(a.identityNow(t), id);
    assert.equal(a.cached(t), id);
    assert.equal(a.identityNow(undefined), null);
  });

  test('refresh: same user only', async () => {
    const a = new AccessControl(loadConfig({ flags: { tokenHmacSecret: SECRET } }));
    const first = await a.authenticate(info(await token({ sub: '42', exp: now() + 5 })));
    const next = await a.refresh(first, await token({ sub: '42', exp: now() + 60 }));
    assert.equal(next.user, '42');
    assert.ok(next.expiresAt > (first?.expiresAt ?? 0));
    await refused(a.refresh(first, await token({ sub: '43' })), 'invalid_token');
    await refused(a.refresh(first, await token({ sub: '42', exp: now() - 1 })), 'token_expired');
    await refused(a.refresh(first, 'bad'), 'invalid_token');
    await refused(a.refresh(null, await token({ sub: '42' })), 'invalid_token');
  });

  test('subscribe: rules, then the subscribe proxy for token-only channels the claim does not grant', async () => {
    const backend = new FakeBackend();
    const a = new AccessControl(
      loadConfig({ flags: { tokenHmacSecret: SECRET, namespaces: JSON.stringify(NAMESPACES) } }),
      backend,
    );
    const A: Identity = { user: 'A', info: null, channels: ['room:1'], expiresAt: 0 };
    assert.equal((await a.subscribe(A, 'room:1', info()))?.name, 'room');
    assert.deepEqual(backend.calls, []);
    assert.equal(a.subscribeNow(A, 'room:2'), false);
    assert.equal((await a.subscribe(A, 'room:2', info()))?.name, 'room');
    assert.deepEqual(backend.calls, ['subscribe A room:2']);
    backend.subscribeAnswer = new HoldfastError('permission_denied');
    await refused(a.subscribe(A, 'room:3', info()), 'permission_denied');
    backend.subscribeAnswer = new HoldfastError('backend_unavailable');
    await refused(a.subscribe(A, 'room:3', info()), 'backend_unavailable');
    await refused(a.subscribe(null, 'room:3', info()), 'permission_denied');
    await refused(a.subscribe(A, 'nope:1', info()), 'unknown_namespace');
    await refused(a.subscribe(A, 'dialog:#B', info()), 'permission_denied');
  });

  test('subscribe without a proxy: the claim alone decides', async () => {
    const a = new AccessControl(
      loadConfig({ flags: { tokenHmacSecret: SECRET, namespaces: JSON.stringify(NAMESPACES) } }),
    );
    await refused(
      a.subscribe({ user: 'B', info: null, channels: [], expiresAt: 0 }, 'room:1', info()),
      'permission_denied',
    );
  });

  test('publish: clientPublish and the right to follow, then the publish proxy', async () => {
    const backend = new FakeBackend();
    const flags = { tokenHmacSecret: SECRET, namespaces: JSON.stringify(NAMESPACES) };
    const a = new AccessControl(loadConfig({ flags }), backend);
    const A: Identity = { user: 'A', info: null, channels: ['room:1'], expiresAt: 0 };
    assert.equal(await a.publish(A, 'chat:x', '{"t":1}', info()), '"replaced"');
    assert.deepEqual(backend.calls, ['publish A chat:x {"t":1}']);
    await refused(a.publish(A, 'news', '1', info()), 'permission_denied');
    await refused(a.publish(A, 'nope:x', '1', info()), 'unknown_namespace');
    await refused(a.publish(A, 'dialog:#B', '1', info()), 'permission_denied');
    backend.publishAnswer = new HoldfastError('permission_denied');
    await refused(a.publish(A, 'room:1', '1', info()), 'permission_denied');
    const plain = new AccessControl(loadConfig({ flags }));
    assert.equal(await plain.publish(A, 'room:1', '{"t":2}', info()), '{"t":2}');
    await refused(plain.publish(null, 'room:1', '1', info()), 'permission_denied');
    const v1 = new AccessControl(loadConfig({ flags: { tokenHmacSecret: SECRET } }));
    await refused(v1.publish(A, 'anything', '1', info()), 'permission_denied');
  });
});
