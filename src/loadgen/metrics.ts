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

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of Prometheus text format (comments and malformed lines skipped). */
export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) {
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    }
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

type Pick = { name: string; where?: Record<string, string> };

function select(samples: PromSample[], pick: Pick): number[] {
  return samples
    .filter(
      (s) => s.name === pick.name && Object.entries(pick.where ?? {}).every(([k, v]) => s.labels[k] === v),
    )
    .map((s) => s.value);
}

/** The first candidate present, combined over its series (workers) with `combine`. */
function first(samples: PromSample[], picks: Pick[], combine: (xs: number[]) => number): number | null {
  for (const p of picks) {
    const xs = select(samples, p);
    if (xs.length > 0) return combine(xs);
  }
  return null;
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const max = (xs: number[]): number => Math.max(...xs);

/**
 * Resident memory summed over workers (and a Holdfast cluster's primary), event-loop lag (p99
 * where there is one) of the worst worker, connections summed; from prom-client's default names
 * or Holdfast's own.
 */
export function sampleFrom(samples: PromSample[]): ServerSample {
  const workersRss = first(
    samples,
    [{ name: 'process_resident_memory_bytes' }, { name: 'holdfast_memory_bytes', where: { kind: 'rss' } }],
    sum,
  );
  const primaryRss = first(samples, [{ name: 'holdfast_primary_memory_bytes', where: { kind: 'rss' } }], sum);
  const rss = workersRss === null ? null : workersRss + (primaryRss ?? 0);
  const lag = first(
    samples,
    [
      { name: 'nodejs_eventloop_lag_p99_seconds' },
      { name: 'holdfast_event_loop_lag_seconds', where: { quantile: '0.99' } },
      { name: 'nodejs_eventloop_lag_seconds' },
      { name: 'holdfast_event_loop_lag_seconds' },
    ],
    max,
  );
  const connections = first(samples, [{ name: 'holdfast_connections' }], sum);
  return { rssBytes: rss, eventLoopLagMs: lag === null ? null : lag * 1000, connections };
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
