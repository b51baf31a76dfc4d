import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHub } from '../../src/cluster/hub.js';
import type { Publication } from '../../src/contract/stream.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
import {
  type Port,
  PROTOCOL_VERSION,
  type ToPrimary,
  type ToWorker,
} from '../../src/engines/cluster/protocol.js';
import { type EngineLimits, runEngineConformance } from './conformance.js';

/**
 * The cluster engine: worker-side engines talking to one primary-side hub over a pipe that
 * serializes every message as node:cluster IPC does (test/cluster/processes.test.ts covers the
 * real processes).
 */
function cluster(limits: EngineLimits, workers: number) {
  const hub = new ClusterHub(limits);
  const engines: ClusterEngine[] = [];
  for (let i = 1; i <= workers; i++) {
    const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
    hub.attach(i, toWorker);
    engines.push(new ClusterEngine(toPrimary, i));
  }
  const cleanup = async (): Promise<void> => {
    for (const e of engines) await e.close();
    await hub.close();
  };
  return { hub, engines, cleanup };
}

runEngineConformance(
  'cluster',
  async (limits) => {
    const { hub, engines, cleanup } = cluster(limits, 1);
    return { engine: engines[0]!, records: async () => hub.history.channels, cleanup };
  },
  {
    makePeers: async (limits) => {
      const { engines, cleanup } = cluster(limits, 2);
      return { engines: [engines[0]!, engines[1]!], cleanup };
    },
  },
);

test('a publish answered in the same IPC read as its fan-out completes before the fan-out runs', async () => {
  // The primary answers a publish and then routes the publication back to the same worker; both
  // can arrive in one read of the IPC pipe. The answer must not wait behind the fan-out.
  let deliver: ((msg: ToWorker) => void) | null = null;
  const sent: ToPrimary[] = [];
  const port: Port<ToWorker, ToPrimary> = {
    send: (m) => sent.push(m),
    onMessage: (h) => {
      deliver = h;
    },
    connected: () => true,
  };
  const engine = new ClusterEngine(port, 1);
  const order: string[] = [];
  await engine.start(() => order.push('fan-out'));
  const pub = { channel: 'c', epoch: 'e', offset: 1, data: '"x"', time: 0 } as unknown as Publication;
  const answered = engine.publish('c', '"x"').then(() => order.push('answer'));
  const req = sent[0] as { id: number };
  deliver!({ v: PROTOCOL_VERSION, t: 'res', id: req.id, result: pub });
  deliver!({ v: PROTOCOL_VERSION, t: 'msgs', pubs: [pub] });
  await answered;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['answer', 'fan-out']);
  await engine.close();
});
