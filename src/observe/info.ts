import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.js';
import type { Node } from '../core/node.js';
import { byLabel, parsePrometheusText, sumOf } from './promtext.js';

/** What GET /api/info reads (the server gathers it). */
export interface InfoSources {
  node: Node;
  config: Config;
  /** This process's cluster worker id, 0 outside a cluster. */
  worker: number;
  /** This process's open connections by transport. */
  connections(): { ws: number; sse: number; poll: number };
  /** /metrics text: the whole server's (every worker's, summed by the primary) where it can get it. */
  metrics(): Promise<string>;
}

/** The package's version, read once. */
const VERSION = ((): string => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

interface Connections {
  ws: number;
  sse: number;
  poll: number;
  total: number;
}

const withTotal = (c: { ws: number; sse: number; poll: number }): Connections => ({
  ws: c.ws,
  sse: c.sse,
  poll: c.poll,
  total: c.ws + c.sse + c.poll,
});

/**
 * GET /api/info (docs/AUTH.md "GET /api/info"): this server's facts. `totals` and `workers`
 * come from the metrics the primary aggregates over every worker (observe/cluster.ts), so they
 * hold for the whole server whichever worker answers; `local` is the answering worker's own,
 * exact. Other servers on the same broker are not counted: each answers for itself.
 */
export async function serverInfo(src: InfoSources): Promise<unknown> {
  const f = parsePrometheusText(await src.metrics());
  const conn = byLabel(f, 'holdfast_connections', 'transport');
  const uptimes = byLabel(f, 'holdfast_worker_uptime_seconds', 'worker');
  const workers = Object.keys(uptimes)
    .sort((a, b) => Number(a) - Number(b))
    .map((w) => ({
      worker: Number(w),
      uptime: round(uptimes[w]!),
      rss: sumOf(f, 'holdfast_memory_bytes', { worker: w, kind: 'rss' }),
    }));
  const node = src.node;
  const table = src.config.namespaceTable;
  return {
    version: VERSION,
    engine: node.engine.name,
    uptime: round(process.uptime()),
    totals: {
      workers: Math.max(1, sumOf(f, 'holdfast_workers')),
      connections: withTotal({ ws: conn['ws'] ?? 0, sse: conn['sse'] ?? 0, poll: conn['poll'] ?? 0 }),
      subscriptions: sumOf(f, 'holdfast_subscriptions'),
      channels: sumOf(f, 'holdfast_channels'),
    },
    workers,
    local: {
      worker: src.worker,
      pid: process.pid,
      connections: withTotal(src.connections()),
      subscriptions: node.subscriptionCount(),
      channels: node.channelCount,
      users: node.userCount,
    },
    namespaces:
      table === null
        ? null
        : table.list().map((n) => ({
            name: n.name,
            access: n.access,
            anonymous: n.anonymous,
            presence: n.presence,
            joinLeave: n.joinLeave,
            clientPublish: n.clientPublish,
            historySize: n.historySize,
            historyTtl: n.historyTtl,
          })),
  };
}

const round = (s: number): number => Math.round(s * 1000) / 1000;
