import { ClusterHub } from '../../src/cluster/hub.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
import type { ToPrimary, ToWorker } from '../../src/engines/cluster/protocol.js';
import { DEFAULT_LIMITS } from './conformance.js';
import { runPresenceConformance } from './presence-conformance.js';

/**
 * The cluster engine's presence: worker-side engines and one primary-side hub over in-process
 * ports that serialize as IPC does. A killed worker is one the hub detaches (node:cluster's
 * 'exit', which comes for SIGKILL too: test/e2e/presence-cluster.test.ts kills a real one).
 */
runPresenceConformance(
  'cluster',
  async (workers) => {
    const hub = new ClusterHub(DEFAULT_LIMITS);
    const engines: ClusterEngine[] = [];
    for (let i = 1; i <= workers; i++) {
      const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
      hub.attach(i, toWorker);
      engines.push(new ClusterEngine(toPrimary, i));
    }
    return {
      engines,
      kill: async (i) => hub.detach(i + 1),
      cleanup: async () => {
        for (const e of engines) await e.close();
        await hub.close();
      },
    };
  },
  { maxNodes: 2 },
);
