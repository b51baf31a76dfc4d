/**
 * Reconnect delays: full-jitter exponential back-off (a uniform draw in [0, min(cap, base * 2^n))),
 * so that many clients losing one server spread their returns over the whole window instead of
 * coming back together.
 */
export interface BackoffPolicy {
  /** Upper bound of the first delay, in milliseconds. */
  baseMs: number;
  /** Upper bound of every delay, in milliseconds. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/** The delay before attempt `attempt` (0 for the first), with `random` in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const window = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * window);
}

/** `Retry-After` as seconds (the only form Holdfast sends), in milliseconds; null when absent or not a number. */
export function retryAfterMs(header: string | null): number | null {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Number(header.trim()) * 1000;
}
