import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * The attack: a long-poll session parked on a keep-alive connection (poll-park.ts) for user A,
 * continued by a next poll with the very same target (so the fast path recognises it without
 * parsing) but B's token in Authorization. It must not continue A's session: B is refused.
 */

const SECRET = 'poll-park-identity-secret-0123456789';
const sign = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

test("a parked long-poll of user A is not continued with user B's token, however the poll is spelled", async () => {
  const s = await startServer({
    tokenHmacSecret: SECRET,
    namespaces: { '': {}, room: { access: 'token' } },
  });
  try {
    const a = await sign({ sub: 'a', channels: ['room:a'] });
    const b = await sign({ sub: 'b' });
    // Both tokens verified once (cached), so the fast path decides each poll at once.
    for (const t of [a, b]) (await TestWs.connect(`${s.wsUrl}?token=${t}`)).close();
    const conn = await RawConn.open(s.port);
    const poll = (cursor: string | null, token: string) =>
      conn.socket.write(
        get(
          `/poll?channel=room:a${cursor === null ? '' : `&cursor=${cursor}`}`,
          `Authorization: Bearer ${token}\r\n`,
        ),
      );
    const answer = async (n: number) => {
      await until(() => conn.responses().length === n, 5000, `answer ${n}`);
      return conn.responses()[n - 1]!;
    };
    poll(null, a);
    await until(() => s.server.poll.sessions.size === 1, 5000, 'the held poll');
    await s.publish('room:a', { n: 1 });
    const first = JSON.parse((await answer(1)).body) as { cursor: string };
    poll(first.cursor, a);
    await new Promise((r) => setTimeout(r, 50));
    await s.publish('room:a', { n: 2 });
    const second = JSON.parse((await answer(2)).body) as { cursor: string; messages: unknown[] };
    assert.equal(second.messages.length, 1);
    // Parked at second.cursor; B sends the target A would send next.
    await s.publish('room:a', { n: 3 });
    poll(second.cursor, b);
    const third = await answer(3);
    assert.equal(third.status, 403);
    assert.equal((JSON.parse(third.body) as { error: { code: string } }).error.code, 'permission_denied');
    assert.ok(!third.body.includes('"n":3'));
    conn.destroy();
  } finally {
    await s.close();
  }
});
