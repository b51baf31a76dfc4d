/**
 * Restart policy for crashed workers, after OTP's one_for_one supervisor: a worker that exits
 * unexpectedly is restarted after a back-off that grows with recent crashes; more than
 * `maxRestarts` restarts within `windowMs` means something is deeply wrong, and the supervisor
 * gives up (the caller stops the server loudly). Pure: the caller forks and schedules.
 */
export interface RestartPolicy {
  maxRestarts: number;
  windowMs: number;
  /** First back-off; doubles with each restart still inside the window, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

export class RestartIntensity {
  readonly #policy: RestartPolicy;
  readonly #recent: number[] = [];
  total = 0;

  constructor(policy: RestartPolicy) {
    this.#policy = policy;
  }

  /** Records a crash at `now` and says whether to restart, and after how long. */
  onCrash(now: number): RestartDecision {
    const { maxRestarts, windowMs, baseDelayMs, maxDelayMs } = this.#policy;
    while (this.#recent.length > 0 && this.#recent[0]! <= now - windowMs) this.#recent.shift();
    if (this.#recent.length >= maxRestarts) {
      return {
        restart: false,
        reason: `more than ${maxRestarts} worker restarts within ${windowMs / 1000} s`,
      };
    }
    this.#recent.push(now);
    this.total++;
    const delayMs = Math.min(maxDelayMs, baseDelayMs * 2 ** (this.#recent.length - 1));
    return { restart: true, delayMs };
  }
}
