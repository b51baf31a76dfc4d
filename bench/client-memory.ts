/**
 * Memory per idle client of the bench's own clients, in one process, against a running
 * server: RSS, V8 heap and external memory per connection after a GC, once every client is
 * connected and subscribed. `ws-lib` is the `ws` package's client, for comparison.
 *
 * Usage: node --expose-gc dist/bench/client-memory.js <url> <count> <ws|sse|poll|ws-lib>
 * (count at most ~15,000: one process may hold 20,000 open files here).
 */
import WebSocket from 'ws';
import { PollClient } from '../src/loadgen/clients/poll.js';
import { SseClient } from '../src/loadgen/clients/sse.js';
import { WsClient } from '../src/loadgen/clients/ws.js';
import { sourceAddress } from '../src/loadgen/plan.js';
import { Pool, type WorkerPlan } from '../src/loadgen/pool.js';

const [url = 'http://127.0.0.1:8080', countText = '5000', kind = 'ws'] = process.argv.slice(2);
const N = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const source = sourceAddress(Math.floor(Math.random() * 60_000));
const names = Array.from({ length: 11 }, (_, i) => `memory.${i}`);
const plan: WorkerPlan = {
  firstClient: 0,
  count: N,
  transports: [],
  channels: 10,
  channelNames: names,
  protocol: 'holdfast',
  wsUrl: url.replace(/^http/, 'ws') + '/ws',
  sseUrl: url + '/sse?channel={channel}&channel={broadcast}',
  pollUrl: url + '/poll?channel={channel}&channel={broadcast}&cursor={cursor}',
  subscribeMessage: '{"id":{id},"op":"subscribe","channel":"{channel}"}',
  sourceAddresses: [],
  sourcePorts: [],
  ramp: 1000,
  maxConnecting: 300,
  stallFraction: 0,
  stallResume: 0,
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const measure = (): Record<string, number> => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external };
};

await sleep(200);
const before = measure();
const pool = new Pool(plan);
const sockets: WebSocket[] = [];
if (kind === 'ws-lib') {
  let open = 0;
  for (let i = 0; i < N; i++) {
    while (i - open > 300) await sleep(5);
    const w = new WebSocket(plan.wsUrl, { perMessageDeflate: false, localAddress: source });
    w.on('open', () => {
      open++;
      w.send(`{"id":1,"op":"subscribe","channel":"${names[i % 10]}"}`);
      w.send(`{"id":2,"op":"subscribe","channel":"${names[10]}"}`);
    });
    w.on('error', () => {});
    sockets.push(w);
  }
  while (open < N) await sleep(50);
} else {
  const C = kind === 'ws' ? WsClient : kind === 'sse' ? SseClient : PollClient;
  for (let i = 0; i < N; i++) {
    while (pool.connecting > 300) await sleep(5);
    const c = new C(pool, i, i % 10, source);
    pool.clients.push(c);
    c.connect();
  }
  while (pool.connected < N) await sleep(50);
}
await sleep(2000);
const after = measure();
const per = (k: string): string => ((after[k]! - before[k]!) / N).toFixed(0);
console.log(
  `${kind}: ${N} idle clients: RSS ${per('rss')} B, heap ${per('heap')} B, external ${per('external')} B per client`,
);
pool.running = false;
for (const c of pool.clients) c.stop();
for (const s of sockets) s.terminate();
process.exit(0);
