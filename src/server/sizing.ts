import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** File descriptors a worker keeps for itself (listening socket, IPC, logs, broker links): 5%, at most 1,000. */
export function fdReserve(fdLimit: number): number {
  return Math.min(1000, Math.floor(fdLimit * 0.05));
}

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits (null when unreadable). */
export function openFilesLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(text);
  if (m === null) return null;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/**
 * Workers for `auto`: one per core, more when the connection target needs them given the
 * per-process open-files limit (e.g. 100,000 connections at 20,000 files each: 6 workers).
 */
export function autoWorkers(
  connections: number,
  fdLimit: number | null,
  cores = availableParallelism(),
): number {
  let n = Math.max(1, cores);
  if (connections > 0 && fdLimit !== null) {
    const perWorker = Math.max(1, fdLimit - fdReserve(fdLimit));
    n = Math.max(n, Math.ceil(connections / perWorker));
  }
  return n;
}

export function resolveWorkers(setting: string, connections: number): number {
  return setting === 'auto' ? autoWorkers(connections, openFilesLimit()) : Number(setting);
}
