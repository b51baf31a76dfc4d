/**
 * What reads of never-published channels leave behind in a server: the memory of a Holdfast
 * server (primary and workers) before and after `--requests` SSE requests, each following
 * `--channels-per-request` channel names that nothing ever publishes to (600 x 128 = 76,800
 * names by default), by clients that leave once every subscription is confirmed.
 *
 * Starts `holdfast serve --workers W` (memory engine, default settings) from the built checkout
 * `--dir` (default: this one, so an older commit built in another worktree is measured by the
 * same script), forces a full GC in every process of the server, reads VmRSS (/proc/<pid>/status)
 * and heapUsed (its /metrics), runs the requests `--parallel` at a time, waits `--settle` seconds
 * with no client connected, reads again, forces a full GC once more and reads a third time.
 * `--same` is the control: every request follows the same names, so what remains is what the
 * requests themselves leave, with no new names.
 *
 * The GC goes through the inspector, one process at a time: SIGUSR1 opens it on 127.0.0.1:9229,
 * three HeapProfiler.collectGarbage, then process._debugEnd() closes it before the next process.
 * The run refuses to start a GC while something else answers on 9229, and checks that the
 * inspector it reached is the process it signalled.
 *
 * Usage: npm run build && node dist/bench/read-state.js [--requests 600] [--channels-per-request 128]
 *          [--parallel 24] [--workers 2] [--settle 30] [--same] [--dir <built checkout>]
 * Loopback only; the server it starts is ended by PID; the run stops by itself (10-minute deadline).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { BENCH_KEY, listeningPort, options, rssBytes, serveArgs } from './serve-proc.js';

const opts = options({
  requests: '600',
  'channels-per-request': '128',
  parallel: '24',
  workers: '2',
  settle: '30',
  same: false,
  dir: '',
});

const REQUESTS = Number(opts.requests);
const PER = Number(opts['channels-per-request']);
const PARALLEL = Number(opts.parallel);
const SETTLE_MS = Number(opts.settle) * 1000;
const DIR = resolve(opts.dir === '' ? fileURLToPath(new URL('../..', import.meta.url)) : opts.dir);
const INSPECTOR = 'http://127.0.0.1:9229';
const RUN_DEADLINE_MS = 10 * 60_000;
const MARK = 'event: subscribed\n';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

interface Reading {
  /** VmRSS of primary and workers, MiB. */
  totalMiB: number;
  primaryMiB: number;
  workersMiB: number[];
  /** heapUsed from /metrics (holdfast_primary_memory_bytes, holdfast_memory_bytes), MiB. */
  primaryHeapMiB: number | null;
  workersHeapMiB: number[];
}

interface CdpReply {
  id?: number;
  result?: { result?: { value?: unknown } };
  error?: { message: string };
}

/** PIDs of a process's children (the server's workers). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const list = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (list !== '') out.push(...list.split(/\s+/).map(Number));
  }
  return out;
}

async function inspectorTargets(): Promise<{ webSocketDebuggerUrl: string }[] | null> {
  try {
    return (await (await fetch(`${INSPECTOR}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  } catch {
    return null;
  }
}

/** A full GC in process `pid` through its inspector, opened by SIGUSR1 and closed again. */
async function collect(pid: number): Promise<void> {
  for (let i = 0; (await inspectorTargets()) !== null; i++) {
    if (i > 50) throw new Error(`something else answers on ${INSPECTOR}: not signalling ${pid}`);
    await sleep(100);
  }
  process.kill(pid, 'SIGUSR1');
  let list: { webSocketDebuggerUrl: string }[] | null = null;
  for (let i = 0; i < 100 && list === null; i++) {
    list = await inspectorTargets();
    if (list === null) await sleep(50);
  }
  const target = list?.[0];
  if (target === undefined) throw new Error(`process ${pid} opened no inspector on ${INSPECTOR}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise<void>((ok, fail) => {
    ws.once('open', () => ok());
    ws.once('error', fail);
  });
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}): Promise<CdpReply> =>
    new Promise((ok, fail) => {
      const mine = ++id;
      const timer = setTimeout(() => fail(new Error(`${method} in ${pid}: no answer in 30 s`)), 30_000);
      const on = (raw: WebSocket.RawData): void => {
        const m = JSON.parse(raw.toString()) as CdpReply;
        if (m.id !== mine) return;
        ws.off('message', on);
        clearTimeout(timer);
        if (m.error !== undefined) fail(new Error(`${method} in ${pid}: ${m.error.message}`));
        else ok(m);
      };
      ws.on('message', on);
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    const who = await call('Runtime.evaluate', { expression: 'process.pid', returnByValue: true });
    if (who.result?.result?.value !== pid) {
      throw new Error(`the inspector on 9229 is process ${String(who.result?.result?.value)}, not ${pid}`);
    }
    for (let i = 0; i < 3; i++) await call('HeapProfiler.collectGarbage');
    // Not awaited: the inspector closes before it could answer.
    ws.send(
      JSON.stringify({ id: ++id, method: 'Runtime.evaluate', params: { expression: 'process._debugEnd()' } }),
    );
    await sleep(300);
  } finally {
    ws.terminate();
  }
  for (let i = 0; (await inspectorTargets()) !== null; i++) {
    if (i > 50) throw new Error(`the inspector of ${pid} did not close`);
    await sleep(100);
  }
}

async function heaps(base: string): Promise<{ primary: number | null; workers: number[] }> {
  const text = await (await fetch(`${base}/metrics`, { headers: { 'x-api-key': BENCH_KEY } })).text();
  const p = /^holdfast_primary_memory_bytes\{kind="heap_used"\} (\d+)/m.exec(text);
  const workers: number[] = [];
  for (const m of text.matchAll(/^holdfast_memory_bytes\{([^}]*)\} (\d+)/gm)) {
    if (m[1]!.includes('kind="heap_used"')) workers.push(mib(Number(m[2])));
  }
  return { primary: p === null ? null : mib(Number(p[1])), workers };
}

async function reading(primary: number, base: string): Promise<Reading> {
  const workerRss = childrenOf(primary).map(rssBytes);
  const primaryRss = rssBytes(primary);
  const heap = await heaps(base);
  return {
    totalMiB: mib(primaryRss + workerRss.reduce((a, b) => a + b, 0)),
    primaryMiB: mib(primaryRss),
    workersMiB: workerRss.map(mib),
    primaryHeapMiB: heap.primary,
    workersHeapMiB: heap.workers,
  };
}

function show(label: string, r: Reading): void {
  console.log(
    `${label.padEnd(22)} RSS total ${r.totalMiB.toFixed(1)} MiB (primary ${r.primaryMiB.toFixed(1)}, ` +
      `workers ${r.workersMiB.map((w) => w.toFixed(1)).join(' + ')}); heapUsed primary ` +
      `${r.primaryHeapMiB?.toFixed(1) ?? '?'}, workers ${r.workersHeapMiB.map((w) => w.toFixed(1)).join(' + ')} MiB`,
  );
}

/** One SSE request following PER channels; resolves once each is confirmed, and leaves. */
function follow(port: number, i: number): Promise<void> {
  const names = Array.from({ length: PER }, (_, k) => (opts.same ? `same:${k}` : `never:${i}:${k}`));
  const query = names.map((n) => `channel=${encodeURIComponent(n)}`).join('&');
  return new Promise((ok, fail) => {
    const req = request(`http://127.0.0.1:${port}/sse?${query}`, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(new Error(`request ${i}: status ${res.statusCode}`));
        return;
      }
      let seen = 0;
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const text = tail + chunk;
        for (let at = text.indexOf(MARK); at >= 0; at = text.indexOf(MARK, at + MARK.length)) seen++;
        // The end of the chunk may hold the start of a mark (too short to hold a whole one).
        tail = text.slice(Math.max(0, text.length - MARK.length + 1));
        if (seen >= PER) {
          clearTimeout(timer);
          req.destroy();
          ok();
        }
      });
      res.on('error', () => undefined);
    });
    const timer = setTimeout(() => {
      req.destroy();
      fail(new Error(`request ${i}: not every subscription confirmed in 30 s`));
    }, 30_000);
    req.on('error', (e) => {
      if (!req.destroyed) fail(e);
    });
    req.end();
  });
}

