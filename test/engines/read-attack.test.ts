import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHub } from '../../src/cluster/hub.js';
import { loadConfig } from '../../src/config/config.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
import type { ToPrimary, ToWorker } from '../../src/engines/cluster/protocol.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { HoldfastServer } from '../../src/server/server.js';
import { readNeverPublished } from './read-attack.js';

const KEY = 'read-attack-key';
const attack = { sse: 20, perRequest: 128, ws: 4, perClient: 64 };

function config() {
  return loadConfig({ flags: { port: 0, host: '127.0.0.1', apiKey: KEY, logLevel: 'silent' } });
}

async function publish(base: string, channel: string): Promise<void> {
  const res = await fetch(`${base}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify({ channel, data: 1 }),
  });
  assert.equal(res.status, 200);
}

test('memory engine: clients that follow never-published channels and leave leave no history behind', async () => {
  const c = config();
  const engine = new MemoryEngine({
    size: c.historySize,
    ttlMs: c.historyTtl * 1000,
    metaTtlMs: c.historyMetaTtl * 1000,
  });
  const server = new HoldfastServer(c, engine);
  const port = await server.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  try {
    await publish(base, 'published');
    const named = await readNeverPublished(server, base, attack);
    assert.equal(named, attack.sse * attack.perRequest + attack.ws * attack.perClient);
    assert.equal(engine.historyChannels, 1, 'only the published channel has history');
    assert.ok(engine.historySlots < 64, 'and its ring holds room for what was published, not historySize');
  } finally {
    await server.close();
  }
});

test('cluster engine: the primary keeps no history for never-published channels its workers followed', async () => {
  const c = config();
  const hub = new ClusterHub({
    size: c.historySize,
    ttlMs: c.historyTtl * 1000,
    metaTtlMs: c.historyMetaTtl * 1000,
  });
  const servers: HoldfastServer[] = [];
  const bases: string[] = [];
  try {
    for (let i = 1; i <= 2; i++) {
      const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
      hub.attach(i, toWorker);
      const server = new HoldfastServer(c, new ClusterEngine(toPrimary, i), { workers: 2 });
      bases.push(`http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`);
      servers.push(server);
    }
    await publish(bases[0]!, 'published');
    await Promise.all(servers.map((s, i) => readNeverPublished(s, bases[i]!, attack)));
    assert.equal(hub.history.channels, 1, 'only the published channel has history in the primary');
    assert.ok(hub.history.slots < 64);
  } finally {
    for (const s of servers) await s.close();
    await hub.close();
  }
});
