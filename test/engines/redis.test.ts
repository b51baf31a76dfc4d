import { after } from 'node:test';
import { RedisEngine } from '../../src/engines/redis/engine.js';
import { runPrefix, startRedis } from './brokers.js';
import { type EngineLimits, runEngineConformance } from './conformance.js';

const started = await startRedis();
const url = 'broker' in started ? started.broker.url : '';
after(async () => {
  if ('dispose' in started) await started.dispose();
});

let n = 0;
function make(prefix: string, limits: EngineLimits): RedisEngine {
  return new RedisEngine({ url, prefix, history: limits });
}

runEngineConformance(
  'redis',
  async (limits) => {
    const engine = make(runPrefix(`redis${n++}`), limits);
    return { engine, cleanup: () => engine.close() };
  },
  {
    skip: 'skip' in started ? started.skip : false,
    makePeers: async (limits) => {
      const prefix = runPrefix(`redis-peers${n++}`);
      const a = make(prefix, limits);
      const b = make(prefix, limits);
      return {
        engines: [a, b],
        cleanup: async () => {
          await a.close();
          await b.close();
        },
      };
    },
  },
);
