import cluster from 'node:cluster';
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Disconnects } from '../contract/codes.js';
import type { Node } from '../core/node.js';
import { clusterMetricsFromPrimary, setupWorkerMetrics } from './cluster.js';

/**
 * The worker side of GET /metrics (docs/METRICS.md lists every series). The hot path only bumps
 * plain numbers in NodeStats; prom-client reads them in `collect()` callbacks at scrape time.
 * The one exception is the delivery-latency histogram, observed once per publication (after its
 * fan-out to every local subscriber), not once per delivery.
 *
 * Every series is summable across workers (prom-client's AggregatorRegistry sums by label set):
 * per-process figures (memory, event-loop lag) carry a `worker` label so they stay apart.
 */
export interface Observed {
  readonly node: Node;
  /** Open client connections of this process by transport. */
  connectionCounts(): { ws: number; sse: number; poll: number };
}

/** Upper bounds of the delivery-latency buckets, in seconds (1 ms resolution: see below). */
export const LATENCY_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const DISCONNECT_NAMES = new Map<number, string>(
  Object.entries(Disconnects).map(([name, d]) => [d.code, name]),
);

/** This process's label: the cluster worker id, or 0 outside a cluster. */
export function workerLabel(): string {
  return String(cluster.worker?.id ?? 0);
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #observed: Observed;

  constructor(observed: Observed) {
    this.#observed = observed;
    const stats = observed.node.stats;
    const r = [this.registry];
    LoopLag.acquire();
    if (cluster.isWorker) setupWorkerMetrics(this.registry);

    const latency = new Histogram({
      name: 'holdfast_delivery_latency_seconds',
      help: 'From a publication being accepted to its bytes being handed to every local subscriber socket, observed once per publication per worker (clock resolution 1 ms).',
      buckets: LATENCY_BUCKETS,
      registers: r,
    });
    stats.onFanout = (pub) => latency.observe(Math.max(0, Date.now() - pub.time) / 1000);

    const engine = observed.node.engine;
    new Gauge({
      name: 'holdfast_engine_ready',
      help: 'Whether this worker can reach its engine (1) or not (0: e.g. Redis down; publications get 503).',
      labelNames: ['worker', 'engine'],
      registers: r,
      collect() {
        this.set({ worker: workerLabel(), engine: engine.name }, engine.ready() ? 1 : 0);
      },
    });

    new Gauge({
      name: 'holdfast_connections',
      help: 'Open client connections by transport.',
      labelNames: ['transport'],
      registers: r,
      collect() {
        const c = observed.connectionCounts();
        this.set({ transport: 'ws' }, c.ws);
        this.set({ transport: 'sse' }, c.sse);
        this.set({ transport: 'poll' }, c.poll);
      },
    });
    new Gauge({
      name: 'holdfast_subscriptions',
      help: 'Channel subscriptions of connected clients.',
      registers: r,
      collect() {
        this.set(observed.node.subscriptionCount());
      },
    });
    new Gauge({
      name: 'holdfast_channels',
      help: 'Channels with at least one local subscriber (summed over workers: a channel followed on two workers counts twice).',
      registers: r,
      collect() {
        this.set(observed.node.channelCount);
      },
    });
    counter(r, 'holdfast_publications_in_total', 'Publications accepted through this server.', () => [
      [{}, stats.publicationsIn],
    ]);
    counter(
      r,
      'holdfast_messages_delivered_total',
      'Publications handed to subscribed sessions (one per subscriber).',
      () => [[{}, stats.deliveries]],
    );
    counter(
      r,
      'holdfast_bytes_out_total',
      'Bytes written for clients: messages, replies, control events.',
      () => [[{}, stats.bytesOut]],
    );
    counter(r, 'holdfast_gaps_refilled_total', 'Live gaps refilled from history.', () => [
      [{}, stats.gapsRefilled],
    ]);
    counter(r, 'holdfast_bad_frames_total', 'Client frames that failed to parse or validate.', () => [
      [{}, stats.badFrames],
    ]);
    counter(
      r,
      'holdfast_disconnects_total',
      'Sessions ended, by reason (slow = slow consumer, normal = closed by the client or answered).',
      () =>
        [...stats.disconnects].map(([code, n]) => [
          { reason: DISCONNECT_NAMES.get(code) ?? String(code) },
          n,
        ]),
      ['reason'],
    );
    counter(
      r,
      'holdfast_rejected_connections_total',
      'Connections refused before a session existed, by reason.',
      () => [...stats.rejected].map(([reason, n]) => [{ reason }, n]),
      ['reason'],
    );
    counter(
      r,
      'holdfast_api_requests_total',
      'HTTP API requests by route and status.',
      () =>
        [...stats.apiRequests].map(([key, n]) => {
          const [route = '', status = ''] = key.split(' ');
          return [{ route, status }, n];
        }),
      ['route', 'status'],
    );

    new Gauge({
      name: 'holdfast_workers',
      help: 'Worker processes answering (1 per worker; the sum is the count).',
      registers: r,
      collect() {
        this.set(1);
      },
    });
    new Gauge({
      name: 'holdfast_event_loop_lag_seconds',
      help: 'Event-loop delay over the last second, per worker (quantile 1 = maximum).',
      labelNames: ['worker', 'quantile'],
      registers: r,
      collect() {
        const w = workerLabel();
        const lag = LoopLag.last;
        this.reset();
        this.set({ worker: w, quantile: '0.5' }, lag.p50);
        this.set({ worker: w, quantile: '0.99' }, lag.p99);
        this.set({ worker: w, quantile: '1' }, lag.max);
      },
    });
    new Gauge({
      name: 'holdfast_memory_bytes',
      help: 'Memory per worker: rss, heap_used, heap_total, external.',
      labelNames: ['worker', 'kind'],
      registers: r,
      collect() {
        const w = workerLabel();
        const m = process.memoryUsage();
        this.reset();
        this.set({ worker: w, kind: 'rss' }, m.rss);
        this.set({ worker: w, kind: 'heap_used' }, m.heapUsed);
        this.set({ worker: w, kind: 'heap_total' }, m.heapTotal);
        this.set({ worker: w, kind: 'external' }, m.external);
      },
    });
    new Gauge({
      name: 'holdfast_worker_uptime_seconds',
      help: 'Seconds since each worker process started.',
      labelNames: ['worker'],
      registers: r,
      collect() {
        this.reset();
        this.set({ worker: workerLabel() }, process.uptime());
      },
    });
  }

  /** This process's metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * What GET /metrics answers: in a cluster worker, the whole cluster's metrics through the
   * primary (observe/cluster.ts); otherwise, or if the primary cannot answer, this process's.
   */
  async scrape(): Promise<string> {
    const fromPrimary = clusterMetricsFromPrimary();
    if (fromPrimary !== null) {
      try {
        return await fromPrimary;
      } catch {
        // fall through: one worker's figures beat none
      }
    }
    return this.text();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.#observed.node.stats.onFanout = null;
    LoopLag.release();
  }
}

