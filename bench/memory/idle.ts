/**
 * Server memory per idle connection, by transport (docs/BENCHMARKS.md "Memory per idle connection").
 *
 * Starts one server process (Holdfast `serve --workers 1`, memory engine; or the stock `ws`
 * reference server of ws-reference.ts), opens N idle clients of one transport from separate
 * client processes (clients.ts; at most 15,000 sockets each, each from its own source address
 * 127.0.0.2, 127.0.0.3, ...), each subscribed to one channel of `--channels`, waits until the
 * server reports every subscription, lets it settle, and reads the server's VmRSS from
 * /proc/<pid>/status before and after. The server runs with --expose-gc and gc-hook.js (bench
 * only): a full GC runs just before each reading, which also reports heapUsed.
 *
 * Usage: npm run build && node dist/bench/memory/idle.js [--server holdfast|ws-ref|raw]
 *          [--transport ws|sse|poll] [--connections 19000] [--channels 100] [--settle 10]
 *          [--auth none|HS256|ES256] [--presence]
 *        node dist/bench/memory/idle.js --all     (raw, ws-ref, then Holdfast ws, sse, poll)
 * --auth: every connection carries its own token (user u<i>, minted before the run);
 * --presence: the channels are `room:c<n>` in a namespace with presence, so every connection is
 * also a presence member (needs --auth).
 * Loopback only; every process it starts is ended by PID; the run stops by itself.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchAlg, benchKey, type MintSpec } from '../auth/mint.js';
import { BENCH_KEY, listeningPort, options, serveArgs } from '../serve-proc.js';
import type { ClientsArgs, ClientsReport } from './clients.js';

const opts = options({
  server: 'holdfast',
  transport: 'ws',
  connections: '19000',
  channels: '100',
  settle: '10',
  all: false,
  auth: 'none',
  presence: false,
});

/** The namespaces of a --presence run: the default one, and `room` with presence for members. */
const PRESENCE_NAMESPACES = JSON.stringify({ '': {}, room: { anonymous: false, presence: true } });

