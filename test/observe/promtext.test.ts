import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byLabel, PromParseError, parsePrometheusText, sumOf } from '../../src/observe/promtext.js';
import { percentiles, SnapshotBuilder } from '../../src/observe/snapshot.js';

const TEXT = `# HELP holdfast_connections Open client connections by transport.
# TYPE holdfast_connections gauge
holdfast_connections{transport="ws"} 3
holdfast_connections{transport="sse"} 1

# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.001"} 5
lat_seconds_bucket{le="+Inf"} 7
lat_seconds_sum 0.02
lat_seconds_count 7
# a plain comment
weird{path="a \\"quoted\\" \\\\ back\\nslash",x="1"} -1.5e3 1700000000000
nan_metric NaN
`;

describe('parsePrometheusText', () => {
  it('reads families, types, labels with escapes, histograms and special values', () => {
    const f = parsePrometheusText(TEXT);
    assert.equal(f.get('holdfast_connections')?.type, 'gauge');
    assert.equal(f.get('holdfast_connections')?.help, 'Open client connections by transport.');
    assert.deepEqual(byLabel(f, 'holdfast_connections', 'transport'), { ws: 3, sse: 1 });
    assert.equal(sumOf(f, 'holdfast_connections'), 4);
    const lat = f.get('lat_seconds')!;
    assert.equal(lat.type, 'histogram');
    assert.equal(lat.samples.length, 4);
    assert.equal(sumOf(f, 'lat_seconds', { le: '+Inf' }, 'lat_seconds_bucket'), 7);
    assert.equal(sumOf(f, 'lat_seconds', {}, 'lat_seconds_count'), 7);
    const weird = f.get('weird')!.samples[0]!;
    assert.deepEqual(weird.labels, { path: 'a "quoted" \\ back\nslash', x: '1' });
    assert.equal(weird.value, -1500);
    assert.ok(Number.isNaN(f.get('nan_metric')!.samples[0]!.value));
  });

  it('rejects malformed lines', () => {
    for (const bad of [
      'foo{a="b" 1',
      'foo bar',
      'foo{a=b} 1',
      'foo{a="1",a="2"} 1',
      '9foo 1',
      'foo 1 2 3',
      'foo{a="1"}1',
      '# TYPE foo weird',
      'foo{a="unterminated} 1',
    ]) {
      assert.throws(() => parsePrometheusText(bad), PromParseError, bad);
    }
  });
});

describe('snapshots for the dashboard', () => {
  it('interpolates percentiles inside histogram buckets', () => {
    const p = percentiles(
      new Map([
        [0.001, 50],
        [0.002, 90],
        [0.005, 100],
        [Number.POSITIVE_INFINITY, 100],
      ]),
    )!;
    assert.equal(p.count, 100);
    assert.ok(Math.abs(p.p50 - 1) < 1e-9);
    assert.ok(Math.abs(p.p90 - 2) < 1e-9);
    assert.ok(Math.abs(p.p99 - 4.7) < 1e-9);
    assert.equal(percentiles(new Map([[Number.POSITIVE_INFINITY, 0]])), null);
  });

  it('turns successive scrapes into rates and interval percentiles', () => {
    const text = (pubs: number, delivered: number, fast: number, slow: number): string =>
      [
        '# TYPE holdfast_publications_in_total counter',
        `holdfast_publications_in_total ${pubs}`,
        '# TYPE holdfast_messages_delivered_total counter',
        `holdfast_messages_delivered_total ${delivered}`,
        '# TYPE holdfast_delivery_latency_seconds histogram',
        `holdfast_delivery_latency_seconds_bucket{le="0.001"} ${fast}`,
        `holdfast_delivery_latency_seconds_bucket{le="0.01"} ${fast + slow}`,
        `holdfast_delivery_latency_seconds_bucket{le="+Inf"} ${fast + slow}`,
        '# TYPE holdfast_disconnects_total counter',
        'holdfast_disconnects_total{reason="slow"} 2',
        '# TYPE holdfast_memory_bytes gauge',
        'holdfast_memory_bytes{worker="2",kind="rss"} 1000',
        'holdfast_memory_bytes{worker="1",kind="rss"} 500',
      ].join('\n');
    const b = new SnapshotBuilder();
    const first = b.build(text(10, 30, 10, 0), 1_000);
    assert.equal(first.rates, null);
    assert.equal(first.latency?.count, 10);
    const second = b.build(text(30, 90, 10, 20), 3_000);
    assert.deepEqual(second.rates, { in: 10, out: 30, bytesOut: 0, badFrames: 0 });
    // only the 20 slow publications of the interval count
    assert.equal(second.latency?.count, 20);
    assert.ok(second.latency!.p50 > 1);
    assert.deepEqual(second.disconnects, { slow: 2 });
    assert.deepEqual(
      second.perWorker.map((w) => [w.worker, w.rss]),
      [
        ['1', 500],
        ['2', 1000],
      ],
    );
  });
});
