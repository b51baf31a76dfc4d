import type { Publication, StreamPosition } from '../../contract/stream.js';
import type {
  ControlMessage,
  HistoryResult,
  PresenceCount,
  PresenceEvent,
  PresenceMember,
} from '../types.js';

/**
 * Messages between workers and the primary over node:cluster IPC. Every message carries the
 * protocol version `v` and, from workers, the sender's worker id `from` (DESIGN.md: inter-process
 * messages carry a version and the sender's id). Requests carry an `id` answered by one `res`.
 */
export const PROTOCOL_VERSION = 1;

export type WorkerRequest =
  | { t: 'sub'; ch: string }
  | { t: 'unsub'; ch: string }
  | { t: 'pub'; ch: string; data: string }
  | { t: 'read'; ch: string; since?: StreamPosition; limit: number }
  | { t: 'channels' }
  // Presence (the primary holds every worker's members: cluster/hub.ts).
  | { t: 'pjoin'; ch: string; m: PresenceMember }
  | { t: 'pleave'; ch: string; client: string }
  | { t: 'pmembers'; ch: string }
  | { t: 'pstats'; ch: string }
  | { t: 'pbusiest'; limit: number };

export type ToPrimary =
  | ({ v: number; from: number; id: number } & WorkerRequest)
  | { v: number; from: number; t: 'ready'; port: number }
  | { v: number; from: number; t: 'channels-local'; id: number; channels: ChannelCount[] }
  /** A control message for every worker, the sender included (engines/control.ts); no answer. */
  | { v: number; from: number; t: 'control'; m: ControlMessage };

export interface ChannelCount {
  channel: string;
  subscribers: number;
}

export type ToWorker =
  | {
      v: number;
      t: 'res';
      id: number;
      result?:
        | Publication
        | HistoryResult
        | ChannelCount[]
        | PresenceMember[]
        | PresenceCount[]
        | { clients: number; users: number }
        | null;
      error?: string;
    }
  | { v: number; t: 'msgs'; pubs: Publication[] }
  /** Join and leave events of channels the worker follows, in the order the primary saw them. */
  | { v: number; t: 'presence'; evs: PresenceEvent[] }
  /** The primary asks for this worker's local channel counts (answered with channels-local). */
  | { v: number; t: 'channels?'; id: number }
  /** The primary's RSS in bytes, sent every second while a memory watermark is set (admission.ts). */
  | { v: number; t: 'primary-memory'; rss: number }
  | { v: number; t: 'drain' }
  /** A control message a worker sent, relayed to every worker (each validates it again). */
  | { v: number; t: 'control'; m: ControlMessage };

/** One end of an IPC pipe: node:cluster's process/worker channel, or an in-process pair in tests. */
export interface Port<In, Out> {
  send(msg: Out): void;
  onMessage(handler: (msg: In) => void): void;
  connected(): boolean;
}

export function isToPrimary(x: unknown): x is ToPrimary {
  return typeof x === 'object' && x !== null && (x as { v?: unknown }).v === PROTOCOL_VERSION && 't' in x;
}

export function isToWorker(x: unknown): x is ToWorker {
  return typeof x === 'object' && x !== null && (x as { v?: unknown }).v === PROTOCOL_VERSION && 't' in x;
}
