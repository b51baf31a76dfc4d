import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { startServer } from '../helpers/server.js';

/**
 * User channels spelled in a query (checked safe): `%23` is `#` once decoded, on node:http's
 * route and on the fast path alike, so `feed%2342` is user 42's channel and admits only user 42;
 * a raw `#` starts the fragment, which is no part of the query (as WHATWG URL reads it).
 */

const SECRET = 'stream-user-channels-secret-0123456789';
const sign = (sub: string) =>
  new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

test('%23 in an SSE or long-poll query names a user channel, refused to others on both paths', async () => {
  const s = await startServer({ tokenHmacSecret: SECRET });
  try {
    const mine = await sign('42');
    const theirs = await sign('43');
    const status = async (target: string, fresh: boolean): Promise<number> => {
      const conn = fresh ? await RawConn.open(s.port) : await RawConn.afterAnother(s.port);
      conn.socket.write(get(target));
      await until(() => conn.responses().length > 0, 5000, target);
      const r = conn.responses()[0]!.status;
      conn.destroy();
      return r;
    };
    for (const path of ['/sse', '/poll']) {
      for (const fresh of [false, true]) {
        const where = `${path} ${fresh ? 'fast path' : 'node:http'}`;
        assert.equal(await status(`${path}?channel=feed%2342`, fresh), 403, where);
        assert.equal(await status(`${path}?channel=feed%2342&token=${theirs}`, fresh), 403, where);
        assert.equal(await status(`${path}?channel=dialog%3A%2343%2C44&token=${mine}`, fresh), 403, where);
        if (path === '/sse')
          assert.equal(await status(`${path}?channel=feed%2342&token=${mine}`, fresh), 200, where);
      }
    }
  } finally {
    await s.close();
  }
});
