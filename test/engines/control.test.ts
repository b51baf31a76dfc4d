import { after } from 'node:test';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { ClusterHub } from '../../src/cluster/hub.js';
import { ClusterEngine, portPair } from '../../src/engines/cluster/engine.js';
import { PROTOCOL_VERSION, type ToPrimary, type ToWorker } from '../../src/engines/cluster/protocol.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { NatsEngine } from '../../src/engines/nats/engine.js';
import { RedisEngine } from '../../src/engines/redis/engine.js';
import type { Engine } from '../../src/engines/types.js';
import { runPrefix, startNats, startRedis } from './brokers.js';
import { DEFAULT_LIMITS } from './conformance.js';
import { runControlConformance } from './control-conformance.js';

/** The one ControlBus suite against all four engines. */

const closeAll = async (engines: Engine[]): Promise<void> => {
  for (const e of engines) await e.close();
};

runControlConformance('memory', async () => {
  const nodes = [new MemoryEngine(DEFAULT_LIMITS)];
  const stranger = new MemoryEngine(DEFAULT_LIMITS);
  return { nodes, stranger, cleanup: () => closeAll([...nodes, stranger]) };
});

function clusterOf(workers: number): {
  hub: ClusterHub;
  engines: ClusterEngine[];
  raw: (m: unknown) => void;
} {
  const hub = new ClusterHub(DEFAULT_LIMITS);
  const engines: ClusterEngine[] = [];
  let raw: (m: unknown) => void = () => undefined;
  for (let i = 1; i <= workers; i++) {
    const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
    hub.attach(i, toWorker);
    engines.push(new ClusterEngine(toPrimary, i));
    if (i === 1) raw = (m) => toPrimary.send(m as ToPrimary);
  }
  return { hub, engines, raw };
}

runControlConformance('cluster', async () => {
  const a = clusterOf(2);
  const b = clusterOf(1);
  return {
    nodes: a.engines,
    stranger: b.engines[0]!,
    // A worker writing malformed control messages to the primary: the hub drops them (and each
    // worker checks again what the primary relays).
    inject: async (raw) => a.raw({ v: PROTOCOL_VERSION, from: 1, t: 'control', m: parsed(raw) }),
    cleanup: async () => {
      await closeAll([...a.engines, ...b.engines]);
      await a.hub.close();
      await b.hub.close();
    },
  };
});

/** The frame's text as JSON when it is JSON (then never a ControlMessage itself), else the text. */
function parsed(raw: string | object): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

const redis = await startRedis();
const redisUrl = 'broker' in redis ? redis.broker.url : '';
const nats = await startNats();
const natsUrl = 'broker' in nats ? nats.broker.url : '';
after(async () => {
  if ('dispose' in redis) await redis.dispose();
  if ('dispose' in nats) await nats.dispose();
});

let n = 0;
runControlConformance(
  'redis',
  async () => {
    const prefix = runPrefix(`ctl${n++}`);
    const make = (p: string): RedisEngine =>
      new RedisEngine({ url: redisUrl, prefix: p, history: DEFAULT_LIMITS });
    const nodes = [make(prefix), make(prefix)];
    const stranger = make(`${prefix}x`);
    const admin = new Redis(redisUrl);
    return {
      nodes,
      stranger,
      inject: async (raw) => {
        await admin.publish(`${prefix}:control`, typeof raw === 'string' ? raw : JSON.stringify(raw));
      },
      cleanup: async () => {
        admin.disconnect();
        await closeAll([...nodes, stranger]);
      },
    };
  },
  { skip: 'skip' in redis ? redis.skip : false },
);

runControlConformance(
  'nats',
  async () => {
    const prefix = runPrefix(`ctl${n++}`);
    const make = (p: string): NatsEngine =>
      new NatsEngine({ servers: natsUrl, prefix: p, jetstream: false, history: DEFAULT_LIMITS });
    const nodes = [make(prefix), make(prefix)];
    const stranger = make(`${prefix}x`);
    const raw = await connect({ servers: natsUrl });
    return {
      nodes,
      stranger,
      inject: async (m) => {
        raw.publish(`${prefix}.control`, typeof m === 'string' ? m : JSON.stringify(m));
        await raw.flush();
      },
      cleanup: async () => {
        await raw.close();
        await closeAll([...nodes, stranger]);
      },
    };
  },
  { skip: 'skip' in nats ? nats.skip : false },
);
