import { ClusterHub } from '../../src/cluster/hub.js';
import type { ToPrimary, ToWorker } from '../../src/cluster/protocol.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
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
  return { engines, cleanup };
}

runEngineConformance(
  'cluster',
  async (limits) => {
    const { engines, cleanup } = cluster(limits, 1);
    return { engine: engines[0]!, cleanup };
  },
  {
    makePeers: async (limits) => {
      const { engines, cleanup } = cluster(limits, 2);
      return { engines: [engines[0]!, engines[1]!], cleanup };
    },
  },
);
