/**
 * Event-loop lag under a flood of bad WebSocket frames (docs/BENCHMARKS.md).
 *
 *   npm run build && node dist/bench/bad-frames.js [--rate 10000] [--seconds 20] [--conns 20] [--url http://127.0.0.1:8080]
 *
 * Without --url it starts `holdfast serve` as a child process on a free loopback port (its log
 * lines are counted, to show the rate limiter at work) and stops it at the end. It sends
 * `--rate` bad frames a second (invalid JSON, unknown ops, bad channel names) spread over
 * `--conns` connections for `--seconds`, after a quiet baseline, and each second reads the
 * server's event-loop lag, memory and bad-frame counter from GET /metrics. Loopback only;
 * bounded in time; stops by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import { type MetricFamily, parsePrometheusText, sumOf } from '../src/observe/promtext.js';
import { listeningPort, options, serveArgs } from './serve-proc.js';

const values = options({ rate: '10000', seconds: '20', baseline: '3', conns: '20', url: '' });
const rate = Number(values.rate);
const seconds = Math.min(Number(values.seconds), 120);
const baseline = Number(values.baseline);
const conns = Number(values.conns);

const BAD = [
  '{"id": 1, "op": "subscribe", "channel": "bad channel with spaces"}',
  'not json at all',
  '{"id": 2, "op": "dance"}',
  '[1, 2, 3]',
  '{"op": "subscribe"}',
];

interface Second {
  phase: 'baseline' | 'flood' | 'after';
  badFramesPerSec: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  rssMb: number;
  logLines: number;
}

let logLines = 0;

async function startServer(): Promise<{ base: string; child: ChildProcess }> {
  // The per-connection frame rate limit (maxClientFramesPerSecond) is lifted: this measures the
  // cost of parsing and answering every bad frame, not of refusing them.
  const args = serveArgs({ workers: '1', 'max-client-frames-per-second': '0' });
  const child = spawn(process.execPath, args, {
    env: { ...process.env, HOLDFAST_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const b of chunk) if (b === 10) logLines++;
  });
  return { base: `http://127.0.0.1:${await listeningPort(child)}`, child };
}

async function scrape(base: string): Promise<Map<string, MetricFamily>> {
  return parsePrometheusText(await (await fetch(base + '/metrics')).text());
}

async function main(): Promise<void> {
  const started = values.url === '' ? await startServer() : null;
  const base = started?.base ?? values.url;
  const wsUrl = base.replace(/^http/, 'ws') + '/ws';
  const sockets: WebSocket[] = [];
  for (let i = 0; i < conns; i++) {
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', () => undefined);
    sockets.push(ws);
  }

  const rows: Second[] = [];
  let phase: Second['phase'] = 'baseline';
  let prevBad = sumOf(await scrape(base), 'holdfast_bad_frames_total');
  let prevTime = Date.now();
  let prevLogLines = logLines;
  const sampler = setInterval(async () => {
    const f = await scrape(base);
    const now = Date.now();
    const bad = sumOf(f, 'holdfast_bad_frames_total');
    // the worst worker's lag (a --url server may run several workers)
    const lag = (q: string): number =>
      Math.max(
        0,
        ...(f.get('holdfast_event_loop_lag_seconds')?.samples ?? [])
          .filter((x) => x.labels['quantile'] === q)
          .map((x) => x.value * 1000),
      );
    rows.push({
      phase,
      badFramesPerSec: ((bad - prevBad) * 1000) / (now - prevTime),
      lagP50Ms: lag('0.5'),
      lagP99Ms: lag('0.99'),
      lagMaxMs: lag('1'),
      rssMb: sumOf(f, 'holdfast_memory_bytes', { kind: 'rss' }) / 1048576,
      logLines: logLines - prevLogLines,
    });
    prevBad = bad;
    prevTime = now;
    prevLogLines = logLines;
  }, 1000);

  await new Promise((r) => setTimeout(r, baseline * 1000));
  phase = 'flood';
  const tickMs = 10;
  const perTick = (rate * tickMs) / 1000;
  let sent = 0;
  let written = 0;
  const start = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - start;
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      // catch up if a tick was late, so the average rate holds
      const due = Math.floor((elapsed / 1000) * rate) - sent;
      const n = Math.max(0, Math.min(due, perTick * 5));
      for (let i = 0; i < n; i++) {
        const ws = sockets[(sent + i) % sockets.length]!;
        if (ws.bufferedAmount < 1 << 20) {
          ws.send(BAD[(sent + i) % BAD.length]!);
          written++;
        }
      }
      sent += n;
    }, tickMs);
  });
  phase = 'after';
  await new Promise((r) => setTimeout(r, 2500));
  clearInterval(sampler);
  for (const ws of sockets) ws.terminate();
  started?.child.kill('SIGTERM');

  const fmt = (n: number): string => n.toFixed(n >= 100 ? 0 : 1).padStart(8);
  process.stdout.write(
    `phase      bad/s   lag p50 ms  lag p99 ms  lag max ms   rss MB  log lines\n` +
      rows
        .map(
          (r) =>
            `${r.phase.padEnd(8)} ${fmt(r.badFramesPerSec)} ${fmt(r.lagP50Ms)}    ${fmt(r.lagP99Ms)}    ${fmt(r.lagMaxMs)}  ${fmt(r.rssMb)} ${String(r.logLines).padStart(9)}`,
        )
        .join('\n') +
      '\n',
  );
  const flood = rows.filter((r) => r.phase === 'flood').slice(1); // the first second ramps up
  const avg = (k: keyof Second): number =>
    flood.reduce((a, r) => a + (r[k] as number), 0) / Math.max(1, flood.length);
  const max = (k: keyof Second): number => Math.max(...flood.map((r) => r[k] as number));
  const summary = {
    rate,
    seconds,
    conns,
    framesSent: written,
    floodSeconds: flood.length,
    badFramesPerSecAvg: Math.round(avg('badFramesPerSec')),
    lagP50MsAvg: +avg('lagP50Ms').toFixed(2),
    lagP99MsAvg: +avg('lagP99Ms').toFixed(2),
    lagP99MsWorst: +max('lagP99Ms').toFixed(2),
    lagMaxMsWorst: +max('lagMaxMs').toFixed(2),
    logLinesDuringFlood: flood.reduce((a, r) => a + r.logLines, 0),
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
