import WebSocket from 'ws';
import { options, percentile, publish, serve } from './serve-proc.js';

/**
 * Two `holdfast serve` processes sharing one broker; many WebSocket clients split between them,
 * each subscribed to one of a few channels; publications alternate between the two servers.
 * Every client checks that it got every publication of its channel once, in order.
 * Bounded: the clients, the publications and a deadline; loopback only.
 *
 *   npm run build && node dist/bench/two-servers.js --engine redis://127.0.0.1:6379 \
 *     --clients 4000 --channels 4 --messages 200 --interval 5
 */
const opts = options({
  engine: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  clients: '4000',
  channels: '4',
  messages: '200',
  interval: '5',
});
const engine = opts.engine;
const clients = Number(opts.clients);
const channels = Number(opts.channels);
const messages = Number(opts.messages);
const interval = Number(opts.interval);
const prefix = `bench2-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

interface Tally {
  next: number;
  received: number;
  duplicates: number;
  outOfOrder: number;
  wrongData: number;
}

const servers = [
  await serve({ engine, 'engine-prefix': prefix }),
  await serve({ engine, 'engine-prefix': prefix }),
];
const latencies: number[] = [];
const tallies: Tally[] = [];
const sockets: WebSocket[] = [];
const started = Date.now();

function open(url: string, channel: string, tally: Tally): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel })));
    ws.on('error', reject);
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as {
        id?: number;
        ok?: boolean;
        op?: string;
        offset?: number;
        data?: { i: number; t: number };
      };
      if (m.id === 1) {
        if (m.ok === true) resolve();
        else reject(new Error(JSON.stringify(m)));
        return;
      }
      if (m.op !== 'message' || m.offset === undefined || m.data === undefined) return;
      latencies.push(Date.now() - m.data.t);
      tally.received++;
      if (m.offset < tally.next) tally.duplicates++;
      else if (m.offset > tally.next) tally.outOfOrder++;
      if (m.data.i !== m.offset) tally.wrongData++;
      tally.next = Math.max(tally.next, m.offset + 1);
    });
  });
}

for (let i = 0; i < clients; i += 200) {
  const batch: Promise<void>[] = [];
  for (let j = i; j < Math.min(clients, i + 200); j++) {
    const tally: Tally = { next: 1, received: 0, duplicates: 0, outOfOrder: 0, wrongData: 0 };
    tallies.push(tally);
    batch.push(open(`${servers[j % 2]!.base.replace('http', 'ws')}/ws`, `room-${j % channels}`, tally));
  }
  await Promise.all(batch);
}
const connectedMs = Date.now() - started;

const t0 = Date.now();
let refused = 0;
for (let i = 1; i <= messages; i++) {
  const sends: Promise<number>[] = [];
  for (let c = 0; c < channels; c++) {
    sends.push(publish(servers[(i + c) % 2]!.base, `room-${c}`, { i, t: Date.now() }));
  }
  for (const status of await Promise.all(sends)) if (status !== 200) refused++;
  if (interval > 0) await new Promise((r) => setTimeout(r, interval));
}
const expected = clients * messages;
const deadline = Date.now() + 30_000;
const total = (): number => tallies.reduce((a, t) => a + t.received, 0);
while (total() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const seconds = (Date.now() - t0) / 1000;

const sum = (k: keyof Tally): number => tallies.reduce((a, t) => a + t[k], 0);
const missing = expected - (total() - sum('duplicates'));
latencies.sort((a, b) => a - b);
console.log(`${new Date().toISOString()} engine ${engine}`);
console.log(
  `clients ${clients} (half on each server), channels ${channels}, publications ${messages * channels} (${messages} per channel, every ${interval} ms, alternating servers)`,
);
console.log(`connected and subscribed in ${connectedMs} ms`);
console.log(
  `deliveries ${total()} of ${expected} expected in ${seconds.toFixed(1)} s; refused publications ${refused}`,
);
console.log(
  `missing ${missing}, duplicates ${sum('duplicates')}, out of order ${sum('outOfOrder')}, wrong data ${sum('wrongData')}`,
);
console.log(
  `latency publish->client ms: p50 ${percentile(latencies, 50)}, p99 ${percentile(latencies, 99)}, max ${latencies[latencies.length - 1]}`,
);
for (const ws of sockets) ws.terminate();
for (const s of servers) await s.stop();
process.exit(missing === 0 && sum('duplicates') === 0 && sum('outOfOrder') === 0 && refused === 0 ? 0 : 1);
