/**
 * Slow consumers cannot grow server memory past their caps (issue 5; docs/BENCHMARKS.md).
 *
 *   npm run build && node dist/bench/slow-consumers.js [--slow 1000] [--readers 10] [--seconds 30]
 *        [--size 65536] [--rate 20] [--cap 1048576]
 *
 * Starts `holdfast serve --workers 1` with --max-queued-bytes <cap>, connects <slow> raw
 * WebSocket clients that subscribe and then never read again, and <readers> clients that read
 * everything; publishes <rate> messages of <size> bytes a second for <seconds>. Prints the
 * server's RSS once a second (from /proc), how many slow clients were cut, and whether the
 * readers received every message.
 */
import WebSocket from 'ws';
import { RawWs } from '../test/helpers/raw-ws.js';
import { options, publish, rssBytes, serve } from './serve-proc.js';

const values = options({
  slow: '1000',
  readers: '10',
  seconds: '30',
  size: '65536',
  rate: '20',
  cap: String(1 << 20),
});
const SLOW = Number(values.slow);
const READERS = Number(values.readers);
const SECONDS = Number(values.seconds);
const SIZE = Number(values.size);
const RATE = Number(values.rate);
const CAP = Number(values.cap);

function rssMiB(pid: number): number {
  return rssBytes(pid) / 2 ** 20;
}

const srv = await serve({
  workers: '1',
  'max-queued-bytes': String(CAP),
  'max-new-connections-per-second': '0',
});
const pid = srv.child.pid!;
const port = Number(new URL(srv.base).port);
const rssStart = rssMiB(pid);

const slow: RawWs[] = [];
for (let i = 0; i < SLOW; i++) {
  const c = await RawWs.open(port);
  c.send({ id: 1, op: 'subscribe', channel: 'flood' });
  slow.push(c);
}
const counts: number[] = [];
const readers: WebSocket[] = [];
for (let i = 0; i < READERS; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  counts.push(0);
  ws.on('message', (raw) => {
    if (raw.toString().startsWith('{"op":"message"')) counts[i]!++;
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel: 'flood' }));
  readers.push(ws);
}
await new Promise((r) => setTimeout(r, 1000));
for (const c of slow) c.pause();
const rssConnected = rssMiB(pid);

const payload = 'x'.repeat(SIZE);
let published = 0;
let peak = rssConnected;
const started = Date.now();
const slowCutSoFar = async (): Promise<number> => {
  const text = await (await fetch(`${srv.base}/metrics`)).text();
  const m = /holdfast_disconnects_total\{[^}]*reason="slow"[^}]*\} (\d+)/.exec(text);
  return m === null ? 0 : Number(m[1]);
};
console.log('second  rss_MiB  slow_cut  published');
for (let s = 1; s <= SECONDS; s++) {
  const until = started + s * 1000;
  while (published < s * RATE && Date.now() < until) {
    await publish(srv.base, 'flood', payload);
    published++;
  }
  await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
  const rss = rssMiB(pid);
  peak = Math.max(peak, rss);
  const cutSoFar = await slowCutSoFar();
  console.log(
    `${String(s).padStart(6)}  ${rss.toFixed(1).padStart(7)}  ${String(cutSoFar).padStart(8)}  ${published}`,
  );
}
await new Promise((r) => setTimeout(r, 2000));
const complete = counts.filter((n) => n === published).length;
const metrics = await (await fetch(`${srv.base}/metrics`)).text();
const slowLine = /holdfast_disconnects_total\{[^}]*reason="slow"[^}]*\} (\d+)/.exec(metrics);
console.log(
  JSON.stringify(
    {
      slowClients: SLOW,
      capBytes: CAP,
      publications: published,
      payloadBytes: SIZE,
      rssStartMiB: +rssStart.toFixed(1),
      rssConnectedMiB: +rssConnected.toFixed(1),
      rssPeakMiB: +peak.toFixed(1),
      worstCaseQueuesMiB: (SLOW * CAP) / 2 ** 20,
      slowCutByServer: slowLine === null ? null : Number(slowLine[1]),
      readersWithEveryMessage: `${complete}/${READERS}`,
    },
    null,
    2,
  ),
);
for (const c of slow) c.destroy();
for (const ws of readers) ws.terminate();
await srv.stop();
