import os from 'node:os';
import type { LatencySummary } from './histogram.js';
import type { BenchOptions } from './options.js';

/** One second of a run, as plotted in report.html. */
export interface Sample {
  t: number;
  phase: 'ramp' | 'publish' | 'drain';
  connected: number;
  connectErrors: number;
  deliveriesPerS: number;
  publishedPerS: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  errors: number;
  benchRssBytes: number;
  serverRssBytes: number | null;
  serverLagMs: number | null;
}

export interface Objectives {
  maxP99Ms: number;
  maxLost: number;
  maxConnectErrorRatio: number;
}

export interface FindLimitStep {
  step: number;
  clients: number;
  rate: number;
  held: boolean;
  reasons: string[];
  p99Ms: number;
  lost: number;
  connectErrors: number;
  peak: number;
  deliveriesPerS: number;
}

export interface Report {
  version: 1;
  startedAt: string;
  command: string[];
  machine: { cores: number; memoryBytes: number; node: string; platform: string; cpu: string };
  options: Omit<BenchOptions, 'apiKey' | 'publishHeaders'>;
  /** Seconds of publishing (the measured phase). */
  durationS: number;
  rampS: number;
  totalS: number;
  /** When publishing started and ended, in seconds since the run started (the plots' time). */
  publishFromS: number;
  publishToS: number;
  clients: {
    target: number;
    peak: number;
    connectErrors: number;
    /** Attempts whose own source port was taken, retried at once with a port the OS chose. */
    portFallbacks: number;
    disconnects: number;
    reconnects: number;
    reconnectedClients: number;
    unconfirmedSubscriptions: number;
  };
  messages: {
    published: number;
    /** Of which on the broadcast channel every client follows. */
    publishedBroadcast: number;
    publishFailures: number;
    /** Publish requests sent again once: their kept-alive socket was reset before any answer. */
    publishRetries: number;
    /** Failed publish requests by HTTP status or error code. */
    publishFailureReasons: Record<string, number>;
    expected: number;
    delivered: number;
    lost: number;
    duplicated: number;
    outOfOrder: number;
    misrouted: number;
    clientsWithLoss: number;
    clientsWithDuplicates: number;
    clientsWithOutOfOrder: number;
    /**
     * Arrivals out of the publisher's order of publications whose publish request had failed at
     * the bench but reached the server late (so the server gave them a later offset): the
     * publisher's inversions, left out of `outOfOrder`.
     */
    outOfOrderFailedPublish: number;
    /** Lost messages of clients that reconnected at least once, and whether there were any. */
    lostInReconnectedClients: number;
    lossAcrossReconnects: boolean;
    recoveryFailures: number;
    deliveriesPerS: number;
    /** Clients that stopped reading (`--stall-fraction`), counted apart from the figures above
     * (which are the readers'): their accounting, disconnects and reconnects. */
    stalled: {
      clients: number;
      expected: number;
      delivered: number;
      lost: number;
      duplicated: number;
      outOfOrder: number;
      clientsWithLoss: number;
      disconnects: number;
      reconnects: number;
    };
  };
  /** Delivery latency of every message, and of the broadcast channel's messages alone. */
  latency: { ms: LatencySummary; broadcastMs: LatencySummary };
  connect: { ms: LatencySummary };
  publish: { ms: LatencySummary };
  errors: number;
  bench: {
    processes: number;
    peakRssBytes: number;
    idleRssPerClientBytes: number | null;
    cpuSecondsPublishing: number;
    deliveriesPerCpuSecond: number | null;
  };
  server: { metrics: boolean; peakRssBytes: number | null; maxEventLoopLagMs: number | null };
  verdict: { held: boolean; reasons: string[]; objectives: Objectives };
  series: Sample[];
  findLimit?: { vary: 'clients' | 'rate'; steps: FindLimitStep[]; lastHeld: FindLimitStep | null };
}

export function machine(): Report['machine'] {
  return {
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
  };
}

/** Which objectives a run broke (empty: it held). */
export function judge(
  r: Pick<Report, 'latency' | 'messages' | 'clients'>,
  o: Objectives,
): { held: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (r.latency.ms.p99 > o.maxP99Ms) reasons.push(`p99 delivery ${r.latency.ms.p99} ms > ${o.maxP99Ms} ms`);
  if (r.messages.lost > o.maxLost) reasons.push(`${r.messages.lost} messages lost > ${o.maxLost}`);
  const ratio = r.clients.target > 0 ? r.clients.connectErrors / r.clients.target : 0;
  if (ratio > o.maxConnectErrorRatio)
    reasons.push(
      `connect errors ${(ratio * 100).toFixed(2)}% > ${(o.maxConnectErrorRatio * 100).toFixed(2)}%`,
    );
  if (r.messages.duplicated > 0 && o.maxLost === 0) reasons.push(`${r.messages.duplicated} duplicates`);
  if (r.messages.misrouted > 0) reasons.push(`${r.messages.misrouted} messages on channels not followed`);
  if (r.messages.publishFailures > 0) reasons.push(`${r.messages.publishFailures} publish requests failed`);
  return { held: reasons.length === 0, reasons };
}
