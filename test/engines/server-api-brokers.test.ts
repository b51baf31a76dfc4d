import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { IdentitySeam } from '../helpers/identities.js';
import { type Msg, TestWs } from '../helpers/ws-client.js';
import { runPrefix, type Started, startNats, startRedis } from './brokers.js';
import { KEY, type Server, startHoldfast } from './holdfast-servers.js';

/**
 * The server API across Holdfast servers sharing a broker: a command given to any server acts
 * on the user's connections on every server of the same prefix, and on no other. Identities
 * come through the test seam (helpers/identities.ts).
 */

function command(s: Server, path: string, body: unknown): Promise<Response> {
  return fetch(`${s.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify(body),
  });
}

function suite(name: string, started: Started, extra: Record<string, unknown>): void {
  const skip = 'skip' in started ? started.skip : false;
  const url = 'broker' in started ? started.broker.url : '';
  after(async () => {
    if ('dispose' in started) await started.dispose();
  });

  describe(`server API across servers on ${name}`, { skip }, () => {
    const servers: Server[] = [];
    const clients: TestWs[] = [];
    after(async () => {
      for (const c of clients) c.close();
      for (const s of servers) await s.close();
    });

    async function serverOn(prefix: string): Promise<{ s: Server; as: (user: string) => Promise<TestWs> }> {
      const s = await startHoldfast({ engine: url, enginePrefix: prefix, ...extra });
      servers.push(s);
      const seam = new IdentitySeam(s.server.node);
      return {
        s,
        as: async (user) => {
          seam.next(user);
          const c = await TestWs.connect(s.wsUrl);
          clients.push(c);
          return c;
        },
      };
    }

    it("subscribe, unsubscribe and disconnect given to one server act on the user's connections on all", async () => {
      const prefix = runPrefix('api');
      const a = await serverOn(prefix);
      const b = await serverOn(prefix);
      const elsewhere = await serverOn(runPrefix('api-other'));
      const onA = await a.as('alice');
      const onB = await b.as('alice');
      const bob = await b.as('bob');
      const stranger = await elsewhere.as('alice');

      assert.equal((await command(a.s, '/api/subscribe', { user: 'alice', channel: 'room' })).status, 200);
      for (const c of [onA, onB]) {
        const push = await c.next((m) => m['op'] === 'subscribe');
        assert.equal(push['channel'], 'room');
      }
      const published = (await (await b.s.publish('room', 'hello')).json()) as Msg;
      for (const c of [onA, onB]) {
        const [m] = await c.waitForMessages(1, 'room');
        assert.deepEqual([m!['offset'], m!['data']], [published['offset'], 'hello']);
      }

      assert.equal((await command(b.s, '/api/unsubscribe', { user: 'alice', channel: 'room' })).status, 200);
      for (const c of [onA, onB]) await c.next((m) => m['op'] === 'unsubscribe');

      assert.equal((await command(a.s, '/api/disconnect', { user: 'alice' })).status, 200);
      assert.equal(await onA.closed, 3507);
      assert.equal(await onB.closed, 3507);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(bob.closeCode, null, 'another user stays');
      assert.equal(stranger.closeCode, null, 'a server on another prefix is not reached');
      assert.equal(stranger.received.length, 0);
    });
  });
}

suite('Redis', await startRedis(), {});
suite('NATS', await startNats(), {});
