import { Checker } from './checker.js';
import { type Histogram, newHistogram, recordMs } from './histogram.js';
import { isStalled, type Transport } from './options.js';
import { scanMarkers } from './payload.js';

/** What a child process needs to run its share of the clients (plain data, sent over IPC). */
export interface WorkerPlan {
  /** Global index of this child's first client, and how many it runs. */
  firstClient: number;
  count: number;
  transports: Transport[];
  /** Channel index of each client (the broadcast channel is `channels`). */
  channels: number;
  channelNames: string[];
  protocol: 'holdfast' | 'generic';
  /** Filled URL templates per client transport, {channel}/{broadcast}/{cursor} still open. */
  wsUrl: string;
  sseUrl: string;
  pollUrl: string;
  subscribeMessage: string;
  /** Source address per client ('' = let the OS choose). */
  sourceAddresses: string[];
  /** Source port per client (0 = let the OS choose; used with a source address only). */
  sourcePorts: number[];
  /** Connections this child opens per second, and at most this many attempts at once. */
  ramp: number;
  maxConnecting: number;
  /** Share of the clients that stop reading once subscribed, and when they read again (s after
   * the child started; 0: never). */
  stallFraction: number;
  stallResume: number;
}

export const now = (): number => performance.timeOrigin + performance.now();

/**
 * A copy of a short string cut from a large one. V8 keeps a slice pointing into its parent,
 * so a cursor cut from a read chunk would hold the whole chunk for as long as it is kept.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * What every client transport shares: its number, channel, state and the reconnect policy.
 * Subscriptions are numbered 2 * local + 0 (its own channel) and 2 * local + 1 (broadcast).
 */
export abstract class BenchClient {
  readonly pool: Pool;
  readonly local: number;
  readonly channel: number;
  readonly source: string;
  /** Source port with `source` (0: the OS chooses); set to 0 for good once binding it failed. */
  sourcePort: number;
  /** 0 idle, 1 connecting, 2 open, 3 waiting to reconnect, 4 stopped. */
  state = 0;
  attempt = 0;
  connectStart = 0;
  wasOpen = false;
  timer: NodeJS.Timeout | null = null;
  /** One of the clients that stop reading once subscribed (counted apart). */
  readonly stalls: boolean;
  /** Reading is paused on the current connection. */
  paused = false;

  constructor(pool: Pool, local: number, channel: number, source: string) {
    this.pool = pool;
    this.local = local;
    this.channel = channel;
    this.source = source;
    this.sourcePort = source === '' ? 0 : (pool.plan.sourcePorts[local] ?? 0);
    this.stalls = isStalled(pool.plan.firstClient + local, pool.plan.stallFraction);
  }

  abstract connect(): void;
  abstract close(): void;
  /** Stops reading from the connection (the server's data waits in the socket buffers). */
  abstract pauseReading(): void;
  abstract resumeReading(): void;

  /** A stalled client stops reading once the server confirmed a subscription. */
  stall(): void {
    if (!this.stalls || this.paused || this.pool.stallOver || this.state !== 2) return;
    this.paused = true;
    this.pool.paused++;
    this.pauseReading();
  }

  /** Reads again (the stall is over). */
  unstall(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pool.paused--;
    this.resumeReading();
  }

  /** Subscription number for a channel index, or -1 when the client does not follow it. */
  sub(channel: number): number {
    if (channel === this.channel) return this.local * 2;
    if (channel === this.pool.plan.channels) return this.local * 2 + 1;
    return -1;
  }

  beginConnect(): void {
    this.state = 1;
    this.connectStart = now();
    this.pool.connecting++;
  }

  /** The connection is usable (handshake done). */
  opened(): void {
    if (this.state !== 1) return;
    this.pool.connecting--;
    this.state = 2;
    this.attempt = 0;
    this.pool.connected++;
    if (this.pool.connected > this.pool.peak) this.pool.peak = this.pool.connected;
    recordMs(this.pool.connectHist, now() - this.connectStart);
    if (this.wasOpen) {
      if (this.stalls) this.pool.stalledReconnects++;
      else this.pool.reconnects++;
      this.pool.reconnectsPerClient[this.local]!++;
    }
    this.wasOpen = true;
  }

