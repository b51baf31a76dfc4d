/**
 * One presence channel with N members across W workers (docs/BENCHMARKS.md "Presence"; the
 * issue's 10,000 members on 7 workers): the join storm when every member connects at once, what
 * it does to the server's other traffic, GET /api/presence, and one join and one leave reaching
 * every member.
 *
 * The server: `holdfast serve --workers W`, memory engine, an HMAC token key and the namespace
 * `room` with presence and joinLeave. Members: raw-socket WebSocket clients (bench/memory/
 * clients.ts) in several processes, each with its own token (user u<i>), all following
 * `room:c0`, counting the join and leave pushes they receive. Other traffic, measured the whole
 * time by a probe every 100 ms: an API publish to `news` (its answer time), that publication's
 * arrival at a WebSocket subscriber of `news`, and GET /health.
 *
 * Steps: probe alone for a few seconds (baseline); every member connects at once (the storm),
 * until the members have received every join the storm causes (each member gets the joins of
 * those after it) or the count stops growing; then GET /api/presence (10 times); then one more
 * member joins and leaves, each counted at every member.
 *
 * Usage: npm run build && node dist/bench/auth/presence.js [--members 10000] [--workers 7]
 * Loopback only; every process it starts is ended by PID; the run stops by itself.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { ClientsArgs, ClientsReport } from '../memory/clients.js';
import { BENCH_KEY, cpuSeconds, listeningPort, options, percentile, serveArgs } from '../serve-proc.js';
import { benchKey, mintOne } from './mint.js';

const opts = options({ members: '10000', workers: '7', baseline: '5' });
const PER_PROCESS = 5000;
const DEADLINE_MS = 15 * 60_000;
const MARK = 'probe-member-marker';
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Other traffic: publish, its delivery to a subscriber, /health; samples in ms by phase. */
class Probe {
  readonly samples = new Map<string, { api: number[]; delivery: number[]; health: number[] }>();
  phase = 'baseline';
  #timer: NodeJS.Timeout | null = null;
  #ws: WebSocket | null = null;
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  async start(): Promise<void> {
    const ws = new WebSocket(`${this.#base.replace('http', 'ws')}/ws`);
    this.#ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel: 'news' })));
      ws.on('message', (raw: Buffer) => {
        const m = JSON.parse(raw.toString()) as { id?: number; op?: string; data?: { t: number } };
        if (m.id === 1) resolve();
        else if (m.op === 'message' && m.data !== undefined)
          this.#bucket().delivery.push(Date.now() - m.data.t);
      });
      ws.once('error', reject);
    });
    this.#timer = setInterval(() => void this.#tick(), 100);
  }

  #bucket(): { api: number[]; delivery: number[]; health: number[] } {
    let b = this.samples.get(this.phase);
    if (b === undefined) {
      b = { api: [], delivery: [], health: [] };
      this.samples.set(this.phase, b);
    }
    return b;
  }

  async #tick(): Promise<void> {
    const b = this.#bucket();
    const t = Date.now();
    try {
      const res = await fetch(`${this.#base}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': BENCH_KEY },
        body: JSON.stringify({ channel: 'news', data: { t } }),
      });
      await res.arrayBuffer();
      b.api.push(Date.now() - t);
      const h = Date.now();
      await (await fetch(`${this.#base}/health`)).arrayBuffer();
      b.health.push(Date.now() - h);
    } catch {
      b.api.push(Number.POSITIVE_INFINITY);
    }
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#ws?.close();
  }
}

const fmt = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `n ${s.length}, p50 ${percentile(s, 50)} ms, p99 ${percentile(s, 99)} ms, max ${s[s.length - 1]} ms`;
};

