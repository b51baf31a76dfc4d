import { byLabel, type MetricFamily, parsePrometheusText, sumOf } from './promtext.js';

/** What the dashboard shows each second, built from /metrics text (one worker's or the cluster's). */
export interface Snapshot {
  /** Milliseconds since the Unix epoch. */
  time: number;
  workers: number;
  connections: { ws: number; sse: number; poll: number; total: number };
  subscriptions: number;
  channels: number;
  totals: {
    publicationsIn: number;
    delivered: number;
    bytesOut: number;
    badFrames: number;
    restarts: number;
  };
  /** Per second since the previous snapshot; null on the first. */
  rates: { in: number; out: number; bytesOut: number; badFrames: number } | null;
  /** Delivery latency in ms over the interval since the previous snapshot (all of it on the first). */
  latency: { p50: number; p90: number; p99: number; count: number } | null;
  perWorker: {
    worker: string;
    rss: number;
    heapUsed: number;
    lagP50: number;
    lagP99: number;
    lagMax: number;
  }[];
  /** A cluster primary's own memory (holdfast_primary_memory_bytes); null without a cluster. */
  primary: { rss: number; heapUsed: number } | null;
  disconnects: Record<string, number>;
  rejected: Record<string, number>;
  /**
   * The channels with the most presence members, the most first (over every worker and server
   * the engine can see); null where no namespace keeps presence or the store did not answer.
   */
  presence: { channel: string; clients: number }[] | null;
}

const LATENCY = 'holdfast_delivery_latency_seconds';
const PRIMARY_MEMORY = 'holdfast_primary_memory_bytes';

interface Previous {
  time: number;
  totals: Snapshot['totals'];
  buckets: Map<number, number>;
}

/** Turns successive /metrics texts into snapshots with rates and interval percentiles. */
export class SnapshotBuilder {
  #prev: Previous | null = null;

  build(text: string, now = Date.now()): Snapshot {
    const f = parsePrometheusText(text);
    const conn = byLabel(f, 'holdfast_connections', 'transport');
    const connections = {
      ws: conn['ws'] ?? 0,
      sse: conn['sse'] ?? 0,
      poll: conn['poll'] ?? 0,
      total: 0,
    };
    connections.total = connections.ws + connections.sse + connections.poll;
    const totals = {
      publicationsIn: sumOf(f, 'holdfast_publications_in_total'),
      delivered: sumOf(f, 'holdfast_messages_delivered_total'),
      bytesOut: sumOf(f, 'holdfast_bytes_out_total'),
      badFrames: sumOf(f, 'holdfast_bad_frames_total'),
      restarts: sumOf(f, 'holdfast_worker_restarts_total'),
    };
    const buckets = latencyBuckets(f);
    const prev = this.#prev;
    let rates: Snapshot['rates'] = null;
    let delta = buckets;
    if (prev !== null && now > prev.time) {
      const dt = (now - prev.time) / 1000;
      const per = (k: keyof Snapshot['totals']): number => Math.max(0, totals[k] - prev.totals[k]) / dt;
      rates = {
        in: per('publicationsIn'),
        out: per('delivered'),
        bytesOut: per('bytesOut'),
        badFrames: per('badFrames'),
      };
      delta = new Map([...buckets].map(([le, n]) => [le, Math.max(0, n - (prev.buckets.get(le) ?? 0))]));
    }
    this.#prev = { time: now, totals, buckets };
    return {
      time: now,
      workers: sumOf(f, 'holdfast_workers'),
      connections,
      subscriptions: sumOf(f, 'holdfast_subscriptions'),
      channels: sumOf(f, 'holdfast_channels'),
      totals,
      rates,
      latency: percentiles(delta),
      perWorker: perWorker(f),
      primary: f.has(PRIMARY_MEMORY)
        ? {
            rss: sumOf(f, PRIMARY_MEMORY, { kind: 'rss' }),
            heapUsed: sumOf(f, PRIMARY_MEMORY, { kind: 'heap_used' }),
          }
        : null,
      disconnects: byLabel(f, 'holdfast_disconnects_total', 'reason'),
      rejected: byLabel(f, 'holdfast_rejected_connections_total', 'reason'),
      presence: null,
    };
  }
}

/** Cumulative bucket counts by upper bound (seconds; +Inf included). */
function latencyBuckets(f: Map<string, MetricFamily>): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of f.get(LATENCY)?.samples ?? []) {
    if (s.name !== LATENCY + '_bucket' || s.labels['le'] === undefined) continue;
    const le = s.labels['le'] === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels['le']);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/** Quantiles (ms) from cumulative buckets, interpolated linearly inside a bucket. */
export function percentiles(buckets: Map<number, number>): Snapshot['latency'] {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const count = sorted.length > 0 ? sorted[sorted.length - 1]![1] : 0;
  if (count <= 0) return null;
  const q = (p: number): number => {
    const rank = p * count;
    let lower = 0;
    let below = 0;
    for (const [le, cum] of sorted) {
      if (cum >= rank) {
        if (!Number.isFinite(le)) return lower * 1000;
        const inBucket = cum - below;
        const frac = inBucket > 0 ? (rank - below) / inBucket : 1;
        return (lower + (le - lower) * frac) * 1000;
      }
      lower = le;
      below = cum;
    }
    return lower * 1000;
  };
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), count };
}

function perWorker(f: Map<string, MetricFamily>): Snapshot['perWorker'] {
  const rows = new Map<string, Snapshot['perWorker'][number]>();
  const row = (worker: string): Snapshot['perWorker'][number] => {
    let r = rows.get(worker);
    if (r === undefined) {
      r = { worker, rss: 0, heapUsed: 0, lagP50: 0, lagP99: 0, lagMax: 0 };
      rows.set(worker, r);
    }
    return r;
  };
  for (const s of f.get('holdfast_memory_bytes')?.samples ?? []) {
    const w = s.labels['worker'];
    if (w === undefined) continue;
    if (s.labels['kind'] === 'rss') row(w).rss = s.value;
    if (s.labels['kind'] === 'heap_used') row(w).heapUsed = s.value;
  }
  for (const s of f.get('holdfast_event_loop_lag_seconds')?.samples ?? []) {
    const w = s.labels['worker'];
    if (w === undefined) continue;
    const ms = s.value * 1000;
    if (s.labels['quantile'] === '0.5') row(w).lagP50 = ms;
    if (s.labels['quantile'] === '0.99') row(w).lagP99 = ms;
    if (s.labels['quantile'] === '1') row(w).lagMax = ms;
  }
  return [...rows.values()].sort((a, b) => Number(a.worker) - Number(b.worker));
}
