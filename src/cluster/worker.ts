import cluster from 'node:cluster';
import { type Config, engineKind } from '../config/config.js';
import { ClusterEngine } from '../engines/cluster/engine.js';
import {
  isToWorker,
  type Port,
  PROTOCOL_VERSION,
  type ToPrimary,
  type ToWorker,
} from '../engines/cluster/protocol.js';
import type { Engine } from '../engines/types.js';
import { RemoteSessions, type SessionPort, type SessionRequest } from '../observe/dashboard/sessions.js';
import type { Logger } from '../observe/log.js';
import { createEngine, HoldfastServer } from '../server/server.js';

const processPort: Port<ToWorker, ToPrimary> = {
  send: (m) => {
    if (process.connected) process.send?.(m);
  },
  onMessage: (h) =>
    process.on('message', (m: unknown) => {
      if (isToWorker(m)) h(m);
    }),
  connected: () => process.connected,
};

/**
 * A worker process: one HoldfastServer on the shared port. With the memory engine its engine is
 * the cluster engine (the primary holds history); with a broker (redis://, nats://) every worker
 * talks to the broker itself and the primary only supervises.
 */
export async function runWorker(config: Config, log: Logger): Promise<void> {
  const id = cluster.worker?.id ?? 0;
  let engine: Engine;
  let cluster_: ClusterEngine | null = null;
  if (engineKind(config.engine) === 'memory') {
    cluster_ = new ClusterEngine(processPort, id);
    engine = cluster_;
  } else {
    engine = createEngine(config);
  }
  // Dashboard logins are kept by the primary, so they hold on every worker (sessions.ts).
  const sessionPort: SessionPort<unknown, SessionRequest> = {
    send: (m) => {
      if (process.connected) process.send?.(m);
    },
    onMessage: (h) => process.on('message', h),
    connected: () => process.connected,
  };
  const sessions = new RemoteSessions(sessionPort, id, PROTOCOL_VERSION);
  const server = new HoldfastServer(config, engine, { workers: Number(config.workers) || 1, log, sessions });
  if (cluster_ !== null) cluster_.localChannels = () => server.node.channels();
  let stopping = false;
  const stop = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'worker draining');
    // The drain ends within drainTimeout; this is the backstop if something hangs.
    setTimeout(() => process.exit(code), config.drainTimeout * 1000 + 2000).unref();
    server.drain().then(
      () => process.exit(code),
      () => process.exit(1),
    );
  };
  let primaryRss = 0;
  server.admission.countAlso(() => primaryRss);
  processPort.onMessage((m) => {
    if (m.t === 'drain') stop('drain', 0);
    else if (m.t === 'primary-memory') primaryRss = m.rss;
  });
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => undefined); // the primary decides; it forwards a drain
  process.on('disconnect', () => stop('primary gone', 1));
  let port: number;
  try {
    port = await server.listen();
  } catch (err) {
    console.error(`holdfast: cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  processPort.send({ v: PROTOCOL_VERSION, from: id, t: 'ready', port });
}
