/**
 * Load shedding at the door (STYLE.md "Caps at the door"): a new long-lived connection is
 * refused — 503 with Retry-After for HTTP, close 1013 for WebSocket — when this worker holds its
 * maximum, when connections arrive faster than the allowed rate, or when the process's RSS is
 * over the memory watermark. Connected clients are never touched. RSS is sampled by one timer.
 */
export type Refusal = 'max_connections' | 'rate' | 'memory' | 'draining';

export interface AdmissionLimits {
  /** Long-lived connections this worker accepts (0: no cap). */
  maxConnections: number;
  /** New connections per second (0: no cap); bursts up to one second's worth. */
  maxNewPerSecond: number;
  /** Refuse new connections while RSS is above this many bytes (0: off). */
  memoryWatermarkBytes: number;
}

export class Admission {
  readonly #limits: AdmissionLimits;
  connections = 0;
  readonly refused: Record<Refusal, number> = { max_connections: 0, rate: 0, memory: 0, draining: 0 };
  #tokens: number;
  #lastRefill = Date.now();
  #rss = 0;
  #sampler: NodeJS.Timeout | null = null;
  draining = false;

  constructor(limits: AdmissionLimits, sampleRss: () => number = () => process.memoryUsage.rss()) {
    this.#limits = limits;
    this.#tokens = limits.maxNewPerSecond;
    if (limits.memoryWatermarkBytes > 0) {
      this.#rss = sampleRss();
      this.#sampler = setInterval(() => {
        this.#rss = sampleRss();
      }, 1000);
      this.#sampler.unref();
    }
  }

  /** Null when a new connection may come in (and is counted), else why not. */
  admit(now = Date.now()): Refusal | null {
    const why = this.#check(now);
    if (why !== null) {
      this.refused[why]++;
      return why;
    }
    this.connections++;
    return null;
  }

  #check(now: number): Refusal | null {
    const l = this.#limits;
    if (this.draining) return 'draining';
    if (l.maxConnections > 0 && this.connections >= l.maxConnections) return 'max_connections';
    if (l.memoryWatermarkBytes > 0 && this.#rss > l.memoryWatermarkBytes) return 'memory';
    if (l.maxNewPerSecond > 0) {
      const elapsed = now - this.#lastRefill;
      if (elapsed > 0) {
        this.#tokens = Math.min(l.maxNewPerSecond, this.#tokens + (elapsed * l.maxNewPerSecond) / 1000);
        this.#lastRefill = now;
      }
      if (this.#tokens < 1) return 'rate';
      this.#tokens -= 1;
    }
    return null;
  }

  /** A connection admitted earlier has ended. */
  release(): void {
    this.connections--;
  }

  stop(): void {
    if (this.#sampler !== null) clearInterval(this.#sampler);
    this.#sampler = null;
  }
}

/** Frames a client may send: a token bucket per connection, refilled lazily (no timers). */
export class FrameBudget {
  #tokens: number;
  #last: number;
  /** Frames refused since the last one allowed. */
  violations = 0;

  constructor(
    readonly perSecond: number,
    now = Date.now(),
  ) {
    this.#tokens = perSecond;
    this.#last = now;
  }

  take(now = Date.now()): boolean {
    if (this.perSecond <= 0) return true;
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.perSecond, this.#tokens + (elapsed * this.perSecond) / 1000);
      this.#last = now;
    }
    if (this.#tokens < 1) {
      this.violations++;
      return false;
    }
    this.#tokens -= 1;
    this.violations = 0;
    return true;
  }
}
