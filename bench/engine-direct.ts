import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config.js';
import { createEngine } from '../src/server/server.js';
import { ENGINE_OPTIONS, enginesOf, options, percentile } from './serve-proc.js';

/**
 * The engine alone, in this process: time of `engine.pubsub.publish` (assign the offset, store
 * in history, deliver to subscribed nodes), one at a time and with many in flight, on a channel
 * this process is subscribed to (so delivery back is part of the work).
 *
 *   npm run build && node dist/bench/engine-direct.js --engines memory,redis,nats --count 20000
 */
const opts = options({
  ...ENGINE_OPTIONS,
  count: '20000',
  concurrency: '64',
});
const engines = enginesOf(opts);
const count = Number(opts.count);
const concurrency = Number(opts.concurrency);
const data = JSON.stringify({ text: 'x'.repeat(48) });

console.log(`count ${count}, concurrency ${concurrency}, ${new Date().toISOString()}`);
console.log('engine  p50 us  p99 us  mean us  publications/s (concurrent)  delivered');
for (const { name, url } of engines) {
  const prefix = `benchd-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const config = loadConfig({ flags: { engine: url, enginePrefix: prefix, apiKey: 'x' } });
  const engine = createEngine(config);
  let delivered = 0;
  await engine.pubsub.start(() => {
    delivered++;
  });
  await engine.pubsub.subscribe('seq');
  await engine.pubsub.subscribe('par');
  for (let i = 0; i < 500; i++) await engine.pubsub.publish('warm', data);
  const lat: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await engine.pubsub.publish('seq', data);
    lat.push((performance.now() - t0) * 1000);
  }
  lat.sort((a, b) => a - b);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await engine.pubsub.publish(`par`, data);
      }
    }),
  );
  const perSecond = count / ((performance.now() - t0) / 1000);
  const end = Date.now() + 10_000;
  while (delivered < 2 * count && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  const mean = lat.reduce((a, b) => a + b, 0) / lat.length;
  console.log(
    `${name.padEnd(7)} ${percentile(lat, 50).toFixed(0).padStart(6)}  ${percentile(lat, 99).toFixed(0).padStart(6)}  ${mean.toFixed(0).padStart(7)}  ${perSecond.toFixed(0).padStart(27)}  ${delivered}/${2 * count}`,
  );
  await engine.close();
}