type Labels = Record<string, string>;

/** A counter whose values are read from plain fields at scrape time. */
function counter(
  registers: Registry[],
  name: string,
  help: string,
  read: () => [Labels, number][],
  labelNames: string[] = [],
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const [labels, n] of read()) {
        if (labelNames.length === 0) this.inc(n);
        else this.inc(labels, n);
      }
    },
  });
}

const RESOLUTION_MS = 10;

/**
 * Event-loop delay of this process, sampled by perf_hooks and summarised once a second, shared
 * by every server in the process (the loop is per process).
 */
const LoopLag = {
  last: { p50: 0, p99: 0, max: 0 },
  users: 0,
  histogram: null as IntervalHistogram | null,
  timer: null as NodeJS.Timeout | null,

  acquire(): void {
    if (this.users++ > 0) return;
    const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    h.enable();
    this.histogram = h;
    // Node 20's samples are the time between two ticks of a RESOLUTION_MS timer (an idle loop
    // reads about RESOLUTION_MS), so the lag is what exceeds it.
    const sec = (ns: number): number => Math.max(0, ns / 1e9 - RESOLUTION_MS / 1000);
    this.timer = setInterval(() => {
      this.last = {
        p50: h.count > 0 ? sec(h.percentile(50)) : 0,
        p99: h.count > 0 ? sec(h.percentile(99)) : 0,
        max: h.count > 0 ? sec(h.max) : 0,
      };
      h.reset();
    }, 1000);
    this.timer.unref();
  },

  release(): void {
    if (--this.users > 0) return;
    this.histogram?.disable();
    this.histogram = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.last = { p50: 0, p99: 0, max: 0 };
  },
};
