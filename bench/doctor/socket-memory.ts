/**
 * Measures what the doctor's budget constants stand for, on this machine:
 *  - the kernel memory of an idle loopback TCP socket (Slab growth in /proc/meminfo, machine-wide,
 *    so other processes add noise: run it on a quiet machine and repeat),
 *  - the tcp_mem pages one connection holds with one small unread message (/proc/net/sockstat),
 *  - the RSS of a freshly started `holdfast serve` process (the per-worker baseline).
 *
 * Usage: npm run build && node dist/bench/doctor/socket-memory.js [pairs=5000]
 * Loopback only; opens 2 × pairs sockets in this process (stay under the open-files limit); stops
 * by itself.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { listeningPort, serveArgs } from '../serve-proc.js';

const pairs = Number(process.argv[2] ?? 5000);
const MESSAGE = Buffer.alloc(64, 0x61);

function meminfo(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  return Number(m?.[1]) * 1024;
}

function tcpPages(): number {
  const m = /^TCP: .* mem (\d+)$/m.exec(readFileSync('/proc/net/sockstat', 'utf8'));
  return Number(m?.[1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function socketMemory(): Promise<void> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 4096, r));
  const { port } = server.address() as { port: number };
  await sleep(500);
  const slab0 = meminfo('Slab');
  const pages0 = tcpPages();
  const clients: Socket[] = [];
  for (let i = 0; i < pairs; i += 500) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(pairs, i + 500); j++) {
      batch.push(
        new Promise((resolve, reject) => {
          const c = createConnection({ port, host: '127.0.0.1' }, () => resolve());
          c.on('error', reject);
          c.pause();
          clients.push(c);
        }),
      );
    }
    await Promise.all(batch);
  }
  while (accepted.length < pairs) await sleep(10);
  await sleep(1000);
  const slab1 = meminfo('Slab');
  const pages1 = tcpPages();
  // One small message to each client, which does not read it: it waits in the receive queue.
  for (const s of accepted) s.write(MESSAGE);
  await sleep(1000);
  const pages2 = tcpPages();
  const page = 4096;
  console.log(`pairs ${pairs} (sockets ${2 * pairs})`);
  console.log(`kernel slab per idle socket: ${((slab1 - slab0) / (2 * pairs)).toFixed(0)} bytes`);
  console.log(`tcp_mem pages, idle: ${pages1 - pages0} for ${pairs} connections`);
  console.log(
    `tcp_mem pages per connection with one unread ${MESSAGE.length}-byte message: ${((pages2 - pages1) / pairs).toFixed(2)} (${page}-byte pages)`,
  );
  for (const c of clients) c.destroy();
  for (const s of accepted) s.destroy();
  await new Promise((r) => server.close(r));
}

async function workerBaseline(): Promise<void> {
  const child = spawn(process.execPath, serveArgs(), { stdio: ['ignore', 'pipe', 'inherit'] });
  await listeningPort(child);
  await sleep(1000);
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  console.log(`holdfast serve RSS after start: ${(Number(rss) / 1024).toFixed(1)} MiB`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

await socketMemory();
await workerBaseline();
