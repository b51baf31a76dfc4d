import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { Disconnects } from '../../src/contract/codes.js';
import { parseOptions } from '../../src/loadgen/options.js';
import { type RunHooks, runBench } from '../../src/loadgen/run.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';

/** Short benches against a live Holdfast on loopback: every message must arrive once, in order. */
describe('bench against Holdfast', () => {
  let server: HoldfastServer;
  let url = '';
  before(async () => {
    const config = loadConfig({ flags: { port: 0, apiKey: 'k', logLevel: 'silent' } });
    server = new HoldfastServer(config, createEngine(config));
    url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(() => server.close());

  const base = (extra: Record<string, unknown>) =>
    parseOptions({
      url,
      apiKey: 'k',
      channels: 1,
      rate: 40,
      broadcastRate: 10,
      duration: 2,
      drain: 1,
      ramp: 2000,
      metrics: false,
      progress: false,
      // The verdict must not depend on how fast a shared machine is: no latency objective.
      maxP99: 3_600_000,
      ...extra,
    });

  for (const transport of ['ws', 'sse', 'poll'] as const) {
    it(`delivers everything over ${transport} (300 clients)`, async () => {
      const clients = 300;
      // A fixed number of publications, so that nothing depends on how fast the machine is.
      const r = await runBench(base({ clients, transport, maxPublications: 60, duration: 30 }));
      assert.equal(r.clients.target, clients);
      assert.equal(r.clients.peak, clients);
      assert.equal(r.clients.connectErrors, 0);
      assert.equal(r.clients.unconfirmedSubscriptions, 0);
      assert.equal(r.messages.published, 60);
      assert.ok(r.messages.publishedBroadcast > 0);
      assert.equal(r.messages.publishFailures, 0);
      // One channel plus the broadcast channel: every client follows everything published.
      assert.equal(r.messages.expected, clients * r.messages.published);
      assert.equal(r.messages.delivered, r.messages.expected);
      assert.equal(r.messages.lost, 0);
      assert.equal(r.messages.duplicated, 0);
      assert.equal(r.messages.outOfOrder, 0);
      assert.equal(r.messages.misrouted, 0);
      assert.equal(r.latency.ms.count, r.messages.delivered);
      assert.equal(r.connect.ms.count, clients);
      assert.ok(r.latency.ms.p99 >= r.latency.ms.p50);
      // The 1 s drain alone guarantees one sample a second was taken.
      assert.ok(r.series.length >= 1);
      assert.ok(r.bench.idleRssPerClientBytes !== null);
      assert.equal(r.verdict.held, true, r.verdict.reasons.join('; '));
    });
  }

  it('adds up clients, messages and histograms over several bench processes', async () => {
    const clients = 120;
    const r = await runBench(
      base({ clients, transport: 'mix', clientsPerProcess: 40, maxPublications: 40, duration: 30 }),
    );
    assert.equal(r.bench.processes, 3);
    assert.equal(r.clients.peak, clients);
    assert.equal(r.connect.ms.count, clients);
    assert.equal(r.messages.published, 40);
    assert.equal(r.messages.expected, clients * 40);
    assert.equal(r.messages.delivered, clients * 40);
    assert.equal(r.latency.ms.count, clients * 40);
    assert.equal(r.messages.lost + r.messages.duplicated + r.messages.outOfOrder, 0);
  });

  it('resumes after the server drops every connection, and says nothing was lost (mix)', async () => {
    let dropped = false;
    let publishing = 0;
    const hooks: RunHooks = {
      onSample: (s) => {
        if (s.phase !== 'publish' || dropped) return;
        if (++publishing < 2) return;
        dropped = true;
        for (const x of server.ws.sessions) x.close(Disconnects.slow);
        for (const x of server.sse.sessions) x.close(Disconnects.slow);
        for (const x of server.poll.sessions) x.close(Disconnects.slow);
      },
    };
    const clients = 150;
    // 200 publications at 50/s: about 4 s of publishing, the drop after the first second or two.
    const r = await runBench(
      base({ clients, transport: 'mix', channels: 4, maxPublications: 200, duration: 60, drain: 2 }),
      hooks,
    );
    assert.equal(dropped, true);
    assert.ok(r.clients.reconnects >= clients / 2, `reconnects ${r.clients.reconnects}`);
    assert.ok(r.clients.reconnectedClients > 0);
    assert.equal(r.messages.lost, 0);
    assert.equal(r.messages.lossAcrossReconnects, false);
    assert.equal(r.messages.duplicated, 0);
    assert.equal(r.messages.delivered, r.messages.expected);
    assert.equal(r.messages.published, 200);
    assert.ok(r.messages.expected > 0);
  });
});
