import { after } from 'node:test';
import { NatsEngine } from '../../src/engines/nats/engine.js';
import { runPrefix, startNats } from './brokers.js';
import { DEFAULT_LIMITS } from './conformance.js';
import { runPresenceConformance } from './presence-conformance.js';

const started = await startNats();
const url = 'broker' in started ? started.broker.url : '';
const skip = 'skip' in started ? started.skip : false;
after(async () => {
  if ('dispose' in started) await started.dispose();
});

/** A short presenceTimeout, so a dead node is reaped soon (the tests wait on the events). */
const TIMEOUT_MS = 900;

let n = 0;
// Presence is in a JetStream KV bucket whatever natsHistory says; pub/sub-only history here.
runPresenceConformance(
  'nats',
  async (nodes) => {
    const prefix = runPrefix(`nats-presence${n++}`);
    const engines = Array.from(
      { length: nodes },
      () =>
        new NatsEngine({
          servers: url,
          prefix,
          jetstream: false,
          history: DEFAULT_LIMITS,
          presenceTimeoutMs: TIMEOUT_MS,
        }),
    );
    const closed = new Set<number>();
    return {
      engines,
      kill: async (i) => {
        engines[i]!.presence.stopHeartbeat();
        closed.add(i);
        await engines[i]!.close();
      },
      cleanup: async () => {
        for (const [i, e] of engines.entries()) if (!closed.has(i)) await e.close();
      },
    };
  },
  { maxNodes: 2, skip },
);
