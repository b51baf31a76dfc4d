import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * What the benchmark scripts share: their command-line options, and `holdfast serve` and
 * `holdfast bench` child processes (load and server apart), on loopback.
 */
export const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const BENCH_KEY = 'bench-key';

type Options<T> = { [K in keyof T]: T[K] extends boolean ? boolean : string };

/**
 * The command line's options (`--name value` or `--name=value`), each with its default (a
 * string, or a boolean for a switch). An unknown option is an error: a typo must not run the
 * default silently.
 */
export function options<T extends Record<string, string | boolean>>(defaults: T): Options<T> {
  const spec: Record<string, { type: 'string'; default: string } | { type: 'boolean'; default: boolean }> =
    {};
  for (const [name, value] of Object.entries(defaults)) {
    spec[name] =
      typeof value === 'boolean' ? { type: 'boolean', default: value } : { type: 'string', default: value };
  }
  return parseArgs({ options: spec, strict: true, allowPositionals: true }).values as Options<T>;
}

/** The options of the engine benchmarks: which engines, and where the brokers are. */
export const ENGINE_OPTIONS = {
  engines: 'memory,redis,nats',
  redis: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  nats: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
};

/** The engines named by `--engines`, each with its `--engine` value (`memory` or a broker URL). */
export function enginesOf(o: {
  engines: string;
  redis: string;
  nats: string;
}): { name: string; url: string }[] {
  return o.engines.split(',').map((name) => ({
    name,
    url: name === 'redis' ? o.redis : name === 'nats' ? o.nats : name,
  }));
}

/**
 * Arguments for `node` to run `holdfast serve` on a free loopback port with the bench's API
 * key, then `flags` (`{workers: '1'}` for `--workers 1`; they override those defaults).
 */
export function serveArgs(flags: Record<string, string> = {}): string[] {
  const all: Record<string, string> = { port: '0', host: '127.0.0.1', 'api-key': BENCH_KEY, ...flags };
  const args = [MAIN, 'serve'];
  for (const [k, v] of Object.entries(all)) args.push(`--${k}`, v);
  return args;
}

/** Arguments for `node` to run `holdfast bench` against `base` with the bench's API key, then `args`. */
export function benchArgs(base: string, args: readonly string[]): string[] {
  return [MAIN, 'bench', '--url', base, '--api-key', BENCH_KEY, ...args];
}

/**
 * The port a server child announces on stdout (`holdfast listening on http://host:port ...`,
 * or `listening <port>` from the reference servers); rejects when it exits first. The stdout
 * pipe keeps flowing afterwards (other 'data' listeners still get every chunk).
 */
export function listeningPort(child: ChildProcess, timeoutMs = 60_000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /listening (?:on http:\/\/[\d.]+:)?(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', onData);
        child.stdout!.resume(); // keep the pipe drained: a full one would block the server
        resolve(Number(m[1]));
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`the server exited early (${code}): ${out}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface ServeProc {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `holdfast serve` (serveArgs, quiet logs) as a child process, once it listens. */
export async function serve(flags: Record<string, string>): Promise<ServeProc> {
  const child = spawn(process.execPath, serveArgs({ 'log-level': 'warn', ...flags }), {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = `http://127.0.0.1:${await listeningPort(child, 20_000)}`;
  return {
    base,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function publish(base: string, channel: string, data: unknown): Promise<number> {
  const res = await fetch(`${base}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': BENCH_KEY },
    body: JSON.stringify({ channel, data }),
  });
  await res.arrayBuffer();
  return res.status;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A process's resident set (VmRSS from /proc/<pid>/status) in bytes; NaN if it is not there. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

/**
 * CPU time (user + system, in seconds) of a process and of its child processes (a server's
 * workers; not with `withChildren` false), from /proc/<pid>/stat (clock ticks of USER_HZ, 100
 * on Linux).
 */
export function cpuSeconds(pid: number, withChildren = true): number {
  const pids = [pid];
  for (const t of withChildren ? readdirSync(`/proc/${pid}/task`) : []) {
    const list = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
    if (list !== '') pids.push(...list.split(/\s+/).map(Number));
  }
  let ticks = 0;
  for (const p of pids) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}
