import http from 'node:http';

/**
 * The server's own figures, read from its Prometheus text endpoint when it has one: resident
 * memory and event-loop lag. Optional and tolerant: any failure gives null and the report
 * simply has no server plots.
 */
export interface ServerSample {
  rssBytes: number | null;
  eventLoopLagMs: number | null;
  connections: number | null;
}

/** Sums of each metric name over all its series (label sets), from Prometheus text. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    const name = m[1]!;
    // Lag is a maximum over workers, not a sum.
    if (name.includes('lag')) out.set(name, Math.max(out.get(name) ?? 0, v));
    else out.set(name, (out.get(name) ?? 0) + v);
  }
  return out;
}

const LAG_NAMES = [
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'holdfast_event_loop_lag_seconds',
];
const CONNECTION_NAMES = ['holdfast_connections', 'holdfast_connections_open', 'holdfast_sessions'];

export function sampleFrom(metrics: Map<string, number>): ServerSample {
  const rss = metrics.get('process_resident_memory_bytes');
  let lag: number | undefined;
  for (const n of LAG_NAMES) {
    lag = metrics.get(n);
    if (lag !== undefined) break;
  }
  let conns: number | undefined;
  for (const n of CONNECTION_NAMES) {
    conns = metrics.get(n);
    if (conns !== undefined) break;
  }
  return {
    rssBytes: rss ?? null,
    eventLoopLagMs: lag === undefined ? null : lag * 1000,
    connections: conns ?? null,
  };
}

/** Fetches and parses the metrics; null when unreachable, not 200, or late. */
export function scrape(url: string, timeoutMs = 900): Promise<ServerSample | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: ServerSample | null): void => {
      if (!done) {
        done = true;
        resolve(v);
      }
    };
    try {
      const req = http.get(url, { headers: { accept: 'text/plain' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          finish(null);
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < 4 << 20) text += c;
        });
        res.on('end', () => finish(sampleFrom(parsePrometheus(text))));
        res.on('error', () => finish(null));
      });
      req.setTimeout(timeoutMs, () => req.destroy());
      req.on('error', () => finish(null));
    } catch {
      finish(null);
    }
  });
}
