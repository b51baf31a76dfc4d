/** Reconnection back-off for broker connections: doubling from 100 ms up to 3 s, with jitter. */
export function backoff(attempt: number): number {
  const base = Math.min(100 * 2 ** Math.min(Math.max(attempt, 1) - 1, 5), 3000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Rejects with `message` when `p` has not settled within `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
