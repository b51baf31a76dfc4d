import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { WsClient } from '../../src/loadgen/clients/ws.js';
import { Pool, type WorkerPlan } from '../../src/loadgen/pool.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';

/** Bound bench clients connect from their own source port, or from an OS-chosen one when it is taken. */
describe('bench source ports', () => {
  let server: HoldfastServer;
  let port = 0;
  let squatter: Server;
  let taken = 0;
  const source = '127.0.0.77';

  before(async () => {
    const config = loadConfig({ flags: { port: 0, apiKey: 'k', logLevel: 'silent' } });
    server = new HoldfastServer(config, createEngine(config));
    port = await server.listen(0, '127.0.0.1');
    // A listener on the source address holds the port the plan gives the second client.
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, source, resolve));
    const a = squatter.address();
    taken = typeof a === 'object' && a !== null ? a.port : 0;
  });

  /** A port nothing holds on the source address right now. */
  async function freePort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, source, resolve));
    const a = s.address();
    await new Promise((resolve) => s.close(resolve));
    return typeof a === 'object' && a !== null ? a.port : 0;
  }
  after(async () => {
    squatter.close();
    await server.close();
  });

  it('uses the planned port, and falls back at once when it is taken', async () => {
    const free = await freePort();
    const plan: WorkerPlan = {
      firstClient: 0,
      count: 2,
      transports: ['ws', 'ws'],
      channels: 1,
      channelNames: ['c0', 'all'],
      protocol: 'holdfast',
      wsUrl: `ws://127.0.0.1:${port}/ws`,
      sseUrl: `http://127.0.0.1:${port}/sse`,
      pollUrl: `http://127.0.0.1:${port}/poll`,
      subscribeMessage: '',
      sourceAddresses: [source, source],
      sourcePorts: [free, taken],
      ramp: 1,
      maxConnecting: 2,
      stallFraction: 0,
      stallResume: 0,
    };
    const pool = new Pool(plan);
    const a = new WsClient(pool, 0, 0, source);
    const b = new WsClient(pool, 1, 0, source);
    pool.clients.push(a, b);
    a.connect();
    b.connect();
    const deadline = Date.now() + 10_000;
    while (pool.connected < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    try {
      assert.equal(pool.connected, 2);
      assert.equal(a.socket?.localAddress, source);
      assert.equal(a.socket?.localPort, free);
      assert.equal(b.socket?.localAddress, source);
      assert.notEqual(b.socket?.localPort, taken);
      assert.equal(pool.portFallbacks, 1);
      assert.equal(pool.connectErrors, 0);
      assert.equal(pool.reconnects, 0);
    } finally {
      pool.running = false;
      a.stop();
      b.stop();
    }
  });
});
