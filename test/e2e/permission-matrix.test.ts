import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { formatCursor } from '../../src/contract/positions.js';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { type Running, startServer } from '../helpers/server.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';

/**
 * The main check: who receives what, over every transport, for every kind of
 * credentials and namespace, against a real server on loopback. A refused client must get the
 * refusal and nothing else: no data, no epoch, no offset, no history (the raw answers are read).
 */

const SECRET = 'permission-matrix-secret-0123456789';
const key = (s: string) => new TextEncoder().encode(s);
const nowS = () => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key(secret));

const NAMESPACES = {
  pub: { access: 'public', anonymous: true },
  members: { access: 'public', anonymous: false },
  tok: { access: 'token' },
  dm: { access: 'token' },
};

type TokenName = 'none' | 'expired' | 'otherKey' | 'A' | 'B';
type ChannelKind = 'public' | 'members' | 'tokenGranted' | 'tokenNotGranted' | 'userA' | 'unknown';
type Outcome = 'ok' | 'permission_denied' | 'unknown_namespace' | 'invalid_token' | 'token_expired';

/** A channel of each kind, distinct per case (`tag`) so cases do not see each other's messages. */
function channelOf(kind: ChannelKind, tag: string): string {
  switch (kind) {
    case 'public':
      return `pub:${tag}`;
    case 'members':
      return `members:${tag}`;
    case 'tokenGranted':
      return `tok:granted-${tag}`;
    case 'tokenNotGranted':
      return `tok:other-${tag}`;
    case 'userA':
      return `dm:${tag}#A`;
    case 'unknown':
      return `ghost:${tag}`;
  }
}

/** The expected outcome of each case: the rules of docs/AUTH.md, written out. */
function expected(token: TokenName, kind: ChannelKind): Outcome {
  if (token === 'expired') return 'token_expired';
  if (token === 'otherKey') return 'invalid_token';
  if (kind === 'unknown') return 'unknown_namespace';
  if (kind === 'public') return 'ok';
  if (token === 'none') return 'permission_denied';
  if (kind === 'members') return 'ok';
  if (token === 'A') return kind === 'tokenNotGranted' ? 'permission_denied' : 'ok';
  return 'permission_denied';
}

const STATUS: Record<Exclude<Outcome, 'ok'>, number> = {
  permission_denied: 403,
  unknown_namespace: 400,
  invalid_token: 401,
  token_expired: 401,
};

let s: Running;
const tokens = {} as Record<TokenName, string | undefined>;

before(async () => {
  s = await startServer({ tokenHmacSecret: SECRET, namespaces: JSON.stringify(NAMESPACES) });
  tokens.none = undefined;
  tokens.expired = await sign({ sub: 'A', exp: nowS() - 10, channels: ['tok:granted-*'] });
  tokens.otherKey = await sign({ sub: 'A', channels: ['tok:granted-*'] }, 'not-the-server-secret-000000');
  tokens.A = await sign({ sub: 'A', exp: nowS() + 3600, channels: ['tok:granted-*'] });
  tokens.B = await sign({ sub: 'B', exp: nowS() + 3600 });
});
after(() => s.close());

let seq = 0;

/** Publishes `before` to the channel (history), or null where the API takes none (unknown namespace). */
async function publishBefore(channel: string, tag: string): Promise<{ epoch: string } | null> {
  try {
    return await s.publish(channel, { n: 'before', tag });
  } catch {
    return null;
  }
}

const fromStart = (epoch: string | undefined) => formatCursor([{ epoch: epoch ?? '0', offset: 0 }]);

/** Nothing of a channel in a refusal's bytes. */
function assertBare(text: string, why: string): void {
  assert.doesNotMatch(
    text,
    /epoch|offset|cursor|before|after|"data"/,
    `${why}: the refusal carries nothing of the channel`,
  );
}

async function wsCase(token: TokenName, kind: ChannelKind): Promise<void> {
  const tag = `w${++seq}`;
  const channel = channelOf(kind, tag);
  const why = `ws ${token} ${kind}`;
  const want = expected(token, kind);
  const pub = await publishBefore(channel, tag);
  const t = tokens[token];
  const client = await TestWs.connect(t === undefined ? s.wsUrl : `${s.wsUrl}?token=${t}`);
  try {
    if (want === 'invalid_token' || want === 'token_expired') {
      const code = await client.closed;
      assert.equal(code, want === 'invalid_token' ? 3506 : 3005, why);
      assert.deepEqual(client.received, [], `${why}: nothing before the close`);
      return;
    }
    const since = pub === null ? undefined : { epoch: pub.epoch, offset: 0 };
    const reply = await client.request({ id: 1, op: 'subscribe', channel, ...(since ? { since } : {}) });
    if (want === 'ok') {
      assert.equal(reply['ok'], true, why);
      await s.publish(channel, { n: 'after', tag });
      const got = await client.waitForMessages(2, channel);
      assert.deepEqual(
        got.map((m) => (m['data'] as Msg)['n']),
        ['before', 'after'],
        `${why}: history and live`,
      );
      return;
    }
    assert.deepEqual(Object.keys(reply).sort(), ['error', 'id'], why);
    assert.equal((reply['error'] as Msg)['code'], want, why);
    assertBare(JSON.stringify(reply), why);
    await publishBefore(channel, tag);
    // A ping's answer comes after anything the publication would have pushed.
    await client.request({ id: 2, op: 'ping' });
    assert.deepEqual(client.messages(), [], `${why}: no publication`);
    assert.equal(client.received.length, 2, `${why}: the refusal and the pong only`);
  } finally {
    client.close();
  }
}

