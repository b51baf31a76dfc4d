import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { SseClient } from '../../src/loadgen/clients/sse.js';
import { WsClient } from '../../src/loadgen/clients/ws.js';
import { isStalled, parseOptions } from '../../src/loadgen/options.js';
import { Pool, type WorkerPlan } from '../../src/loadgen/pool.js';
import { runBench } from '../../src/loadgen/run.js';
import { finalize } from '../../src/loadgen/worker.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';

/** `--stall-fraction`: clients that stop reading are counted apart from the readers. */
describe('bench stalled clients', () => {
  it('picks the stalled clients evenly', () => {
    const picked = Array.from({ length: 100 }, (_, i) => i).filter((i) => isStalled(i, 0.05));
    assert.equal(picked.length, 5);
    assert.deepEqual(picked, [19, 39, 59, 79, 99]);
    assert.equal(Array.from({ length: 1000 }, (_, i) => i).filter((i) => isStalled(i, 0)).length, 0);
    assert.equal(Array.from({ length: 10 }, (_, i) => i).filter((i) => isStalled(i, 1)).length, 10);
    assert.throws(() => parseOptions({ stallFraction: 2 }), /stall-fraction/);
    assert.equal(parseOptions({ stallFraction: '0.05', stallResume: '60' }).stallFraction, 0.05);
  });

  it("counts a stalled client's loss apart and still sees a reader's loss", () => {
    // Four clients on one channel (index 0) plus the broadcast channel (index 1); half stall:
    // clients 1 and 3. No sockets: the checker is fed by hand, as the clients' readers would.
    const plan: WorkerPlan = {
      firstClient: 0,
      count: 4,
      transports: ['ws', 'sse', 'ws', 'sse'],
      channels: 1,
      channelNames: ['c0', 'all'],
      protocol: 'holdfast',
      wsUrl: 'ws://127.0.0.1:1/ws',
      sseUrl: 'http://127.0.0.1:1/sse',
      pollUrl: 'http://127.0.0.1:1/poll',
      subscribeMessage: '',
      sourceAddresses: [],
      sourcePorts: [],
      ramp: 1,
      maxConnecting: 1,
      stallFraction: 0.5,
      stallResume: 0,
    };
    const pool = new Pool(plan);
    for (let i = 0; i < 4; i++) {
      pool.clients.push(i % 2 === 0 ? new WsClient(pool, i, 0, '') : new SseClient(pool, i, 0, ''));
    }
    assert.deepEqual(
      pool.clients.map((c) => c.stalls),
      [false, true, false, true],
    );
    pool.confirmedAt.fill(0);
    const ck = pool.checker;
    // Three publications on each channel. Client 0 gets everything; client 2 misses number 2
    // of its channel; the stalled clients stopped after number 1 of each.
    for (const seq of [1, 2, 3]) {
      ck.receive(0, seq);
      ck.receive(1, seq);
      ck.receive(5, seq);
      if (seq !== 2) ck.receive(4, seq);
    }
    ck.receive(2, 1);
    ck.receive(3, 1);
    ck.receive(6, 1);
    ck.receive(7, 1);
    ck.receive(7, 1);
    const f = finalize(pool, {
      sentAt: [Float64Array.of(1, 2, 3), Float64Array.of(1, 2, 3)],
      failed: [[], []],
    });
    // Readers: 2 clients × 2 channels × 3 = 12 expected, one lost, by one client.
    assert.equal(f.expected, 12);
    assert.equal(f.delivered, 11);
    assert.equal(f.lost, 1);
    assert.equal(f.clientsWithLoss, 1);
    assert.equal(f.duplicated, 0);
    // Stalled: 2 clients × 2 channels × 3 = 12 expected, 4 delivered, 8 lost, 1 duplicate.
    assert.deepEqual(f.stalled, {
      clients: 2,
      expected: 12,
      delivered: 4,
      lost: 8,
      duplicated: 1,
      outOfOrder: 0,
      clientsWithLoss: 2,
    });
  });

  describe('against Holdfast', () => {
    let server: HoldfastServer;
    let url = '';
    before(async () => {
      const config = loadConfig({ flags: { port: 0, apiKey: 'k', logLevel: 'silent' } });
      server = new HoldfastServer(config, createEngine(config));
      url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
    });
    after(() => server.close());

    it('stalled clients stop reading; the readers get everything', async () => {
      const clients = 60;
      const r = await runBench(
        parseOptions({
          url,
          apiKey: 'k',
          clients,
          transport: 'mix',
          channels: 1,
          rate: 40,
          broadcastRate: 10,
          duration: 30,
          maxPublications: 40,
          drain: 1,
          ramp: 2000,
          metrics: false,
          progress: false,
          stallFraction: 0.1,
          // No latency objective: the verdict must not depend on the machine's speed.
          maxP99: 3_600_000,
        }),
      );
      const st = r.messages.stalled;
      assert.equal(st.clients, 6);
      // Readers: every publication, once, in order.
      assert.equal(r.messages.expected, (clients - 6) * 40);
      assert.equal(r.messages.delivered, r.messages.expected);
      assert.equal(r.messages.lost, 0);
      assert.equal(r.messages.duplicated + r.messages.outOfOrder, 0);
      // Stalled clients stopped reading once subscribed: they miss what came after.
      assert.ok(st.expected > 0);
      assert.equal(st.delivered + st.lost, st.expected);
      assert.ok(st.lost > 0, `stalled clients lost nothing: ${JSON.stringify(st)}`);
      assert.ok(st.clientsWithLoss > 0);
      assert.equal(r.verdict.held, true, r.verdict.reasons.join('; '));
      assert.ok(r.latency.broadcastMs.count > 0);
      assert.ok(r.latency.broadcastMs.count < r.latency.ms.count);
    });
  });
});
