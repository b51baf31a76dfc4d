import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { parsePrometheus, sampleFrom, scrape } from '../../src/loadgen/metrics.js';

const TEXT = `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes{worker="1"} 104857600
process_resident_memory_bytes{worker="2"} 52428800
# TYPE nodejs_eventloop_lag_p99_seconds gauge
nodejs_eventloop_lag_p99_seconds{worker="1"} 0.012
nodejs_eventloop_lag_p99_seconds{worker="2"} 0.034
nodejs_eventloop_lag_seconds 0.001 1732600000000
holdfast_connections 1500
garbage line here
weird_metric NaN
`;

describe('server metrics', () => {
  it('sums memory over workers and takes the worst lag', () => {
    const m = parsePrometheus(TEXT);
    assert.equal(m.filter((x) => x.name === 'process_resident_memory_bytes').length, 2);
    assert.deepEqual(m[0]!.labels, { worker: '1' });
    assert.equal(
      m.some((x) => x.name === 'weird_metric'),
      false,
    );
    assert.deepEqual(sampleFrom(m), { rssBytes: 157286400, eventLoopLagMs: 34, connections: 1500 });
  });

  it("reads Holdfast's own names, by label", () => {
    const text = `holdfast_memory_bytes{worker="1",kind="rss"} 1000
holdfast_memory_bytes{worker="1",kind="heap_used"} 400
holdfast_memory_bytes{worker="2",kind="rss"} 2000
holdfast_event_loop_lag_seconds{worker="1",quantile="0.5"} 0.001
holdfast_event_loop_lag_seconds{worker="1",quantile="0.99"} 0.004
holdfast_event_loop_lag_seconds{worker="1",quantile="1"} 0.5
holdfast_event_loop_lag_seconds{worker="2",quantile="0.99"} 0.006
holdfast_connections{transport="ws",worker="1"} 10
holdfast_connections{transport="sse",worker="2"} 5
`;
    assert.deepEqual(sampleFrom(parsePrometheus(text)), {
      rssBytes: 3000,
      eventLoopLagMs: 6,
      connections: 15,
    });
  });

  it("adds a Holdfast cluster primary's own memory to its workers'", () => {
    const text = `holdfast_memory_bytes{worker="1",kind="rss"} 1000
holdfast_memory_bytes{worker="2",kind="rss"} 2000
holdfast_primary_memory_bytes{kind="rss"} 500
holdfast_primary_memory_bytes{kind="heap_used"} 100
`;
    assert.equal(sampleFrom(parsePrometheus(text)).rssBytes, 3500);
  });

  it('gives nulls for what the server does not export', () => {
    assert.deepEqual(sampleFrom(parsePrometheus('up 1\n')), {
      rssBytes: null,
      eventLoopLagMs: null,
      connections: null,
    });
  });

  it('scrapes over HTTP and tolerates a missing endpoint', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/metrics') res.end(TEXT);
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const s = await scrape(`http://127.0.0.1:${port}/metrics`);
      assert.equal(s?.rssBytes, 157286400);
      assert.equal(await scrape(`http://127.0.0.1:${port}/nope`), null);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    assert.equal(await scrape(`http://127.0.0.1:${port}/metrics`), null);
  });
});
