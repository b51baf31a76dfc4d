import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { ClusterHub } from '../../src/cluster/hub.js';
import { loadConfig } from '../../src/config/config.js';
import { Disconnects } from '../../src/contract/codes.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
import type { ToPrimary, ToWorker } from '../../src/engines/cluster/protocol.js';
import { HoldfastServer } from '../../src/server/server.js';
import { API_KEY } from '../helpers/server.js';

/** Two servers sharing history through one cluster hub, as two workers of one Holdfast do. */
async function pair() {
  const config = loadConfig({
    flags: { apiKey: API_KEY, logLevel: 'silent', drainTimeout: 2, host: '127.0.0.1', port: 0 },
  });
  const hub = new ClusterHub({ size: 5000, ttlMs: 60_000, metaTtlMs: 600_000 });
  const servers: HoldfastServer[] = [];
  const ports: number[] = [];
  for (let i = 1; i <= 2; i++) {
    const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
    hub.attach(i, toWorker);
    const server = new HoldfastServer(config, new ClusterEngine(toPrimary, i));
    ports.push(await server.listen(0, '127.0.0.1'));
    servers.push(server);
  }
  return { hub, servers, ports };
}

test('a drain: ready turns false, clients are told to reconnect and resume elsewhere without loss', {
  timeout: 60_000,
}, async () => {
  const { hub, servers, ports } = await pair();
  const [a, b] = servers as [HoldfastServer, HoldfastServer];
  const offsets: number[][] = [];
  const closeCodes: number[] = [];
  let stop = false;
  // 20 clients start on A; after any close they reconnect to B and resume from their offset.
  for (let i = 0; i < 20; i++) {
    const got: number[] = [];
    offsets.push(got);
    let since: { epoch: string; offset: number } | undefined;
    const connect = (port: number): void => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('open', () => ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel: 'd', since })));
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.id === 1) {
          if (since !== undefined) assert.equal(m.recovered, true);
          since = { epoch: m.epoch, offset: since?.offset ?? m.offset };
        } else if (m.op === 'message') {
          got.push(m.offset);
          since = { epoch: since!.epoch, offset: m.offset };
        }
      });
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        closeCodes.push(code);
        if (!stop) setTimeout(() => connect(ports[1]!), 10);
      });
    };
    connect(ports[0]!);
  }
  while (a.node.channels()[0]?.subscribers !== 20) await new Promise((r) => setTimeout(r, 20));

  let top = 0;
  let publishing = true;
  const publisher = (async () => {
    for (let n = 1; publishing; n++) {
      const r = await fetch(`http://127.0.0.1:${ports[1]}/api/publish`, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'd', data: n }),
      });
      top = ((await r.json()) as { offset: number }).offset;
      await new Promise((res) => setTimeout(res, 5));
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  const drained = a.drain();
  const ready = await fetch(`http://127.0.0.1:${ports[0]}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { ready: false });
  const late = await fetch(`http://127.0.0.1:${ports[0]}/sse?channel=d`);
  assert.equal(late.status, 503, 'no new clients while draining');
  assert.equal(((await late.json()) as { error: { code: string } }).error.code, 'draining');
  await drained;
  await new Promise((r) => setTimeout(r, 200));
  publishing = false;
  await publisher;
  while (offsets.some((o) => o.length < top)) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  const expected = Array.from({ length: top }, (_, k) => k + 1);
  for (const o of offsets) assert.deepEqual(o, expected);
  assert.equal(
    closeCodes.filter((c) => c === Disconnects.shutdown.code).length,
    20,
    'each was told to reconnect',
  );
  assert.equal(b.node.channels()[0]?.subscribers, 20, 'all resumed on B');
  await b.close();
  await hub.close();
});
