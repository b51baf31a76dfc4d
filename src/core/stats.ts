import type { Disconnect } from '../contract/codes.js';
import type { Publication } from '../contract/stream.js';

/**
 * Counters read by the metrics module (observe/metrics.ts) at scrape time: plain numbers and
 * maps bumped on the hot path, never a metrics-library call per message.
 */
export class NodeStats {
  publicationsIn = 0;
  deliveries = 0;
  gapsRefilled = 0;
  /** Bytes handed to transports for clients: publications, replies, control events. */
  bytesOut = 0;
  /** Client frames or commands that failed to parse or validate. */
  badFrames = 0;
  /** Presence joins or leaves the engine failed (the member is missing, or stays until reaped). */
  presenceErrors = 0;
  /** WebSocket and SSE sessions registered (Node.attach) since start, long-polls not: what the accept rate counts. */
  streamsOpened = 0;
  /** Sessions ended, by disconnect code (codes.ts). */
  readonly disconnects = new Map<number, number>();
  /** Connections refused before a session existed, by error code. */
  readonly rejected = new Map<string, number>();
  /** HTTP API answers by "route status". */
  readonly apiRequests = new Map<string, number>();
  /** Called once per publication after its local fan-out (delivery-latency histogram). */
  onFanout: ((pub: Publication) => void) | null = null;

  disconnected(reason: Disconnect): void {
    this.disconnects.set(reason.code, (this.disconnects.get(reason.code) ?? 0) + 1);
  }

  reject(code: string): void {
    this.rejected.set(code, (this.rejected.get(code) ?? 0) + 1);
  }

  apiRequest(route: string, status: number): void {
    const key = route + ' ' + status;
    this.apiRequests.set(key, (this.apiRequests.get(key) ?? 0) + 1);
  }
}