const PER_CLIENT_PROCESS = 15_000;
const RUN_DEADLINE_MS = 15 * 60_000;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface MemStat {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

interface Result {
  server: string;
  transport: string;
  connections: number;
  channels: number;
  rssBefore: number;
  rssAfter: number;
  rssPerConn: number;
  /** Per connection of the second half: (RSS(n) - RSS(n/2)) / (n/2). */
  rssMarginal: number;
  heapMarginal: number;
  heapPerConn: number;
  heapTotalPerConn: number;
  externalPerConn: number;
}

class ServerProcess {
  readonly child: ChildProcess;
  readonly port: Promise<number>;
  #stderr = '';
  #memWaiter: ((m: MemStat) => void) | null = null;

  constructor(kind: string, extraFlags: Record<string, string> = {}) {
    const hook = pathToFileURL(here('./gc-hook.js')).href;
    const args =
      kind === 'ws-ref'
        ? [here('./ws-reference.js'), '0']
        : kind === 'raw'
          ? [here('./raw-reference.js'), '0']
          : serveArgs({
              workers: '1',
              // Long holds and no pings during the run: the clients stay idle and never answer.
              'poll-timeout': '300',
              'ping-interval': '3600',
              'log-level': 'warn',
              ...extraFlags,
            });
    this.child = spawn(process.execPath, ['--expose-gc', '--import', hook, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.#stderr += d.toString();
      let nl = this.#stderr.indexOf('\n');
      while (nl >= 0) {
        const line = this.#stderr.slice(0, nl);
        this.#stderr = this.#stderr.slice(nl + 1);
        if (line.startsWith('MEMSTAT ')) this.#memWaiter?.(JSON.parse(line.slice(8)) as MemStat);
        else process.stderr.write(`[server] ${line}\n`);
        nl = this.#stderr.indexOf('\n');
      }
    });
    this.port = listeningPort(this.child);
  }

  /** Full GC in the server, then its memoryUsage() and VmRSS. */
  async memstat(): Promise<MemStat> {
    const got = new Promise<MemStat>((resolve) => {
      this.#memWaiter = resolve;
    });
    this.child.kill('SIGUSR2');
    const m = await got;
    this.#memWaiter = null;
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    m.rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
    return m;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.removeAllListeners('exit');
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

function subscribers(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/channels', headers: { 'x-api-key': BENCH_KEY } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => {
          const list = (JSON.parse(body) as { channels: { subscribers: number }[] }).channels;
          resolve(list.reduce((n, c) => n + c.subscribers, 0));
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function run(server: string, transport: ClientsArgs['transport'], n: number, channels: number) {
  let auth: MintSpec | undefined;
  const flags: Record<string, string> = {};
  if (opts.auth !== 'none') {
    const k = await benchKey(opts.auth as BenchAlg);
    auth = k.spec;
    Object.assign(flags, k.flags);
  }
  if (opts.presence) {
    if (auth === undefined) throw new Error('--presence needs --auth: presence members are users');
    flags['namespaces'] = PRESENCE_NAMESPACES;
  }
  const srv = new ServerProcess(server, flags);
  const clients: ChildProcess[] = [];
  try {
    const port = await srv.port;
    await sleep(2000);
    const before = await srv.memstat();
    // Two equal phases: the second half's cost is the marginal cost per connection, free of the
    // fixed costs that come with the first connections (young-generation growth, code, buffers).
    const half = Math.floor(n / 2);
    let failure: Error | null = null;
    let addr = 2;
    const phase = async (first: number, count: number): Promise<void> => {
      const procs = Math.ceil(count / PER_CLIENT_PROCESS);
      const per = Math.ceil(count / procs);
      const done: Promise<void>[] = [];
      for (let f = first; f < first + count; f += per) {
        const args: ClientsArgs = {
          transport,
          port,
          localAddress: `127.0.0.${addr++}`,
          count: Math.min(per, first + count - f),
          first: f,
          channels,
          batch: 250,
          deadlineMs: RUN_DEADLINE_MS,
          ...(auth === undefined ? {} : { auth }),
          ...(opts.presence ? { channelPrefix: 'room:' } : {}),
        };
        const child = fork(here('./clients.js'), [JSON.stringify(args)], { stdio: 'inherit' });
        clients.push(child);
        done.push(
          new Promise((resolve) => {
            child.on('message', (m: ClientsReport) => {
              if ('error' in m) failure ??= new Error(`clients ${args.localAddress}: ${m.error}`);
              else if ('ready' in m && m.ready === args.count) resolve();
            });
            child.once('exit', (code) => {
              failure ??= new Error(`clients ${args.localAddress} exited (${code})`);
            });
          }),
        );
      }
      const all = Promise.all(done);
      for (let i = 0; ; i++) {
        if (failure !== null) throw failure;
        if (i > 3000) throw new Error('clients did not get ready in 300 s');
        const ok = await Promise.race([all.then(() => true), sleep(100).then(() => false)]);
        if (ok) break;
      }
      if (server === 'holdfast') {
        for (let i = 0; (await subscribers(port)) < first + count; i++) {
          if (i > 300) throw new Error('the server did not report every subscription');
          await sleep(100);
        }
      }
      await sleep(Number(opts.settle) * 1000);
      if (failure !== null) throw failure;
    };
    await phase(0, half);
    const middle = await srv.memstat();
    await phase(half, n - half);
    const after = await srv.memstat();
    const r: Result = {
      server,
      transport,
      connections: n,
      channels,
      rssBefore: before.rss,
      rssAfter: after.rss,
      rssPerConn: (after.rss - before.rss) / n,
      rssMarginal: (after.rss - middle.rss) / (n - half),
      heapPerConn: (after.heapUsed - before.heapUsed) / n,
      heapMarginal: (after.heapUsed - middle.heapUsed) / (n - half),
      heapTotalPerConn: (after.heapTotal - before.heapTotal) / n,
      externalPerConn: (after.external - before.external) / n,
    };
    return r;
  } finally {
    for (const c of clients) {
      if (c.exitCode === null && c.connected) c.disconnect();
    }
    await Promise.all(
      clients.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
    );
    await srv.stop();
  }
}

const kb = (b: number): string => (b / 1024).toFixed(2);

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    console.error('memory bench: run deadline passed');
    process.exit(2);
  }, RUN_DEADLINE_MS);
  deadline.unref();
  const n = Number(opts.connections);
  const channels = Number(opts.channels);
  const plan: [string, ClientsArgs['transport']][] = opts.all
    ? [
        ['raw', 'ws'],
        ['ws-ref', 'ws'],
        ['holdfast', 'ws'],
        ['holdfast', 'sse'],
        ['holdfast', 'poll'],
      ]
    : [[opts.server, opts.transport as ClientsArgs['transport']]];
  console.log(
    `connections ${n}, channels ${channels}, settle ${opts.settle} s, auth ${opts.auth}, ` +
      `presence ${opts.presence}, node ${process.version}`,
  );
  console.log(
    'server    transport  RSS before  RSS after   RSS/conn  marginal  heapUsed/conn  marginal  heapTotal/conn (KiB)',
  );
  for (const [server, transport] of plan) {
    const r = await run(server, transport, n, channels);
    console.log(
      `${server.padEnd(9)} ${transport.padEnd(10)} ${kb(r.rssBefore).padStart(10)} ${kb(r.rssAfter).padStart(10)} ` +
        `${kb(r.rssPerConn).padStart(10)} ${kb(r.rssMarginal).padStart(9)} ${kb(r.heapPerConn).padStart(14)} ` +
        `${kb(r.heapMarginal).padStart(9)} ${kb(r.heapTotalPerConn).padStart(14)}`,
    );
    console.log(`RESULT ${JSON.stringify(r)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
