import { after } from 'node:test';
import { NatsEngine } from '../../src/engines/nats/engine.js';
import { runPrefix, startNats } from './brokers.js';
import { type EngineLimits, runEngineConformance } from './conformance.js';

const started = await startNats();
const url = 'broker' in started ? started.broker.url : '';
const skip = 'skip' in started ? started.skip : false;
after(async () => {
  if ('dispose' in started) await started.dispose();
});

let n = 0;
function make(prefix: string, limits: EngineLimits, jetstream: boolean): NatsEngine {
  return new NatsEngine({ servers: url, prefix, jetstream, history: limits });
}

for (const jetstream of [true, false]) {
  runEngineConformance(
    jetstream ? 'nats (JetStream history)' : 'nats (pub/sub only)',
    async (limits) => {
      const engine = make(runPrefix(`nats${n++}`), limits, jetstream);
      return { engine, cleanup: () => engine.close() };
    },
    {
      skip,
      sharedOffsetsNeedHistory: true,
      makePeers: async (limits) => {
        const prefix = runPrefix(`nats-peers${n++}`);
        const a = make(prefix, limits, jetstream);
        const b = make(prefix, limits, jetstream);
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
}