  /** A subscription is confirmed by the server (first confirmation counts). */
  confirmed(sub: number): void {
    if (sub < 0) return;
    if (this.pool.confirmedAt[sub] === Number.POSITIVE_INFINITY) this.pool.confirmedAt[sub] = now();
    const cf = this.pool.confirmedAt;
    const both =
      cf[this.local * 2]! < Number.POSITIVE_INFINITY && cf[this.local * 2 + 1]! < Number.POSITIVE_INFINITY;
    if (this.stalls && both) this.stall();
  }

  /** The connection failed or ended; reconnect with jittered exponential back-off. */
  lost(error: boolean): void {
    if (this.state === 4 || this.state === 3 || this.state === 0) return;
    if (this.paused) {
      this.paused = false;
      this.pool.paused--;
    }
    if (this.state === 1) {
      this.pool.connecting--;
      this.pool.connectErrors++;
    } else {
      this.pool.connected--;
      if (this.stalls) this.pool.stalledDisconnects++;
      else this.pool.disconnects++;
      if (error) this.pool.errors++;
    }
    this.state = 3;
    if (!this.pool.running) {
      this.state = 4;
      return;
    }
    const base = Math.min(200 * 2 ** this.attempt, 10_000);
    this.attempt++;
    this.timer = setTimeout(reconnect, base * (0.5 + Math.random()), this);
  }

  stop(): void {
    if (this.paused) {
      this.paused = false;
      this.pool.paused--;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.state === 1) this.pool.connecting--;
    if (this.state === 2) this.pool.connected--;
    this.state = 4;
    this.close();
  }

  /** Scans text for publications and records each one. */
  scan(text: string): number {
    current = this;
    currentNow = now();
    return scanMarkers(text, onMarker);
  }
}

function reconnect(c: BenchClient): void {
  c.timer = null;
  if (c.state !== 3 || !c.pool.running) return;
  c.connect();
}

let current: BenchClient | null = null;
let currentNow = 0;

function onMarker(channel: number, seq: number, sentAt: number): void {
  const c = current!;
  const sub = c.sub(channel);
  const pool = c.pool;
  if (sub < 0) {
    pool.misrouted++;
    return;
  }
  pool.deliveries++;
  // One histogram per message (each recording costs CPU per delivery: docs/BENCHMARKS.md,
  // "Where a delivery's CPU goes"); the tick adds broadcasts to all.
  if (channel === pool.plan.channels) recordMs(pool.broadcastHist, currentNow - sentAt);
  else recordMs(pool.latencyHist, currentNow - sentAt);
  pool.checker.receive(sub, seq);
  lastSub = sub;
}

/** The subscription of the last marker scanned (for offsets carried next to it). */
export let lastSub = -1;
export function resetLastSub(): void {
  lastSub = -1;
}

/** One child's clients and their shared counters. */
export class Pool {
  readonly plan: WorkerPlan;
  readonly checker: Checker;
  readonly confirmedAt: Float64Array;
  readonly reconnectsPerClient: Uint16Array;
  readonly clients: BenchClient[] = [];
  /** Delivery latency of the per-channel publications (the tick adds broadcastHist: all deliveries). */
  latencyHist: Histogram = newHistogram();
  connectHist: Histogram = newHistogram();
  /** Delivery latency of the broadcast channel's publications only. */
  broadcastHist: Histogram = newHistogram();
  running = true;
  /** Stalled clients read again (after `stallResume`). */
  stallOver = false;
  /** Clients whose reading is paused now. */
  paused = 0;
  /** Disconnects and reconnects of stalled clients (not in `disconnects`/`reconnects`). */
  stalledDisconnects = 0;
  stalledReconnects = 0;
  started = 0;
  connecting = 0;
  connected = 0;
  peak = 0;
  connectErrors = 0;
  portFallbacks = 0;
  disconnects = 0;
  reconnects = 0;
  deliveries = 0;
  misrouted = 0;
  errors = 0;
  recoveryFailures = 0;
  /** Holdfast SSE `disconnect` events received. */
  disconnectEvents = 0;

  constructor(plan: WorkerPlan) {
    this.plan = plan;
    this.checker = new Checker(plan.count * 2);
    this.confirmedAt = new Float64Array(plan.count * 2).fill(Number.POSITIVE_INFINITY);
    this.reconnectsPerClient = new Uint16Array(plan.count);
  }

  /** The channel index of local client i: clients are spread round-robin. */
  channelOf(local: number): number {
    return (this.plan.firstClient + local) % this.plan.channels;
  }
}
