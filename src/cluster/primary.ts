import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/config.js';
import {
  isToPrimary,
  type Port,
  PROTOCOL_VERSION,
  type ToPrimary,
  type ToWorker,
} from '../engines/cluster/protocol.js';
import { historyLimits } from '../engines/limits.js';
import { installPrimaryMetrics } from '../observe/cluster.js';
import { type SessionAnswer, SessionStore, serveSessions } from '../observe/dashboard/sessions.js';
import type { Logger } from '../observe/log.js';
import { resolveWorkers } from '../server/sizing.js';
import { ClusterHub } from './hub.js';
import { RestartIntensity } from './supervisor.js';

function workerPort(w: Worker): Port<ToPrimary, ToWorker> {
  return {
    send: (m) => {
      if (w.isConnected()) w.send(m);
    },
    onMessage: (h) =>
      w.on('message', (m: unknown) => {
        if (isToPrimary(m)) h(m);
      }),
    connected: () => w.isConnected(),
  };
}

export interface PrimaryHandle {
  /** Resolves with the process exit code once every worker has stopped. */
  done: Promise<number>;
  stop(reason: string): void;
}

/**
 * The primary process: forks the workers (node:cluster shares the port: Node 20 has no
 * reusePort), hosts the cluster engine's hub, and supervises: a crashed worker is restarted with
 * back-off; past the restart intensity the whole server stops with a clear message.
 */
export function runPrimary(config: Config, log: Logger, announce: (text: string) => void): PrimaryHandle {
  const count = resolveWorkers(config.workers, config.connections);
  // Answers workers' /metrics with the sum over all workers (prom-client's AggregatorRegistry).
  const metrics = installPrimaryMetrics();
  // Each namespace's historySize and historyTtl apply to its channels (engines/limits.ts).
  const hub = new ClusterHub(historyLimits(config));
  // Every worker's dashboard logins, here so that they outlive worker restarts and hold on all.
  const sessions = new SessionStore({ ttlMs: config.dashboardSessionTtl * 1000 });
  const intensity = new RestartIntensity({
    maxRestarts: config.maxRestarts,
    windowMs: config.restartWindow * 1000,
    baseDelayMs: 100,
    maxDelayMs: 2000,
  });
  let stopping = false;
  let exitCode = 0;
  let readyCount = 0;
  let announced = false;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  // A small young generation in every worker (see OPTIONS.workerSemiSpace); a flag given to node
  // itself (execArgv) is left alone.
  if (config.workerSemiSpace > 0 && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
    cluster.setupPrimary({
      execArgv: [...process.execArgv, `--max-semi-space-size=${config.workerSemiSpace}`],
    });
  }

  // The primary holds every channel's history: the workers' memory watermark counts it too.
  const memory =
    config.memoryWatermark > 0
      ? setInterval(() => hub.broadcastMemory(process.memoryUsage.rss()), 1000).unref()
      : null;

  const fork = (): void => {
    // Workers read the same flags and environment; the key is passed so a generated one is shared.
    const w = cluster.fork({ HOLDFAST_API_KEY: config.apiKey, HOLDFAST_WORKERS: String(count) });
    serveSessions(
      sessions,
      {
        send: (m: SessionAnswer) => {
          if (w.isConnected()) w.send(m);
        },
        onMessage: (h) => w.on('message', h),
        connected: () => w.isConnected(),
      },
      PROTOCOL_VERSION,
    );
    hub.attach(w.id, workerPort(w), (port) => {
      log.info({ worker: w.id, workerPid: w.process.pid, port }, 'worker ready');
      readyCount++;
      if (!announced && readyCount >= count) {
        announced = true;
        announce(
          `holdfast listening on http://${config.host}:${port} with ${count} workers (primary pid ${process.pid})`,
        );
      }
    });
  };

  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    if (memory !== null) clearInterval(memory);
    log.info({ reason }, 'stopping workers');
    hub.broadcastDrain();
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    const killer = setTimeout(
      () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      },
      config.drainTimeout * 1000 + 3000,
    );
    killer.unref();
    if (Object.keys(cluster.workers ?? {}).length === 0) resolveDone(exitCode);
  };

  cluster.on('exit', (w, code, signal) => {
    hub.detach(w.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        void hub.close();
        resolveDone(exitCode);
      }
      return;
    }
    const decision = intensity.onCrash(Date.now());
    if (!decision.restart) {
      exitCode = 1;
      log.fatal({ worker: w.id, code, signal }, `giving up: ${decision.reason}`);
      process.stderr.write(
        `holdfast: stopping: ${decision.reason} (last: worker ${w.id} exited with ${signal ?? code})\n`,
      );
      stop('restart intensity reached');
      return;
    }
    log.error(
      { worker: w.id, workerPid: w.process.pid, code, signal, restartInMs: decision.delayMs },
      'worker exited; restarting',
    );
    setTimeout(() => {
      if (stopping) return;
      metrics.recordWorkerRestart(signal !== null ? 'signal' : code === 0 ? 'other' : 'crash');
      fork();
    }, decision.delayMs);
  });

  for (let i = 0; i < count; i++) fork();
  return { done, stop };
}
