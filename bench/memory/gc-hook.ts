/**
 * Preloaded into a measured server process only (`node --expose-gc --import gc-hook.js ...`), never
 * in production: on SIGUSR2 it runs a full garbage collection and prints one line
 * `MEMSTAT {"rss":..,"heapUsed":..,...}` on stderr, which bench/memory/idle.ts reads.
 */
const gc = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', () => {
  if (gc !== undefined) {
    gc();
    gc();
  }
  process.stderr.write(`MEMSTAT ${JSON.stringify(process.memoryUsage())}\n`);
});
