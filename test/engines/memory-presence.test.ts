import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { DEFAULT_LIMITS } from './conformance.js';
import { runPresenceConformance } from './presence-conformance.js';

runPresenceConformance(
  'memory',
  async () => {
    const engine = new MemoryEngine(DEFAULT_LIMITS);
    return {
      engines: [engine],
      kill: async () => undefined,
      cleanup: () => engine.close(),
    };
  },
  { maxNodes: 1 },
);
