import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { connect } from 'nats';
import { parseNamespaces } from '../../src/config/namespaces.js';
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

describe('nats engine: a JetStream stream per namespace', { skip }, () => {
  const namespaces = (big: number) =>
    parseNamespaces(
      { '': { historySize: 3 }, big: { historySize: big }, none: { historySize: 0 } },
      {
        historySize: 5,
        historyTtl: 60,
      },
    );

  it("bounds each namespace's stream by its historySize, and updates it in place when that changes", async () => {
    const prefix = runPrefix('ns-streams');
    const limits = { ...DEFAULT_LIMITS, size: 5, namespaces: namespaces(8) };
    const first = make(prefix, limits, true);
    const nc = await connect({ servers: url });
    try {
      await first.pubsub.start(() => undefined);
      const jsm = await nc.jetstreamManager();
      const perSubject = async (): Promise<Record<string, number>> => {
        const out: Record<string, number> = {};
        for await (const s of jsm.streams.list()) {
          if (s.config.name.startsWith(`${prefix}-`)) out[s.config.name] = s.config.max_msgs_per_subject;
        }
        return out;
      };
      const b64 = (s: string): string => Buffer.from(s).toString('base64url');
      assert.deepEqual(await perSubject(), {
        [`${prefix}-history`]: 5,
        [`${prefix}-history-n`]: 3,
        [`${prefix}-history-n${b64('big')}`]: 8,
        // The newest message is the channel's epoch and offset: one is kept even at historySize 0.
        [`${prefix}-history-n${b64('none')}`]: 1,
      });
      for (let i = 1; i <= 10; i++) {
        await first.pubsub.publish('big:c', String(i));
        await first.pubsub.publish('none:c', String(i));
      }
      const held = async (ns: string): Promise<number> =>
        (await jsm.streams.info(`${prefix}-history-n${b64(ns)}`)).state.messages;
      assert.equal(await held('big'), 8, 'the broker holds no more than the namespace keeps');
      assert.equal(await held('none'), 1);
      await first.close();

      const second = make(prefix, { ...limits, namespaces: namespaces(4) }, true);
      try {
        await second.pubsub.start(() => undefined);
        assert.equal((await perSubject())[`${prefix}-history-n${b64('big')}`], 4);
        const top = await second.history!.read('big:c', { limit: 0 });
        const res = await second.history!.read('big:c', {
          since: { epoch: top.epoch, offset: 0 },
          limit: 100,
        });
        assert.deepEqual(
          res.publications.map((p) => p.offset),
          [7, 8, 9, 10],
          'the history of the same epoch, trimmed to the new size',
        );
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
      await nc.close();
    }
  });
});