async function ready(base: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/ready`)).status === 200) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error('the server did not get ready in 30 s');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

async function main(): Promise<void> {
  const entry = join(DIR, 'dist/src/cli/main.js');
  const args = [entry, ...serveArgs({ workers: opts.workers, 'log-level': 'warn' }).slice(1)];
  const child = spawn(process.execPath, args, { cwd: DIR, stdio: ['ignore', 'pipe', 'inherit'] });
  const deadline = setTimeout(() => {
    console.error('read-state: run deadline passed');
    child.kill('SIGKILL');
    process.exit(2);
  }, RUN_DEADLINE_MS);
  deadline.unref();
  try {
    const port = await listeningPort(child);
    const base = `http://127.0.0.1:${port}`;
    const primary = child.pid!;
    await ready(base);
    const rev = await new Promise<string>((ok) => {
      const git = spawn('git', ['-C', DIR, 'rev-parse', '--short', 'HEAD'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      git.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      git.once('close', () => ok(out.trim() || '?'));
    });
    const started = new Date().toISOString();
    console.log(
      `read-state: ${DIR} (${rev}), node ${process.version}, ${opts.workers} workers, primary pid ${primary}; ` +
        `${REQUESTS} requests x ${PER} channels, ${PARALLEL} at a time, ` +
        `${opts.same ? 'the same names in every request (control)' : 'new names in every request'}; ${started}`,
    );
    await sleep(3000);
    const gcAll = async (): Promise<void> => {
      for (const pid of [primary, ...childrenOf(primary)]) await collect(pid);
      await sleep(2000);
    };
    await gcAll();
    const before = await reading(primary, base);
    show('before (after GC)', before);
    const t0 = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < REQUESTS) await follow(port, next++);
      }),
    );
    const loadS = (Date.now() - t0) / 1000;
    const names = opts.same ? PER : REQUESTS * PER;
    console.log(
      `followed ${names} distinct names in ${REQUESTS} requests in ${loadS.toFixed(1)} s; clients gone`,
    );
    await sleep(SETTLE_MS);
    const after = await reading(primary, base);
    show(`after ${opts.settle} s (no GC)`, after);
    await gcAll();
    const afterGc = await reading(primary, base);
    show('after (after GC)', afterGc);
    const growth = Math.round((after.totalMiB - before.totalMiB) * 10) / 10;
    const growthAfterGc = Math.round((afterGc.totalMiB - before.totalMiB) * 10) / 10;
    console.log(`growth: ${growth.toFixed(1)} MiB before GC, ${growthAfterGc.toFixed(1)} MiB after GC`);
    const result = {
      dir: DIR,
      rev,
      started,
      same: opts.same,
      requests: REQUESTS,
      channelsPerRequest: PER,
      names,
      workers: Number(opts.workers),
      loadSeconds: loadS,
      before,
      after,
      afterGc,
      growthMiB: growth,
      growthAfterGcMiB: growthAfterGc,
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  } finally {
    await stop(child);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
