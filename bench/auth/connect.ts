/**
 * What connection tokens cost at connect (docs/BENCHMARKS.md "Connecting with tokens"): N
 * WebSocket clients (20,000 in the issue) connect and subscribe, each with its own token or
 * without one, to a `holdfast serve --workers W` server (memory engine, no accept-rate cap so
 * the cap does not hide the cost). Tokens are minted in the client processes before the clock
 * starts; then every client process is told to go at once. Measured: the time from go until
 * every client has its subscribe reply, and the server's CPU time (user + system, primary and
 * workers, from /proc/<pid>/stat) over the same span.
 *
 * Usage: npm run build && node dist/bench/auth/connect.js [--connections 20000] [--workers 2]
 *          [--auth none,HS256,ES256] [--repeat 3]
 * Runs alternate between the --auth kinds, --repeat rounds, each from its own source addresses
 * (127.0.<10 + round>.2 and up). Loopback only; every process it
 * starts is ended by PID; the run stops by itself.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClientsArgs, ClientsReport } from '../memory/clients.js';
import { cpuSeconds, listeningPort, options, serveArgs } from '../serve-proc.js';
import { type BenchAlg, benchKey, type MintSpec } from './mint.js';

const opts = options({ connections: '20000', workers: '2', auth: 'none,HS256,ES256', repeat: '3' });
const PER_PROCESS = 10_000;
const DEADLINE_MS = 20 * 60_000;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

interface Round {
  auth: string;
  seconds: number;
  cpu: number;
}

/**
 * Every round's clients bind their own source addresses: sockets of a round just ended sit in
 * TIME_WAIT, and binding the same address again made connects wait for port reuse (tens of s).
 */
let nextNet = 10;

async function round(kind: string, n: number): Promise<Round> {
  const net = nextNet++;
  let auth: MintSpec | undefined;
  const flags: Record<string, string> = {
    workers: opts.workers,
    'ping-interval': '3600',
    'max-new-connections-per-second': '0',
    'log-level': 'warn',
  };
  if (kind !== 'none') {
    const k = await benchKey(kind as BenchAlg);
    auth = k.spec;
    Object.assign(flags, k.flags);
  }
  const server = spawn(process.execPath, serveArgs(flags), { stdio: ['ignore', 'pipe', 'inherit'] });
  const clients: ChildProcess[] = [];
  try {
    const port = await listeningPort(server);
    await new Promise((r) => setTimeout(r, 1500));
    const procs = Math.ceil(n / PER_PROCESS);
    const per = Math.ceil(n / procs);
    let failure: Error | null = null;
    const minted: Promise<void>[] = [];
    const ready: Promise<void>[] = [];
    for (let p = 0; p < procs; p++) {
      const args: ClientsArgs = {
        transport: 'ws',
        port,
        localAddress: `127.0.${net}.${2 + p}`,
        count: Math.min(per, n - p * per),
        first: p * per,
        channels: 100,
        batch: 500,
        deadlineMs: DEADLINE_MS,
        waitGo: true,
        ...(auth === undefined ? {} : { auth }),
      };
      const child = fork(here('../memory/clients.js'), [JSON.stringify(args)], { stdio: 'inherit' });
      clients.push(child);
      let onMinted: () => void = () => undefined;
      let onReady: () => void = () => undefined;
      minted.push(new Promise((r) => (onMinted = r)));
      ready.push(new Promise((r) => (onReady = r)));
      child.on('message', (m: ClientsReport) => {
        if ('error' in m) failure ??= new Error(`clients ${args.localAddress}: ${m.error}`);
        else if ('minted' in m) onMinted();
        else if ('ready' in m && m.ready === args.count) onReady();
      });
      child.once('exit', (code) => {
        failure ??= new Error(`clients ${args.localAddress} exited (${code})`);
      });
    }
    await Promise.all(minted);
    const cpu0 = cpuSeconds(server.pid!);
    const t0 = process.hrtime.bigint();
    for (const c of clients) c.send('go');
    const all = Promise.all(ready);
    for (;;) {
      if (failure !== null) throw failure;
      const ok = await Promise.race([all.then(() => true), new Promise((r) => setTimeout(r, 20, false))]);
      if (ok === true) break;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSeconds(server.pid!) - cpu0;
    return { auth: kind, seconds, cpu };
  } finally {
    for (const c of clients) if (c.exitCode === null && c.connected) c.disconnect();
    await Promise.all(
      clients.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    );
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
  }
}

async function main(): Promise<void> {
  setTimeout(() => {
    console.error('connect bench: deadline passed');
    process.exit(2);
  }, DEADLINE_MS).unref();
  const n = Number(opts.connections);
  const kinds = opts.auth.split(',');
  console.log(`connections ${n}, workers ${opts.workers}, node ${process.version}`);
  const results: Round[] = [];
  for (let r = 0; r < Number(opts.repeat); r++) {
    for (const kind of kinds) {
      const res = await round(kind, n);
      results.push(res);
      console.log(
        `${kind.padEnd(6)} connect ${res.seconds.toFixed(2)} s  server CPU ${res.cpu.toFixed(2)} s ` +
          `(${((res.cpu / n) * 1e6).toFixed(1)} µs per connection)`,
      );
    }
  }
  for (const kind of kinds) {
    const mine = results.filter((x) => x.auth === kind);
    const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `MEDIAN ${kind}: connect ${med(mine.map((x) => x.seconds)).toFixed(2)} s, server CPU ` +
        `${med(mine.map((x) => x.cpu)).toFixed(2)} s`,
    );
  }
  console.log(`RESULT ${JSON.stringify(results)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