async function main(): Promise<void> {
  setTimeout(() => {
    console.error('presence bench: deadline passed');
    process.exit(2);
  }, DEADLINE_MS).unref();
  const n = Number(opts.members);
  const key = await benchKey('HS256');
  const namespaces = JSON.stringify({ '': {}, room: { anonymous: false, presence: true, joinLeave: true } });
  const server = spawn(
    process.execPath,
    serveArgs({
      workers: opts.workers,
      'log-level': 'warn',
      'ping-interval': '3600',
      namespaces,
      ...key.flags,
    }),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const clients: ChildProcess[] = [];
  let live: Probe | null = null;
  try {
    const port = await listeningPort(server);
    const base = `http://127.0.0.1:${port}`;
    live = new Probe(base);
    await sleep(2000);
    await live.start();
    let failure: Error | null = null;
    const procs = Math.ceil(n / PER_PROCESS);
    const per = Math.ceil(n / procs);
    const minted: Promise<void>[] = [];
    const ready: Promise<void>[] = [];
    const counts = new Map<ChildProcess, number[]>();
    for (let p = 0; p < procs; p++) {
      const args: ClientsArgs = {
        transport: 'ws',
        port,
        localAddress: `127.0.0.${2 + p}`,
        count: Math.min(per, n - p * per),
        first: p * per,
        channels: 1,
        batch: 500,
        deadlineMs: DEADLINE_MS,
        waitGo: true,
        auth: key.spec,
        channelPrefix: 'room:',
        watch: ['"op":"join"', '"op":"leave"', MARK],
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
        else if ('counts' in m) counts.set(child, m.counts);
        else if (m.ready === args.count) onReady();
      });
      child.once('exit', (code) => {
        failure ??= new Error(`clients ${args.localAddress} exited (${code})`);
      });
    }
    const total = async (): Promise<number[]> => {
      counts.clear();
      for (const c of clients) c.send('count');
      for (let i = 0; counts.size < clients.length; i++) {
        if (failure !== null) throw failure;
        if (i > 500) throw new Error('client processes did not report their counts');
        await sleep(10);
      }
      const sum = [0, 0, 0];
      for (const c of counts.values()) for (let k = 0; k < 3; k++) sum[k]! += c[k]!;
      return sum;
    };
    await Promise.all(minted);
    await sleep(Number(opts.baseline) * 1000);
    live.phase = 'storm';
    const cpu0 = cpuSeconds(server.pid!);
    const primary0 = cpuSeconds(server.pid!, false);
    const t0 = Date.now();
    for (const c of clients) c.send('go');
    await Promise.all(ready);
    const connectedMs = Date.now() - t0;
    // Every member gets the joins of the members after it: n(n-1)/2 in all (its own too: + n).
    const expected = (n * (n - 1)) / 2;
    let joins = 0;
    let still = 0;
    for (;;) {
      if (failure !== null) throw failure;
      const [j] = await total();
      if (j! >= expected) {
        joins = j!;
        break;
      }
      still = j === joins ? still + 1 : 0;
      joins = j!;
      if (still >= 20) break; // no new join pushes for 10 s
      await sleep(500);
    }
    const stormMs = Date.now() - t0;
    const stormCpu = cpuSeconds(server.pid!) - cpu0;
    const primaryCpu = cpuSeconds(server.pid!, false) - primary0;
    live.phase = 'after';
    console.log(`members ${n}, workers ${opts.workers}, node ${process.version}`);
    console.log(
      `storm: all ${n} subscribed in ${connectedMs} ms; join pushes received ${joins} of ${expected}`,
    );
    console.log(
      `storm: settled in ${stormMs} ms, server CPU ${stormCpu.toFixed(1)} s ` +
        `(the primary ${primaryCpu.toFixed(1)} s, the workers ${(stormCpu - primaryCpu).toFixed(1)} s)`,
    );
    const presenceMs: number[] = [];
    let members = 0;
    for (let i = 0; i < 10; i++) {
      const t = Date.now();
      const res = await fetch(`${base}/api/presence?channel=room:c0`, {
        headers: { 'x-api-key': BENCH_KEY },
      });
      const body = (await res.json()) as { members?: unknown[] };
      presenceMs.push(Date.now() - t);
      members = body.members?.length ?? -1;
    }
    console.log(`GET /api/presence: ${members} members; ${fmt(presenceMs)}`);
    const [, , mark0] = await total();
    const token = await mintOne(key.spec, 'probe', { name: MARK });
    const probeWs = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
    const tj = Date.now();
    await new Promise<void>((resolve, reject) => {
      probeWs.once('open', () =>
        probeWs.send(JSON.stringify({ id: 1, op: 'subscribe', channel: 'room:c0' })),
      );
      probeWs.on('message', (raw: Buffer) => {
        if ((JSON.parse(raw.toString()) as { id?: number }).id === 1) resolve();
      });
      probeWs.once('error', reject);
    });
    const waitMarks = async (want: number): Promise<number> => {
      for (let i = 0; i < 600; i++) {
        const [, , m] = await total();
        if (m! - mark0! >= want) return m! - mark0!;
        await sleep(100);
      }
      const [, , m] = await total();
      return m! - mark0!;
    };
    const gotJoin = await waitMarks(n);
    const joinMs = Date.now() - tj;
    const tl = Date.now();
    probeWs.close();
    const gotBoth = await waitMarks(2 * n);
    const leaveMs = Date.now() - tl;
    console.log(`one join reached ${gotJoin} of ${n} members (${joinMs} ms, counted by polling)`);
    console.log(`one leave reached ${gotBoth - gotJoin} of ${n} members (${leaveMs} ms, counted by polling)`);
    live.stop();
    for (const [phase, s] of live.samples) {
      console.log(`probe ${phase}: publish API ${fmt(s.api)}`);
      console.log(`probe ${phase}: delivery   ${fmt(s.delivery)}`);
      console.log(`probe ${phase}: /health    ${fmt(s.health)}`);
    }
  } finally {
    live?.stop();
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

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
