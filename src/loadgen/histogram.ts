import * as hdr from 'hdr-histogram-js';

/**
 * HDR histograms of latencies in microseconds (3 significant digits, up to 10 minutes), and
 * their transport between processes: a child encodes what it recorded since the last report
 * (compressed base64), the orchestrator decodes and adds it to its totals.
 */
export type Histogram = hdr.Histogram;

const HIGHEST_US = 600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a latency given in milliseconds (clamped to [1 µs, 10 min]). */
export function recordMs(h: Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (!(us >= 1)) us = 1;
  else if (us > HIGHEST_US) us = HIGHEST_US;
  h.recordValue(us);
}

export function encode(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Adds an encoded histogram to `into`. */
export function mergeEncoded(into: Histogram, encoded: string): void {
  if (encoded === '') return;
  const h = hdr.decodeFromCompressedBase64(encoded, 32, false);
  into.add(h);
  h.destroy();
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

const round = (us: number): number => Math.round(us) / 1000;

/** Percentiles in milliseconds (three decimals). */
export function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count,
    p50: round(h.getValueAtPercentile(50)),
    p90: round(h.getValueAtPercentile(90)),
    p99: round(h.getValueAtPercentile(99)),
    p999: round(h.getValueAtPercentile(99.9)),
    max: round(h.getValueAtPercentile(100)),
    mean: round(h.mean),
  };
}