/** Headers of a request with `token`: SSE in the query, long-poll as a Bearer header (both are taken). */
function authOf(transport: 'sse' | 'poll', token: string | undefined): { query: string; headers: string } {
  if (token === undefined) return { query: '', headers: '' };
  return transport === 'sse'
    ? { query: `&token=${token}`, headers: '' }
    : { query: '', headers: `Authorization: Bearer ${token}\r\n` };
}

async function sseCase(token: TokenName, kind: ChannelKind): Promise<void> {
  const tag = `s${++seq}`;
  const channel = channelOf(kind, tag);
  const why = `sse ${token} ${kind}`;
  const want = expected(token, kind);
  const pub = await publishBefore(channel, tag);
  const auth = authOf('sse', tokens[token]);
  const conn = await RawConn.open(s.port);
  try {
    const target = `/sse?channel=${encodeURIComponent(channel)}&lastEventId=${fromStart(pub?.epoch)}${auth.query}`;
    conn.socket.write(get(target, auth.headers));
    await until(() => conn.responses().length > 0, 5000, `${why}: an answer`);
    if (want === 'ok') {
      assert.equal(conn.responses()[0]!.status, 200, why);
      await until(() => conn.text.includes('"before"'), 5000, `${why}: history`);
      await s.publish(channel, { n: 'after', tag });
      await until(() => conn.text.includes('"after"'), 5000, `${why}: live`);
      return;
    }
    const answer = conn.responses()[0]!;
    assert.equal(answer.status, STATUS[want], why);
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, want, why);
    assertBare(conn.text, why);
  } finally {
    conn.destroy();
  }
}

async function pollCase(token: TokenName, kind: ChannelKind): Promise<void> {
  const tag = `p${++seq}`;
  const channel = channelOf(kind, tag);
  const why = `poll ${token} ${kind}`;
  const want = expected(token, kind);
  const pub = await publishBefore(channel, tag);
  const auth = authOf('poll', tokens[token]);
  const conn = await RawConn.open(s.port);
  try {
    const target = (cursor: string) =>
      `/poll?channel=${encodeURIComponent(channel)}&cursor=${cursor}${auth.query}`;
    conn.socket.write(get(target(fromStart(pub?.epoch)), auth.headers));
    await until(() => conn.responses().length > 0, 5000, `${why}: an answer`);
    const first = conn.responses()[0]!;
    if (want === 'ok') {
      assert.equal(first.status, 200, why);
      const body = JSON.parse(first.body) as { cursor: string; messages: { data: Msg }[] };
      assert.deepEqual(
        body.messages.map((m) => m.data['n']),
        ['before'],
        `${why}: history`,
      );
      conn.socket.write(get(target(body.cursor), auth.headers));
      // The second poll is held (nothing new) or about to be: either way it answers with this.
      await s.publish(channel, { n: 'after', tag });
      await until(() => conn.responses().length > 1, 5000, `${why}: live`);
      const live = JSON.parse(conn.responses()[1]!.body) as { messages: { data: Msg }[] };
      assert.deepEqual(
        live.messages.map((m) => m.data['n']),
        ['after'],
        `${why}: live`,
      );
      return;
    }
    assert.equal(first.status, STATUS[want], why);
    assert.equal((JSON.parse(first.body) as { error: { code: string } }).error.code, want, why);
    assertBare(conn.text, why);
  } finally {
    conn.destroy();
  }
}

const TOKENS: TokenName[] = ['none', 'expired', 'otherKey', 'A', 'B'];
const KINDS: ChannelKind[] = ['public', 'members', 'tokenGranted', 'tokenNotGranted', 'userA', 'unknown'];

describe('permission matrix: credentials x namespaces x transports', () => {
  for (const token of TOKENS) {
    test(`token ${token}`, async () => {
      for (const kind of KINDS) {
        await wsCase(token, kind);
        // Twice for SSE and long-poll: a first request goes through node:http (the token is
        // verified there), the same again may be served by the fast path (the token cached).
        await sseCase(token, kind);
        await sseCase(token, kind);
        await pollCase(token, kind);
        await pollCase(token, kind);
      }
    });
  }

  test('one refused channel among allowed ones refuses the whole request', async () => {
    const auth = `&token=${tokens.B}`;
    const ok = `pub:mix${++seq}`;
    const no = `tok:granted-mix${seq}`;
    await s.publish(ok, { n: 'before' });
    for (const path of ['/sse', '/poll']) {
      const conn = await RawConn.open(s.port);
      conn.socket.write(get(`${path}?channel=${ok}&channel=${no}${auth}`));
      await until(() => conn.responses().length > 0 && conn.responses()[0]!.body.length > 0);
      assert.equal(conn.responses()[0]!.status, 403, path);
      assertBare(conn.text, path);
      conn.destroy();
    }
  });
});
