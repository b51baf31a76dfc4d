import { performance } from 'node:perf_hooks';
import { ENGINE_OPTIONS, enginesOf, options, percentile, publish, serve } from './serve-proc.js';

/**
 * What an engine adds to each publication through the HTTP API: one `holdfast serve` process
 * per engine, publications from this process over keep-alive HTTP. Sequential latency (one at a
 * time) and throughput (a fixed number in flight). Bounded in count; loopback only.
 *
 *   npm run build && node dist/bench/engine-cost.js --engines memory,redis,nats \
 *     --count 5000 --concurrency 32 --redis redis://127.0.0.1:6379 --nats nats://127.0.0.1:4222
 */
const opts = options({
  ...ENGINE_OPTIONS,
  count: '5000',
  concurrency: '32',
});
const engines = enginesOf(opts);
const count = Number(opts.count);
const concurrency = Number(opts.concurrency);
const payload = { text: 'x'.repeat(48) };

interface Row {
  engine: string;
  p50: number;
  p99: number;
  mean: number;
  perSecond: number;
  failures: number;
}

async function measure(engine: string, url: string): Promise<Row> {
  const prefix = `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const s = await serve({ engine: url, 'engine-prefix': prefix, workers: '1' });
  let failures = 0;
  try {
    for (let i = 0; i < 200; i++) await publish(s.base, `warm-${i % 10}`, payload); // warm-up
    const lat: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      if ((await publish(s.base, `seq-${i % 100}`, payload)) !== 200) failures++;
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          if ((await publish(s.base, `par-${i % 100}`, payload)) !== 200) failures++;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return {
      engine,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      mean: lat.reduce((a, b) => a + b, 0) / lat.length,
      perSecond: count / seconds,
      failures,
    };
  } finally {
    await s.stop();
  }
}

const rows: Row[] = [];
for (const e of engines) rows.push(await measure(e.name, e.url));
const base = rows.find((r) => r.engine === 'memory');
console.log(`count ${count} per phase, concurrency ${concurrency}, ${new Date().toISOString()}`);
console.log('engine  p50 ms  p99 ms  mean ms  added mean ms  publications/s (concurrent)  failures');
for (const r of rows) {
  const added = base === undefined ? Number.NaN : r.mean - base.mean;
  console.log(
    `${r.engine.padEnd(7)} ${r.p50.toFixed(3).padStart(6)}  ${r.p99.toFixed(3).padStart(6)}  ${r.mean.toFixed(3).padStart(7)}  ${added.toFixed(3).padStart(13)}  ${r.perSecond.toFixed(0).padStart(27)}  ${r.failures}`,
  );
}
