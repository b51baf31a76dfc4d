import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { runEngineConformance } from './conformance.js';

runEngineConformance(
  'memory',
  async (limits) => {
    const engine = new MemoryEngine(limits);
    return { engine, records: async () => engine.historyChannels, cleanup: () => engine.close() };
  },
  { peersSkipReason: 'the memory engine lives in one process: there is no backend to share' },
);
