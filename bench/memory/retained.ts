/**
 * Which heap objects an idle connection keeps alive, by transport: runs a HoldfastServer in this
 * process, opens N idle clients from a child process (clients.ts), and diffs two heap snapshots
 * (before and after, each after a full GC), grouped by object type and constructor name.
 *
 * Usage: npm run build && node --expose-gc dist/bench/memory/retained.js [ws|sse|poll] [n=2000]
 * Loopback only; stops by itself.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../src/config/config.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import type { ClientsArgs, ClientsReport } from './clients.js';

const transport = (process.argv[2] ?? 'sse') as ClientsArgs['transport'];
const n = Number(process.argv[3] ?? 2000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

async function census(): Promise<Map<string, { count: number; bytes: number }>> {
  gc!();
  gc!();
  let text = '';
  for await (const chunk of getHeapSnapshot()) text += chunk;
  const snap = JSON.parse(text) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    let name =
      type === 'object' || type === 'closure' || type === 'native'
        ? snap.strings[snap.nodes[i + iName]!]!
        : '';
    if (name.length > 60) name = `${name.slice(0, 60)}…`;
    const key = `${type} ${name}`;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

const config = loadConfig({
  flags: {
    port: 0,
    host: '127.0.0.1',
    apiKey: 'k',
    logLevel: 'silent',
    pollTimeout: 300,
    pingInterval: 3600,
  },
});
const server = new HoldfastServer(config, createEngine(config));
const port = await server.listen(0, '127.0.0.1');
const before = await census();
const args: ClientsArgs = {
  transport,
  port,
  localAddress: '127.0.0.2',
  count: n,
  first: 0,
  channels: 100,
  batch: 250,
  deadlineMs: 120_000,
};
const child = fork(fileURLToPath(new URL('./clients.js', import.meta.url)), [JSON.stringify(args)]);
await new Promise<void>((resolve, reject) => {
  child.on('message', (m: ClientsReport) => {
    if ('error' in m) reject(new Error(m.error));
    else if ('ready' in m && m.ready === n) resolve();
  });
});
while (server.node.channels().reduce((s, c) => s + c.subscribers, 0) < n) {
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, 1000));
const afterCensus = await census();
const rows: [string, number, number][] = [];
let total = 0;
for (const [key, a] of afterCensus) {
  const b = before.get(key) ?? { count: 0, bytes: 0 };
  const dBytes = a.bytes - b.bytes;
  total += dBytes;
  if (Math.abs(dBytes) / n >= 8) rows.push([key, (a.count - b.count) / n, dBytes / n]);
}
rows.sort((x, y) => y[2] - x[2]);
console.log(`${transport}: ${n} idle connections; heap objects kept per connection (self size, bytes)`);
for (const [key, count, bytes] of rows) {
  console.log(`${bytes.toFixed(0).padStart(6)}  ${count.toFixed(2).padStart(6)} x  ${key}`);
}
console.log(`${(total / n).toFixed(0).padStart(6)}  total`);
child.disconnect();
await server.close();
process.exit(0);
