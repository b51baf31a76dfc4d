import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';

/**
 * Metrics across a node:cluster (DESIGN.md: the primary aggregates metrics).
 *
 * Workers serve /metrics and /dashboard, but a scraper reaching the shared port lands on any
 * one worker, so a worker asks the primary, which asks every worker through prom-client's
 * AggregatorRegistry (its own IPC messages) and sums the series. The primary adds its own
 * series (worker restarts) to the text.
 *
 * Our IPC messages: {type: 'holdfast:metrics:req', v: 1, id} from a worker and
 * {type: 'holdfast:metrics:res', v: 1, id, text} or {..., error} back.
 */
const REQ = 'holdfast:metrics:req';
const RES = 'holdfast:metrics:res';
const PRIMARY_TIMEOUT_MS = 3000;

interface MetricsReq {
  type: typeof REQ;
  v: 1;
  id: number;
}

interface MetricsRes {
  type: typeof RES;
  v: 1;
  id: number;
  text?: string;
  error?: string;
}

export interface PrimaryMetrics {
  /** Every worker's metrics summed, plus the primary's own, in Prometheus text format. */
  clusterMetricsText(): Promise<string>;
  /** The supervisor calls this each time it forks a worker to replace one that exited. */
  recordWorkerRestart(reason?: 'crash' | 'signal' | 'other'): void;
  readonly contentType: string;
  /** Stops answering workers. */
  close(): void;
}

let primary: PrimaryMetrics | null = null;

/**
 * Call once in the primary process, before forking workers. Idempotent. Workers' /metrics
 * and /dashboard then show the whole cluster.
 */
export function installPrimaryMetrics(): PrimaryMetrics {
  if (primary !== null) return primary;
  if (!cluster.isPrimary) throw new Error('installPrimaryMetrics() runs in the cluster primary only');
  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  const restarts = new Counter({
    name: 'holdfast_worker_restarts_total',
    help: 'Workers forked by the primary to replace one that exited, by cause.',
    labelNames: ['reason'],
    registers: [own],
  });
  restarts.inc({ reason: 'crash' }, 0);
  new Gauge({
    name: 'holdfast_primary_memory_bytes',
    help: "The primary process's own memory (it accepts connections and holds history): rss, heap_used, heap_total, external.",
    labelNames: ['kind'],
    registers: [own],
    collect() {
      const m = process.memoryUsage();
      this.reset();
      this.set({ kind: 'rss' }, m.rss);
      this.set({ kind: 'heap_used' }, m.heapUsed);
      this.set({ kind: 'heap_total' }, m.heapTotal);
      this.set({ kind: 'external' }, m.external);
    },
  });
  new Gauge({
    name: 'holdfast_workers_forked',
    help: 'Worker processes alive as seen by the primary.',
    registers: [own],
    collect() {
      this.set(Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected()).length);
    },
  });

  const clusterMetricsText = async (): Promise<string> => {
    const [workers, mine] = await Promise.all([aggregator.clusterMetrics(), own.metrics()]);
    return (workers.endsWith('\n') || workers === '' ? workers : workers + '\n') + mine;
  };
  const onMessage = (worker: Worker, msg: unknown): void => {
    if (!isReq(msg)) return;
    clusterMetricsText().then(
      (text) => send(worker, { type: RES, v: 1, id: msg.id, text }),
      (err: unknown) => send(worker, { type: RES, v: 1, id: msg.id, error: String(err) }),
    );
  };
  cluster.on('message', onMessage);
  primary = {
    clusterMetricsText,
    recordWorkerRestart: (reason = 'crash') => restarts.inc({ reason }),
    contentType: own.contentType,
    close: () => {
      cluster.off('message', onMessage);
      primary = null;
    },
  };
  return primary;
}

function send(worker: Worker, msg: MetricsRes): void {
  if (worker.isConnected()) worker.send(msg);
}

function isReq(msg: unknown): msg is MetricsReq {
  return typeof msg === 'object' && msg !== null && (msg as MetricsReq).type === REQ;
}

function isRes(msg: unknown): msg is MetricsRes {
  return typeof msg === 'object' && msg !== null && (msg as MetricsRes).type === RES;
}

let workerSetUp = false;
let primaryAnswers = true;
let nextId = 1;
const pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();

/**
 * In a cluster worker: lets the primary collect `registry` (prom-client's worker listener) and
 * routes our answers. Idempotent; a worker holds one HoldfastServer.
 */
export function setupWorkerMetrics(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  if (workerSetUp) return;
  workerSetUp = true;
  new AggregatorRegistry(); // installs prom-client's listener for the primary's requests
  process.on('message', (msg: unknown) => {
    if (!isRes(msg)) return;
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (msg.text !== undefined) p.resolve(msg.text);
    else p.reject(new Error(msg.error ?? 'no metrics'));
  });
}

/**
 * In a cluster worker: the whole cluster's metrics from the primary, or null when this is not a
 * cluster worker or the primary did not install metrics (it never answered once: then the
 * worker serves its own figures from then on).
 */
export function clusterMetricsFromPrimary(): Promise<string> | null {
  if (!cluster.isWorker || !workerSetUp || !primaryAnswers || process.send === undefined) return null;
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      if (!answeredOnce) primaryAnswers = false;
      reject(new Error('the primary did not answer for metrics'));
    }, PRIMARY_TIMEOUT_MS);
    timer.unref();
    pending.set(id, {
      resolve: (t) => {
        clearTimeout(timer);
        answeredOnce = true;
        resolve(t);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    });
    process.send!({ type: REQ, v: 1, id } satisfies MetricsReq);
  });
}

let answeredOnce = false;
