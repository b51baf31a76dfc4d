/**
 * Server memory per idle connection past one process: N clients (100,000 in docs/BENCHMARKS.md)
 * of one transport held by a multi-worker server, RSS summed over the workers.
 *
 * Starts the server (Holdfast `serve --workers W`, memory engine, default settings; or the stock
 * `ws` cluster of bench/ws-cluster-reference.ts), sums VmRSS of all its processes (primary
 * and workers; the workers alone are reported too), then runs `holdfast bench` with N idle clients (no publications;
 * the bench's raw-socket clients, source addresses and ports from 127.0.0.2 up). Once every
 * client is connected (the bench enters its publish phase, which publishes nothing) it waits
 * `--settle` seconds and reads the VmRSS again:
 *
 *   per connection = (server's RSS after - server's RSS before) / N   (primary + workers)
 *
 * No forced GC: what an operator would read from `ps`. The bench ends by itself, then the server
 * is ended by PID (SIGTERM).
 *
 * Usage: npm run build && node dist/bench/memory/cluster-idle.js [--server holdfast|ws-ref]
 *          [--transport ws|sse|poll] [--connections 100000] [--workers 7] [--settle 20]
 *          [--node-options=...]   (NODE_OPTIONS for the server's processes)
 *          [--serve-flags='--poll-timeout 300']   (more flags for `holdfast serve`)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchArgs, listeningPort, options, rssBytes, serveArgs } from '../serve-proc.js';

const opts = options({
  server: 'holdfast',
  transport: 'ws',
  connections: '100000',
  workers: '7',
  settle: '20',
  ramp: '1500',
  'node-options': '',
  'serve-flags': '',
});

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const n = Number(opts.connections);
const settleS = Number(opts.settle);

/** RSS in bytes, 0 for a process that has gone. */
function rssOf(pid: number): number {
  try {
    return rssBytes(pid) || 0;
  } catch {
    return 0;
  }
}

/** PIDs of a process's children (its worker processes). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (list !== '') out.push(...list.split(/\s+/).map(Number));
  }
  return out;
}

function workersRss(primary: number): { sum: number; each: number[] } {
  const each = childrenOf(primary).map(rssOf);
  return { sum: each.reduce((a, b) => a + b, 0), each };
}

function startServer(): { child: ChildProcess; port: Promise<number> } {
  const args =
    opts.server === 'ws-ref'
      ? [here('../ws-cluster-reference.js'), '--port', '0', '--workers', opts.workers]
      : [
          ...serveArgs({ workers: opts.workers, connections: String(n), 'log-level': 'warn' }),
          ...opts['serve-flags'].split(' ').filter((f) => f !== ''),
        ];
  const env = { ...process.env };
  if (opts['node-options'] !== '') env['NODE_OPTIONS'] = opts['node-options'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const port = listeningPort(child);
  return { child, port };
}

async function main(): Promise<void> {
  const srv = startServer();
  const deadline = setTimeout(() => {
    console.error('cluster-idle: 20-minute deadline passed');
    srv.child.kill('SIGTERM');
    process.exit(2);
  }, 20 * 60_000);
  deadline.unref();
  let bench: ChildProcess | null = null;
  try {
    const port = await srv.port;
    await sleep(3000);
    const primary = srv.child.pid ?? 0;
    const before = workersRss(primary);
    const primaryBefore = rssOf(primary);
    const generic =
      opts.server === 'ws-ref'
        ? [
            '--protocol',
            'generic',
            '--ws-url',
            '{ws}/',
            '--subscribe-message',
            '',
            '--publish-url',
            '{url}/pub',
            '--publish-body',
            '{text}',
            '--publish-header',
            'Content-Type: text/plain',
          ]
        : [];
    bench = spawn(
      process.execPath,
      benchArgs(`http://127.0.0.1:${port}`, [
        '--clients',
        String(n),
        '--transport',
        opts.transport,
        '--channels',
        '1000',
        '--rate',
        '0',
        '--broadcast-rate',
        '0',
        '--ramp',
        opts.ramp,
        '--duration',
        String(settleS + 15),
        '--drain',
        '1',
        '--no-metrics',
        '--out',
        `reports/cluster-idle-${opts.server}-${opts.transport}`,
        ...generic,
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const b = bench;
    b.stdout?.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n')) {
        if (l.startsWith('clients ') || l.startsWith('messages ')) console.log(`bench: ${l}`);
      }
    });
    let lastLine = '';
    const publishing = new Promise<void>((resolve, reject) => {
      let buf = '';
      // Progress lines (stderr): "[  81s ramp   ] conn ..." then "[  82s publish] ...".
      b.stderr?.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) {
          if (/ ramp +\]/.test(l)) lastLine = l;
          else if (/ publish\]/.test(l)) resolve();
          else if (!l.startsWith('[')) process.stderr.write(`bench: ${l}\n`);
        }
      });
      b.once('exit', (code) => reject(new Error(`bench ended before its clients were up (${code})`)));
    });
    await publishing;
    console.log(`ramp done: ${lastLine.trim()}`);
    await sleep(settleS * 1000);
    const after = workersRss(primary);
    const primaryAfter = rssOf(primary);
    const per = (after.sum + primaryAfter - before.sum - primaryBefore) / n;
    const perWorkers = (after.sum - before.sum) / n;
    const r = {
      server: opts.server,
      transport: opts.transport,
      connections: n,
      workers: after.each.length,
      workersRssBefore: before.sum,
      workersRssAfter: after.sum,
      workerRssAfter: after.each,
      primaryRssBefore: primaryBefore,
      primaryRssAfter: primaryAfter,
      rssPerConn: per,
      workersRssPerConn: perWorkers,
    };
    console.log(
      `${opts.server} ${opts.transport}: ${n} connections, ${after.each.length} workers, ` +
        `server RSS ${((before.sum + primaryBefore) / 2 ** 20).toFixed(1)} -> ` +
        `${((after.sum + primaryAfter) / 2 ** 20).toFixed(1)} MiB: ${(per / 1024).toFixed(2)} KiB per connection ` +
        `(workers alone ${(perWorkers / 1024).toFixed(2)} KiB; primary ${(primaryBefore / 2 ** 20).toFixed(1)} -> ` +
        `${(primaryAfter / 2 ** 20).toFixed(1)} MiB)`,
    );
    console.log(`RESULT ${JSON.stringify(r)}`);
    await new Promise((resolve) => b.once('exit', resolve));
  } finally {
    if (bench !== null && bench.exitCode === null) bench.kill('SIGTERM');
    if (srv.child.exitCode === null) {
      const exited = new Promise((r) => srv.child.once('exit', r));
      srv.child.kill('SIGTERM');
      const t = setTimeout(() => srv.child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
