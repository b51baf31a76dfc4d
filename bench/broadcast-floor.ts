/**
 * The machine's floor for a broadcast over loopback TCP: what the cheapest Node.js broadcast
 * costs on this machine with the clients on the same machine. The lower bound for Holdfast's
 * broadcast latency at 100,000 clients (docs/BENCHMARKS.md).
 *
 * S server processes, each a bare node:net server on its own port of 127.0.0.1 keeping its
 * sockets in an array, write one preallocated `--size`-byte Buffer to every socket
 * (socket.write) when told to over IPC. C client processes hold the N bare node:net connections,
 * spread evenly over the S ports, from source addresses 127.0.0.2 up (20,000 per address), each
 * from its own source port (1024 + its place on the address: bind() with port 0 searches the port
 * range on every bind, ~30% of this machine's CPU past 45,000 sockets); they only count the bytes
 * each socket receives. For each broadcast this process takes t0 (performance.timeOrigin +
 * performance.now(), comparable across processes) just before telling every server at once; a
 * socket's latency is the time its byte count reaches seq * size, minus t0. CPU is
 * process.cpuUsage() of the servers and of the clients from just before the write until the last
 * byte arrived, per delivery; `machine` is /proc/stat over about the same window (every process
 * on the machine, and the kernel's softirq work that no process is charged for; 10 ms ticks).
 *
 * Usage: npm run build && node dist/bench/broadcast-floor.js [--connections 100000] [--servers 7]
 *          [--clients 7] [--broadcasts 10] [--interval 3000] [--size 64] [--client-nice N]
 * (--client-nice runs the client processes at that nice level, 0..19: does the writer gain from
 * not being preempted by its readers? docs/BENCHMARKS.md, session 4: no.)
 * One line per broadcast, a summary, then `RESULT {json}`; exits 1 if any delivery was missing.
 * Loopback only; every process it starts is ended by PID; the run stops by itself (10 minutes).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Socket, type TcpSocketConnectOpts } from 'node:net';
import { cpus, loadavg, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SOURCE_PORT_BASE, sourceAddress } from '../src/loadgen/plan.js';
import { options } from './serve-proc.js';

const RUN_DEADLINE_MS = 10 * 60_000;
/** One process may hold 20,000 open files here (hard limit); leave room for its own. */
const MAX_SOCKETS_PER_PROCESS = 19_500;
const PER_ADDRESS = 20_000;
/** New connections per second and connection attempts at once, over all client processes. */
const RAMP_PER_S = 2000;
const MAX_CONNECTING = 300;
/** A client process reports what it has this long after a broadcast, missing sockets and all. */
const ARRIVAL_TIMEOUT_MS = 30_000;

interface ServerArgs {
  size: number;
  deadlineMs: number;
}
interface ClientArgs {
  /** Global index of this process's first connection (source address and port follow from it). */
  first: number;
  count: number;
  ports: number[];
  size: number;
  ramp: number;
  maxConnecting: number;
  timeoutMs: number;
  deadlineMs: number;
}

type Cpu = NodeJS.CpuUsage;
type ToServer = { type: 'broadcast'; seq: number } | { type: 'cpu'; seq: number } | { type: 'count' };
type ToClient = { type: 'arm'; seq: number };
type Msg =
  | { type: 'listening'; port: number }
  | { type: 'wrote'; seq: number; cpu: Cpu; wroteMs: number; sockets: number }
  | { type: 'cpu'; seq: number; cpu: Cpu }
  | { type: 'count'; open: number; closed: number }
  | { type: 'progress'; connected: number; fallbacks: number }
  | { type: 'ready'; connected: number; fallbacks: number }
  | { type: 'armed'; seq: number }
  | { type: 'arrived'; seq: number; arrivals: Float64Array; missing: number; cpu: Cpu; closed: number }
  | { type: 'error'; message: string };

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const send = (m: Msg): void => {
  if (process.connected) process.send?.(m);
};

