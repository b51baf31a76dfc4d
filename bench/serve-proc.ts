import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `holdfast serve` child processes for the engine benchmarks (load and server apart). */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const BENCH_KEY = 'bench-key';

export interface ServeProc {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function serve(flags: Record<string, string>): Promise<ServeProc> {
  const args = [
    MAIN,
    'serve',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--api-key',
    BENCH_KEY,
    '--log-level',
    'warn',
  ];
  for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, v);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /holdfast listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
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

export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
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
