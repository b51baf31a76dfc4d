import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseOptions } from '../../src/loadgen/options.js';
import { runBench } from '../../src/loadgen/run.js';
import { FaultyServer } from './faulty-server.js';

/**
 * The checker is tested, not trusted: against a server that drops, duplicates and reorders
 * known sequence numbers, the bench must report exactly those counts.
 */
describe('bench against a faulty server', () => {
  const server = new FaultyServer();
  let url = '';
  before(async () => {
    url = `http://127.0.0.1:${await server.listen()}`;
  });
  after(() => server.close());

  for (const transport of ['ws', 'sse', 'poll'] as const) {
    it(`reports exactly the drops, duplicates and reorderings (${transport})`, async () => {
      const clients = 60;
      const o = parseOptions({
        url,
        clients,
        transport,
        channels: 2,
        rate: 200,
        broadcastRate: 0,
        maxPublications: 40,
        duration: 10,
        drain: 1,
        ramp: 2000,
        protocol: 'generic',
        wsUrl: '{ws}/sub?ch={channel}&ch={broadcast}',
        sseUrl: '{url}/events?ch={channel}&ch={broadcast}',
        pollUrl: '{url}/poll?ch={channel}&ch={broadcast}&cursor={cursor}',
        subscribeMessage: '',
        publishUrl: '{url}/pub?ch={channel}',
        publishBody: '{text}',
        publishHeader: ['Content-Type: text/plain'],
        metrics: false,
        progress: false,
      });
      const r = await runBench(o);
      // 40 publications over 2 channels: each client's channel has sequence numbers 1..20, of
      // which 3 and 13 are dropped, 5 and 15 duplicated, 7 and 17 delivered after 8 and 18.
      assert.equal(r.messages.published, 40);
      assert.equal(r.messages.publishFailures, 0);
      assert.equal(r.clients.peak, clients);
      assert.equal(r.clients.connectErrors, 0);
      assert.equal(r.messages.expected, clients * 20);
      assert.equal(r.messages.lost, clients * 2);
      assert.equal(r.messages.delivered, clients * 18);
      assert.equal(r.messages.duplicated, clients * 2);
      assert.equal(r.messages.outOfOrder, clients * 2);
      assert.equal(r.messages.clientsWithLoss, clients);
      assert.equal(r.messages.misrouted, 0);
      assert.equal(r.latency.ms.count, clients * 20);
      assert.equal(r.verdict.held, false);
      assert.ok(r.verdict.reasons.some((x) => x.includes('lost')));
    });
  }
});
