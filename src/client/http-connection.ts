import { HoldfastClientError } from './errors.js';
import type { Connection, Ended, Fetch, Link, TransportEvents, TransportName } from './transport.js';

/**
 * What the SSE and long-poll connections share: one request at a time for the client's channels
 * (`run`), a new one when the channel list changes (every change of one turn together), and an
 * end told once. Each request has a generation, so the end of one that a restart cut is not taken
 * for the connection's.
 */
export abstract class HttpConnection implements Connection {
  abstract readonly name: TransportName;
  protected readonly url: string;
  protected readonly fetch: Fetch;
  protected readonly link: Link;
  protected readonly events: TransportEvents;
  /** The current request's generation. */
  protected generation = 0;
  protected opened = false;
  protected ended = false;
  #abort: AbortController | null = null;
  #restartQueued = false;

  constructor(url: string, fetchImpl: Fetch, link: Link, events: TransportEvents) {
    this.url = url;
    this.fetch = fetchImpl;
    this.link = link;
    this.events = events;
    this.start();
  }

  /** One request (an SSE stream, a poll) for `channels`, generation `gen`. */
  protected abstract run(gen: number, channels: readonly string[], signal: AbortSignal): Promise<void>;

  follow(): void {
    this.#queueRestart();
  }

  leave(): void {
    this.#queueRestart();
  }

  call(): Promise<Record<string, unknown>> {
    return Promise.reject(
      new HoldfastClientError('unsupported', 'This operation needs the WebSocket transport.'),
    );
  }

  close(): void {
    this.ended = true;
    this.#abort?.abort();
  }

  /** Cuts the current request, if any, and makes the next one for the channels of now. */
  protected start(): void {
    if (this.ended) return;
    this.#abort?.abort();
    this.#abort = null;
    const gen = ++this.generation;
    const channels = this.link.channels();
    if (channels.length === 0) return;
    const abort = new AbortController();
    this.#abort = abort;
    void this.run(gen, channels, abort.signal);
  }

  /** The connection answered: tells the client once. */
  protected markOpened(): void {
    if (this.opened) return;
    this.opened = true;
    this.events.opened();
  }

  /** Request `gen` ended the connection with `end` (unless a restart or close came first). */
  protected finish(gen: number, end: Ended): void {
    if (gen !== this.generation || this.ended) return;
    this.ended = true;
    this.#abort?.abort();
    this.events.ended(end);
  }

  #queueRestart(): void {
    if (this.#restartQueued || this.ended) return;
    this.#restartQueued = true;
    queueMicrotask(() => {
      this.#restartQueued = false;
      this.start();
    });
  }
}
