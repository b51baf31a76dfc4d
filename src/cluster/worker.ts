import cluster from 'node:cluster';
import type { Config } from '../config/config.js';
import { ClusterEngine } from '../engines/cluster/engine.js';
import type { Logger } from '../observe/log.js';
import { HoldfastServer } from '../server/server.js';
import { isToWorker, type Port, type ToPrimary, type ToWorker } from './protocol.js';

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

/** A worker process: one HoldfastServer on the shared port, on the cluster engine. */
export async function runWorker(config: Config, log: Logger): Promise<void> {
  const id = cluster.worker?.id ?? 0;
  const engine = new ClusterEngine(processPort, id);
  const server = new HoldfastServer(config, engine, { workers: Number(config.workers) || 1, log });
  engine.localChannels = () => server.node.channels();
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
  engine.onDrain = () => stop('drain', 0);
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => undefined); // the primary decides; it forwards a drain
  process.on('disconnect', () => stop('primary gone', 1));
  const port = await server.listen();
  engine.announceReady(port);
}
