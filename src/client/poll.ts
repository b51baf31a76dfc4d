import { HoldfastClientError } from './errors.js';
import { channelUrl, lost, refusal, requestHeaders } from './http-refusal.js';
import { parseCursor } from './resume.js';
import type { Connection, Ended, Fetch, Link, TransportEvents } from './transport.js';

interface PollAnswer {
  cursor?: unknown;
  messages?: unknown;
  reset?: unknown;
}

/**
 * Long-polling `/poll` (README "Long-poll") with `fetch`: one request at a time, each with the
 * cursor of every channel from the client's positions (a channel without one starts from now:
 * the server answers it at once with a reset that gives its position). A subscribe or
 * unsubscribe cuts the held poll and polls again with the new channel list.
 */
export class PollConnection implements Connection {
  readonly name = 'poll';
  readonly #url: string;
  readonly #fetch: Fetch;
  readonly #link: Link;
  readonly #events: TransportEvents;
  #abort: AbortController | null = null;
  /** Counts polls, so a cut poll's failure is not taken for the connection's end. */
  #poll = 0;
  #restartQueued = false;
  #opened = false;
  #ended = false;

  constructor(url: string, fetchImpl: Fetch, link: Link, events: TransportEvents) {
    this.#url = url;
    this.#fetch = fetchImpl;
    this.#link = link;
    this.#events = events;
    this.#next();
  }

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
    this.#ended = true;
    this.#abort?.abort();
  }

  #queueRestart(): void {
    if (this.#restartQueued || this.#ended) return;
    this.#restartQueued = true;
    queueMicrotask(() => {
      this.#restartQueued = false;
      this.#next();
    });
  }

  #next(): void {
    if (this.#ended) return;
    this.#abort?.abort();
    this.#abort = null;
    const poll = ++this.#poll;
    const channels = this.#link.channels();
    if (channels.length === 0) return;
    const abort = new AbortController();
    this.#abort = abort;
    void this.#request(poll, channels, abort.signal);
  }

  async #request(poll: number, channels: readonly string[], signal: AbortSignal): Promise<void> {
    const url = channelUrl(this.#url, channels, { cursor: this.#link.cursor(channels) });
    let end: Ended;
    try {
      const res = await this.#fetch(url, {
        headers: requestHeaders(this.#link.token(), 'application/json'),
        signal,
      });
      if (poll !== this.#poll) return;
      if (res.status === 200) {
        const answer = (await res.json()) as PollAnswer;
        if (poll !== this.#poll || this.#ended) return;
        if (!this.#opened) {
          this.#opened = true;
          this.#events.opened();
        }
        this.#deliver(channels, answer);
        if (poll === this.#poll) this.#next();
        return;
      }
      end = await refusal(res, this.#opened);
    } catch (err) {
      end = lost(this.#opened, err);
    }
    if (poll !== this.#poll || this.#ended) return;
    this.#ended = true;
    this.#events.ended(end);
  }

  #deliver(channels: readonly string[], answer: PollAnswer): void {
    const ev = this.#events;
    if (Array.isArray(answer.reset)) {
      for (const r of answer.reset as Record<string, unknown>[]) {
        if (typeof r?.['channel'] !== 'string') continue;
        ev.subscribed(r['channel'], String(r['epoch'] ?? ''), Number(r['offset'] ?? 0), false);
      }
    }
    if (Array.isArray(answer.messages)) {
      for (const m of answer.messages as Record<string, unknown>[]) {
        if (typeof m?.['channel'] === 'string' && typeof m['offset'] === 'number') {
          ev.message(m['channel'], m['offset'], m['data']);
        }
      }
    }
    const positions = typeof answer.cursor === 'string' ? parseCursor(answer.cursor, channels.length) : null;
    if (positions === null) return;
    for (let i = 0; i < channels.length; i++) ev.position(channels[i]!, positions[i]!);
  }
}
