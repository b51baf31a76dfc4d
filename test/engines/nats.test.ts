import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NatsEngine } from '../../src/engines/nats/engine.js';
import { natsStreamMessages, runPrefix, startNats } from './brokers.js';
import {
  DEFAULT_LIMITS,
  type EngineLimits,
  eventually,
  Received,
  runEngineConformance,
} from './conformance.js';

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
      const prefix = runPrefix(`nats${n++}`);
      const engine = make(prefix, limits, jetstream);
      const records = jetstream ? () => natsStreamMessages(url, prefix) : undefined;
      return { engine, ...(records === undefined ? {} : { records }), cleanup: () => engine.close() };
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

describe('nats engine against a server without JetStream', async () => {
  const plain = await startNats({ jetstream: false });
  after(async () => {
    if ('dispose' in plain) await plain.dispose();
  });
  const plainSkip = 'skip' in plain ? plain.skip : false;

  it('refuses to start with history on, saying how to fix it', { skip: plainSkip }, async () => {
    if (!('broker' in plain)) return;
    const engine = new NatsEngine({
      servers: plain.broker.url,
      prefix: runPrefix('nojs'),
      jetstream: true,
      history: DEFAULT_LIMITS,
    });
    try {
      await assert.rejects(
        engine.pubsub.start(() => undefined),
        /JetStream is not available .*-js, or set natsHistory to false/,
      );
      assert.equal(engine.ready(), false);
    } finally {
      await engine.close();
    }
  });

  it('serves pub/sub with history off and declares no history', { skip: plainSkip }, async () => {
    if (!('broker' in plain)) return;
    const engine = new NatsEngine({
      servers: plain.broker.url,
      prefix: runPrefix('nojs'),
      jetstream: false,
      history: DEFAULT_LIMITS,
    });
    const got = new Received();
    try {
      assert.equal(engine.history, null);
      await engine.pubsub.start(got.handler);
      await engine.pubsub.subscribe('c');
      await engine.pubsub.publish('c', '1');
      await eventually('the publication', () => got.pubs.length === 1);
      assert.equal(got.pubs[0]!.data, '1');
    } finally {
      await engine.close();
    }
  });
});
