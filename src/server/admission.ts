/**
 * Load shedding at the door (STYLE.md "Caps at the door"): a new long-lived connection is
 * refused — 503 with Retry-After for HTTP, close 1013 for WebSocket — when this worker holds its
 * maximum, when connections arrive faster than the allowed rate, or when the process's RSS, or
 * that of another process it counts (the cluster primary, which holds history for every worker),
 * is over the memory watermark. Connected clients are never touched. RSS is sampled by one timer.
 */
export type Refusal = 'max_connections' | 'rate' | 'memory' | 'draining';

/**
 * What is coming in: a request for a new long-lived stream (WebSocket upgrade, SSE), refused by
 * every cap including the accept rate; or a long-poll request, refused by the other caps only.
 *
 * The accept rate counts streams, not requests: a token is taken once for every new WebSocket
 * or SSE stream the Node registers (Node.attach with 'stream', counted by `opened`): a WebSocket
 * whose handshake was answered, an SSE stream whose head was written. Long-polls neither take a
 * token nor are refused by the rate: a poll is one request among many of a client (a client on
 * HTTP/1.0 or `Connection: close` makes a new session per poll), and whether it continues a
 * session parked on its connection is not known at the door, so charging them would let polls
 * starve the streams the rate is there to pace. Checks only look: plain GETs (/health,
 * /metrics, the API, the dashboard), long-polls, requests refused by validation or by a cap,
 * and checks repeated for one request (the fast path's, then node:http's) take nothing.
 */
export type AdmissionKind = 'stream' | 'poll';

export interface AdmissionLimits {
  /** Long-lived connections this worker accepts (0: no cap). */
  maxConnections: number;
  /** New connections per second (0: no cap); bursts up to one second's worth. */
  maxNewPerSecond: number;
  /** Refuse new connections while an RSS counted (own, or countAlso's) is above this many bytes (0: off). */
  memoryWatermarkBytes: number;
}

export class Admission {
  readonly #limits: AdmissionLimits;
  /** Long-lived connections held now (the Node's session count). */
  readonly #current: () => number;
  /** WebSocket and SSE streams registered so far (monotonic); each one opened since the last check takes a token. */
  readonly #opened: () => number;
  #openedSeen: number;
  #tokens: number;
  #lastRefill = Date.now();
  #rss = 0;
  #sampler: NodeJS.Timeout | null = null;
  /** RSS of other processes the watermark counts (countAlso). */
  readonly #others: (() => number)[] = [];
  draining = false;

  constructor(
    limits: AdmissionLimits,
    current: () => number,
    sampleRss: () => number = () => process.memoryUsage.rss(),
    opened: () => number = () => 0,
  ) {
    this.#limits = limits;
    this.#current = current;
    this.#opened = opened;
    this.#openedSeen = opened();
    this.#tokens = limits.maxNewPerSecond;
    if (limits.memoryWatermarkBytes > 0) {
      this.#rss = sampleRss();
      this.#sampler = setInterval(() => {
        this.#rss = sampleRss();
      }, 1000);
      this.#sampler.unref();
    }
  }

  /**
   * The watermark also refuses while `rss()` (another process's RSS in bytes, as last reported;
   * 0 while unknown) is above it: each process is held to it, whichever grows.
   */
  countAlso(rss: () => number): void {
    this.#others.push(rss);
  }

  #overWatermark(bytes: number): boolean {
    if (this.#rss > bytes) return true;
    for (const other of this.#others) if (other() > bytes) return true;
    return false;
  }

  /**
   * Null when a new connection may come in, else why not. Takes nothing: the streams opened since
   * the last check are charged to the accept rate here (see AdmissionKind). Refusals are counted
   * by whoever answers them (NodeStats.reject).
   */
  check(now = Date.now(), kind: AdmissionKind = 'stream'): Refusal | null {
    const l = this.#limits;
    if (this.draining) return 'draining';
    if (l.maxConnections > 0 && this.#current() >= l.maxConnections) return 'max_connections';
    if (l.memoryWatermarkBytes > 0 && this.#overWatermark(l.memoryWatermarkBytes)) return 'memory';
    if (l.maxNewPerSecond > 0) {
      this.#charge(now);
      if (kind === 'stream' && this.#tokens < 1) return 'rate';
    }
    return null;
  }

  /**
   * Refills the bucket for the time passed and takes a token per stream opened since the last
   * call. It never goes below empty: streams that passed their checks together before any of
   * them opened keep it empty rather than owing tokens for later.
   */
  #charge(now: number): void {
    const l = this.#limits;
    const elapsed = now - this.#lastRefill;
    if (elapsed > 0) {
      this.#tokens = Math.min(l.maxNewPerSecond, this.#tokens + (elapsed * l.maxNewPerSecond) / 1000);
      this.#lastRefill = now;
    }
    const opened = this.#opened();
    this.#tokens = Math.max(0, this.#tokens - (opened - this.#openedSeen));
    this.#openedSeen = opened;
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
