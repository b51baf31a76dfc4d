/**
 * How V8's young generation size changes garbage collection for a fan-out-shaped workload: each
 * "broadcast" makes one short-lived object per subscriber that lives until every write of the
 * round is queued (like per-connection queue entries), then is dropped. Counts scavenges
 * (minor GCs), promoted bytes and GC pause time.
 *
 * Usage: npm run build && node --max-semi-space-size=16 dist/bench/doctor/semi-space.js
 *        (compare 16, the default on this machine, with 32 and 64)
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const SUBSCRIBERS = 100_000;
const ROUNDS = 200;

let scavenges = 0;
let majors = 0;
let pauseMs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    else majors++;
    pauseMs += e.duration;
  }
});
obs.observe({ entryTypes: ['gc'] });

// Long-lived state: one session object per subscriber, as a server keeps.
const sessions = Array.from({ length: SUBSCRIBERS }, (_, i) => ({
  id: i,
  queued: 0,
  items: [] as unknown[],
}));
const frame = Buffer.from('{"op":"message","channel":"news","offset":1,"data":"x"}');

const oldBefore = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
const started = process.hrtime.bigint();
for (let r = 0; r < ROUNDS; r++) {
  for (const s of sessions) {
    s.items.push({ frame, round: r, at: s.queued });
    s.queued += frame.length;
  }
  // The round's writes are flushed: entries become garbage.
  for (const s of sessions) {
    s.items.length = 0;
    s.queued = 0;
  }
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
setTimeout(() => {
  const oldAfter = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
  const limit = getHeapStatistics().heap_size_limit;
  console.log(
    JSON.stringify({
      heapSizeLimitMiB: Math.round(limit / 1048576),
      subscribers: SUBSCRIBERS,
      rounds: ROUNDS,
      scavenges,
      majorGCs: majors,
      gcPauseMs: Math.round(pauseMs),
      oldSpaceGrowthMiB: Math.round((oldAfter - oldBefore) / 1048576),
      wallMs: Math.round(ms),
    }),
  );
  obs.disconnect();
}, 100);