/** Both kinds of child end by themselves: when the orchestrator goes away, or at the deadline. */
function childLifetime(deadlineMs: number): void {
  setTimeout(() => process.exit(3), deadlineMs).unref();
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------- server process

function serverMain(a: ServerArgs): void {
  childLifetime(a.deadlineMs);
  const payload = Buffer.alloc(a.size, 0x61);
  const sockets: Socket[] = [];
  let closed = 0;
  let mark = process.cpuUsage();

  function onSocketError(this: Socket): void {
    // 'close' follows.
  }
  function onSocketClose(this: Socket): void {
    closed++;
  }
  const server = createServer({ noDelay: true }, (s) => {
    sockets.push(s);
    s.on('error', onSocketError);
    s.on('close', onSocketClose);
  });
  process.on('message', (m: ToServer) => {
    if (m.type === 'broadcast') {
      mark = process.cpuUsage();
      const t = performance.now();
      let wrote = 0;
      for (let i = 0; i < sockets.length; i++) {
        const s = sockets[i]!;
        if (s.destroyed) continue;
        s.write(payload);
        wrote++;
      }
      const wroteMs = performance.now() - t;
      send({ type: 'wrote', seq: m.seq, cpu: process.cpuUsage(mark), wroteMs, sockets: wrote });
    } else if (m.type === 'cpu') {
      send({ type: 'cpu', seq: m.seq, cpu: process.cpuUsage(mark) });
    } else {
      send({ type: 'count', open: sockets.length - closed, closed });
    }
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const addr = server.address();
    send({ type: 'listening', port: typeof addr === 'object' && addr !== null ? addr.port : 0 });
  });
}

// ---------------------------------------------------------------- client process

class FloorSocket extends Socket {
  /** Place in this process's arrays. */
  i = 0;
  open = false;
  /** Connects from its own source port (SOURCE_PORT_BASE + its place on the address). */
  ownPort = true;
  /** That port could not be had: connect again with one the OS picks. */
  retry = false;
}

function clientMain(a: ClientArgs): void {
  childLifetime(a.deadlineMs);
  const bytes = new Float64Array(a.count);
  const arrivals = new Float64Array(a.count);
  let seq = 0;
  let target = 0;
  let arrived = 0;
  let cpuMark = process.cpuUsage();
  let timer: NodeJS.Timeout | null = null;
  let next = 0;
  let connecting = 0;
  let connected = 0;
  let fallbacks = 0;
  let closed = 0;
  /** Armed for a broadcast and not reported yet. */
  let waiting = false;

  const fail = (message: string): void => {
    send({ type: 'error', message });
    process.exit(1);
  };

  function onConnect(this: FloorSocket): void {
    this.open = true;
    connecting--;
    if (++connected === a.count) {
      clearInterval(ramp);
      send({ type: 'ready', connected, fallbacks });
    }
  }
  function onData(this: FloorSocket, chunk: Buffer): void {
    const i = this.i;
    const b = bytes[i]! + chunk.length;
    bytes[i] = b;
    if (b >= target && target > 0 && arrivals[i] === 0) {
      arrivals[i] = now();
      if (++arrived === a.count) finish();
    }
  }
  function onError(this: FloorSocket, err: NodeJS.ErrnoException): void {
    if (this.open) return; // 'close' follows and counts it.
    if ((err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL') && this.ownPort) {
      this.retry = true;
      return;
    }
    fail(`connection ${a.first + this.i}: ${err.code ?? err.message}`);
  }
  function onClose(this: FloorSocket): void {
    if (this.retry) {
      connecting--;
      fallbacks++;
      open(this.i, false);
    } else if (this.open) {
      closed++;
    }
  }

  function open(i: number, ownPort: boolean): void {
    const g = a.first + i;
    const s = new FloorSocket();
    s.i = i;
    s.ownPort = ownPort;
    s.on('connect', onConnect);
    s.on('data', onData);
    s.on('error', onError);
    s.on('close', onClose);
    const opts: TcpSocketConnectOpts = {
      host: '127.0.0.1',
      port: a.ports[g % a.ports.length]!,
      localAddress: sourceAddress(Math.floor(g / PER_ADDRESS)),
    };
    if (ownPort) opts.localPort = SOURCE_PORT_BASE + (g % PER_ADDRESS);
    connecting++;
    s.connect(opts);
  }

  let budget = 0;
  let last = performance.now();
  let lastProgress = last;
  const ramp = setInterval(() => {
    const t = performance.now();
    budget = Math.min(budget + (a.ramp * (t - last)) / 1000, a.maxConnecting);
    last = t;
    while (budget >= 1 && connecting < a.maxConnecting && next < a.count) {
      open(next++, true);
      budget--;
    }
    if (t - lastProgress >= 1000) {
      lastProgress = t;
      send({ type: 'progress', connected, fallbacks });
    }
  }, 20);

  function finish(): void {
    const cpu = process.cpuUsage(cpuMark);
    if (!waiting) return;
    waiting = false;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const out = new Float64Array(arrived);
    let k = 0;
    for (let i = 0; i < a.count; i++) if (arrivals[i]! > 0) out[k++] = arrivals[i]!;
    send({ type: 'arrived', seq, arrivals: out, missing: a.count - arrived, cpu, closed });
  }

  process.on('message', (m: ToClient) => {
    seq = m.seq;
    target = seq * a.size;
    arrivals.fill(0);
    arrived = 0;
    cpuMark = process.cpuUsage();
    waiting = true;
    timer = setTimeout(finish, a.timeoutMs);
    send({ type: 'armed', seq });
  });
}

// ---------------------------------------------------------------- orchestrator

let failure: Error | null = null;
let stopping = false;

class Child {
  readonly proc: ChildProcess;
  readonly label: string;
  connected = 0;
  fallbacks = 0;
  ready = false;
  readonly #inbox: Msg[] = [];
  #wake: (() => void) | null = null;

  constructor(label: string, role: 'server' | 'client', args: ServerArgs | ClientArgs) {
    this.label = label;
    this.proc = fork(fileURLToPath(import.meta.url), [role, JSON.stringify(args)], {
      serialization: 'advanced',
      stdio: 'inherit',
    });
    this.proc.on('message', (m: Msg) => {
      if (m.type === 'error') failure ??= new Error(`${label}: ${m.message}`);
      else if (m.type === 'progress' || m.type === 'ready') {
        this.connected = m.connected;
        this.fallbacks = m.fallbacks;
        if (m.type === 'ready') this.ready = true;
      } else this.#inbox.push(m);
      this.#wake?.();
    });
    this.proc.on('error', (err) => {
      failure ??= new Error(`${label}: ${err.message}`);
    });
    this.proc.once('exit', (code, signal) => {
      if (!stopping) failure ??= new Error(`${label} (pid ${this.proc.pid}) exited (${signal ?? code})`);
      this.#wake?.();
    });
  }

  send(m: ToServer | ToClient): void {
    if (failure !== null) throw failure;
    if (!this.proc.connected) throw new Error(`${this.label} (pid ${this.proc.pid}) is gone`);
    this.proc.send(m);
  }

  async take<T extends Msg['type']>(type: T, timeoutMs: number): Promise<Extract<Msg, { type: T }>> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.#inbox.splice(i, 1)[0] as Extract<Msg, { type: T }>;
      if (failure !== null) throw failure;
      if (performance.now() > until) throw new Error(`${this.label}: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.#wake = null;
    }
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
}

/** Ends every child: they exit on disconnect; then SIGTERM, then SIGKILL, by PID. */
async function stopAll(children: Child[]): Promise<void> {
  stopping = true;
  const exited = (ms: number): Promise<void> =>
    Promise.race([
      Promise.all(
        children.map((c) => (c.alive ? new Promise((r) => c.proc.once('exit', r)) : undefined)),
      ).then(() => undefined),
      sleep(ms),
    ]);
  for (const c of children) if (c.alive && c.proc.connected) c.proc.disconnect();
  await exited(3000);
  for (const c of children) if (c.alive) c.proc.kill('SIGTERM');
  await exited(3000);
  for (const c of children) if (c.alive) c.proc.kill('SIGKILL');
  await exited(2000);
}

/** Machine-wide CPU time in ms from /proc/stat's first line (USER_HZ = 100). */
function procStat(): { user: number; system: number; irq: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
  // cpu user nice system idle iowait irq softirq steal ...
  return { user: (f[1]! + f[2]!) * 10, system: f[3]! * 10, irq: (f[6]! + f[7]!) * 10 };
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const addCpu = (a: Cpu, b: Cpu): Cpu => ({ user: a.user + b.user, system: a.system + b.system });
const ms = (x: number): string => x.toFixed(2);
const us = (x: number): string => x.toFixed(2);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

interface BroadcastResult {
  seq: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
  missing: number;
  deliveries: number;
  /** Slowest server's write loop. */
  writeMs: number;
  /** Servers' CPU in the write loop alone, and until the last byte arrived. */
  serverWriteCpu: Cpu;
  serverCpu: Cpu;
  clientCpu: Cpu;
  machine: { user: number; system: number; irq: number };
}

async function main(): Promise<void> {
  const opts = options({
    connections: '100000',
    servers: '7',
    clients: '7',
    broadcasts: '10',
    interval: '3000',
    size: '64',
    'client-nice': '0',
  });
  const n = Number(opts.connections);
  const nServers = Number(opts.servers);
  const nClients = Number(opts.clients);
  const broadcasts = Number(opts.broadcasts);
  const interval = Number(opts.interval);
  const size = Number(opts.size);
  const clientNice = Number(opts['client-nice']);
  if (!Number.isInteger(clientNice) || clientNice < 0 || clientNice > 19)
    throw new Error(`bad client-nice: ${clientNice}`);
  for (const [k, v] of Object.entries({ n, nServers, nClients, broadcasts, size })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`bad ${k}: ${v}`);
  }
  const perServer = Math.ceil(n / nServers);
  const perClient = Math.ceil(n / nClients);
  if (Math.max(perServer, perClient) > MAX_SOCKETS_PER_PROCESS) {
    throw new Error(
      `${perServer} sockets per server process and ${perClient} per client process: at most ` +
        `${MAX_SOCKETS_PER_PROCESS} each (20,000 open files per process); raise --servers/--clients`,
    );
  }

  const children: Child[] = [];
  const deadline = setTimeout(() => {
    console.error('broadcast-floor: run deadline passed');
    void stopAll(children).finally(() => process.exit(2));
  }, RUN_DEADLINE_MS);
  deadline.unref();
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(sig, () => void stopAll(children).finally(() => process.exit(code)));
  }

  const loadStart = loadavg();
  console.log(
    `broadcast floor: ${n} connections, ${nServers} server and ${nClients} client processes, ` +
      `${broadcasts} broadcasts of ${size} B every ${interval} ms; node ${process.version}, ` +
      `${cpus().length} CPUs, loadavg ${loadStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  const childDeadline = RUN_DEADLINE_MS + 30_000;
  try {
    const servers: Child[] = [];
    for (let s = 0; s < nServers; s++) {
      const c = new Child(`server ${s}`, 'server', { size, deadlineMs: childDeadline });
      servers.push(c);
      children.push(c);
    }
    const ports: number[] = [];
    for (const s of servers) ports.push((await s.take('listening', 20_000)).port);

    const clients: Child[] = [];
    const rampStart = performance.now();
    for (let c = 0, first = 0; first < n; c++, first += perClient) {
      const args: ClientArgs = {
        first,
        count: Math.min(perClient, n - first),
        ports,
        size,
        ramp: RAMP_PER_S / nClients,
        maxConnecting: Math.max(1, Math.floor(MAX_CONNECTING / nClients)),
        timeoutMs: ARRIVAL_TIMEOUT_MS,
        deadlineMs: childDeadline,
      };
      const child = new Child(`clients ${c}`, 'client', args);
      if (clientNice !== 0 && child.proc.pid !== undefined) setPriority(child.proc.pid, clientNice);
      clients.push(child);
      children.push(child);
    }
    const readyBy = rampStart + ((n / RAMP_PER_S) * 3 + 60) * 1000;
    let lastPrint = performance.now();
    while (!clients.every((c) => c.ready)) {
      if (failure !== null) throw failure;
      if (performance.now() > readyBy) throw new Error('clients did not connect in time');
      await sleep(100);
      if (performance.now() - lastPrint >= 5000) {
        lastPrint = performance.now();
        const got = clients.reduce((s, c) => s + c.connected, 0);
        const rate = got / ((lastPrint - rampStart) / 1000);
        console.log(`  connected ${got}/${n} (${rate.toFixed(0)}/s)`);
      }
    }
    const rampS = (performance.now() - rampStart) / 1000;
    const fallbacks = clients.reduce((s, c) => s + c.fallbacks, 0);
    // A client's 'connect' comes with the handshake; wait until the servers have accepted all.
    for (let i = 0; ; i++) {
      for (const s of servers) s.send({ type: 'count' });
      let open = 0;
      for (const s of servers) open += (await s.take('count', 10_000)).open;
      if (open === n) break;
      if (i > 300) throw new Error(`the servers hold ${open} of ${n} connections`);
      await sleep(100);
    }
    console.log(
      `  all ${n} connected in ${rampS.toFixed(1)} s (${(n / rampS).toFixed(0)}/s), ` +
        `${fallbacks} with an OS-chosen source port`,
    );
    await sleep(interval);

    const results: BroadcastResult[] = [];
    const all: Float64Array[] = [];
    for (let seq = 1; seq <= broadcasts; seq++) {
      for (const c of clients) c.send({ type: 'arm', seq });
      for (const c of clients) await c.take('armed', 10_000);
      const stat0 = procStat();
      const start = performance.now();
      const t0 = performance.timeOrigin + start;
      for (const s of servers) s.send({ type: 'broadcast', seq });
      const arrivedMsgs: Extract<Msg, { type: 'arrived' }>[] = [];
      for (const c of clients) {
        const m = await c.take('arrived', ARRIVAL_TIMEOUT_MS + 10_000);
        if (m.seq !== seq) throw new Error(`${c.label}: arrivals of broadcast ${m.seq} during ${seq}`);
        arrivedMsgs.push(m);
      }
      const stat1 = procStat();
      let writeMs = 0;
      let serverWriteCpu: Cpu = { user: 0, system: 0 };
      let serverCpu: Cpu = { user: 0, system: 0 };
      for (const s of servers) {
        const w = await s.take('wrote', 10_000);
        writeMs = Math.max(writeMs, w.wroteMs);
        serverWriteCpu = addCpu(serverWriteCpu, w.cpu);
      }
      for (const s of servers) s.send({ type: 'cpu', seq });
      for (const s of servers) serverCpu = addCpu(serverCpu, (await s.take('cpu', 10_000)).cpu);
      let clientCpu: Cpu = { user: 0, system: 0 };
      let missing = 0;
      let count = 0;
      for (const m of arrivedMsgs) {
        clientCpu = addCpu(clientCpu, m.cpu);
        missing += m.missing;
        count += m.arrivals.length;
      }
      const lat = new Float64Array(count);
      let k = 0;
      for (const m of arrivedMsgs) for (const x of m.arrivals) lat[k++] = x - t0;
      lat.sort();
      all.push(lat);
      const r: BroadcastResult = {
        seq,
        p50: pct(lat, 0.5),
        p90: pct(lat, 0.9),
        p99: pct(lat, 0.99),
        max: pct(lat, 1),
        min: pct(lat, 0),
        missing,
        deliveries: count,
        writeMs,
        serverWriteCpu,
        serverCpu,
        clientCpu,
        machine: {
          user: stat1.user - stat0.user,
          system: stat1.system - stat0.system,
          irq: stat1.irq - stat0.irq,
        },
      };
      results.push(r);
      console.log(
        `broadcast ${String(seq).padStart(2)}: p50 ${ms(r.p50)} ms  p99 ${ms(r.p99)} ms  ` +
          `max ${ms(r.max)} ms  missing ${missing}  (write loop ${ms(writeMs)} ms)`,
      );
      const wait = start + interval - performance.now();
      if (wait > 0 && seq < broadcasts) await sleep(wait);
    }

    // Summary over every delivery of every broadcast.
    const total = all.reduce((s, a) => s + a.length, 0);
    const pooled = new Float64Array(total);
    let off = 0;
    for (const a of all) {
      pooled.set(a, off);
      off += a.length;
    }
    pooled.sort();
    const missing = results.reduce((s, r) => s + r.missing, 0);
    const sum = (f: (r: BroadcastResult) => number): number => results.reduce((s, r) => s + f(r), 0);
    const perDelivery = (x: number): number => (total > 0 ? x / total : Number.NaN);
    const cpu = {
      server: {
        user: perDelivery(sum((r) => r.serverCpu.user)),
        system: perDelivery(sum((r) => r.serverCpu.system)),
      },
      client: {
        user: perDelivery(sum((r) => r.clientCpu.user)),
        system: perDelivery(sum((r) => r.clientCpu.system)),
      },
      machine: {
        user: perDelivery(sum((r) => r.machine.user) * 1000),
        system: perDelivery(sum((r) => r.machine.system) * 1000),
        irq: perDelivery(sum((r) => r.machine.irq) * 1000),
      },
    };
    const p99s = Float64Array.from(results.map((r) => r.p99)).sort();
    const latency = {
      p50: pct(pooled, 0.5),
      p90: pct(pooled, 0.9),
      p99: pct(pooled, 0.99),
      max: pct(pooled, 1),
      min: pct(pooled, 0),
    };
    const loadEnd = loadavg();
    console.log(
      `summary: ${broadcasts} broadcasts x ${n} connections, ${total} deliveries, ${missing} missing\n` +
        `  latency ms over all deliveries: p50 ${ms(latency.p50)}  p90 ${ms(latency.p90)}  ` +
        `p99 ${ms(latency.p99)}  max ${ms(latency.max)}\n` +
        `  p99 per broadcast ms: min ${ms(pct(p99s, 0))}  median ${ms(pct(p99s, 0.5))}  max ${ms(pct(p99s, 1))}\n` +
        `  write loop ms (slowest server): median ${ms(pct(Float64Array.from(results.map((r) => r.writeMs)).sort(), 0.5))}\n` +
        `  CPU per delivery (µs)          user   system\n` +
        `    servers (${nServers} processes)     ${us(cpu.server.user).padStart(7)}  ${us(cpu.server.system).padStart(7)}\n` +
        `    clients (${nClients} processes)     ${us(cpu.client.user).padStart(7)}  ${us(cpu.client.system).padStart(7)}\n` +
        `    machine (/proc/stat)      ${us(cpu.machine.user).padStart(7)}  ${us(cpu.machine.system).padStart(7)}` +
        `   irq+softirq ${us(cpu.machine.irq)}\n` +
        `  loadavg at end ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`,
    );
    if (latency.min < 0) console.log(`  note: a latency below 0 (${ms(latency.min)} ms): clocks disagree`);
    const result = {
      connections: n,
      servers: nServers,
      clients: nClients,
      broadcasts,
      intervalMs: interval,
      size,
      node: process.version,
      cpus: cpus().length,
      loadavgStart: loadStart,
      loadavgEnd: loadEnd,
      rampSeconds: r3(rampS),
      portFallbacks: fallbacks,
      deliveries: total,
      missing,
      latencyMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, r3(v)])),
      cpuPerDeliveryUs: {
        server: { user: r3(cpu.server.user), system: r3(cpu.server.system) },
        client: { user: r3(cpu.client.user), system: r3(cpu.client.system) },
        machine: { user: r3(cpu.machine.user), system: r3(cpu.machine.system), irq: r3(cpu.machine.irq) },
      },
      perBroadcast: results.map((r) => ({
        seq: r.seq,
        p50: r3(r.p50),
        p90: r3(r.p90),
        p99: r3(r.p99),
        max: r3(r.max),
        missing: r.missing,
        writeMs: r3(r.writeMs),
        serverWriteLoopCpuUs: r.serverWriteCpu,
        serverCpuUs: r.serverCpu,
        clientCpuUs: r.clientCpu,
        machineCpuMs: r.machine,
      })),
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
    process.exitCode = missing > 0 ? 1 : 0;
  } finally {
    await stopAll(children);
  }
}

const role = process.argv[2];
if (role === 'server') serverMain(JSON.parse(process.argv[3] ?? '{}') as ServerArgs);
else if (role === 'client') clientMain(JSON.parse(process.argv[3] ?? '{}') as ClientArgs);
else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
