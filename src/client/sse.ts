import { closeError } from './close-codes.js';
import { HttpConnection } from './http-connection.js';
import { channelUrl, lost, refusal, requestHeaders } from './http-refusal.js';
import { SseParser } from './sse-parser.js';
import type { Ended } from './transport.js';

/**
 * One SSE connection to `/sse` (README "Server-Sent Events") read with `fetch`, so that Node
 * needs no EventSource and the token goes in a header. The stream names its channels in its
 * URL, so a subscribe or unsubscribe starts a new stream (in the same turn for every change made
 * together) resuming every channel from the client's positions (`lastEventId`).
 */
export class SseConnection extends HttpConnection {
  readonly name = 'sse';

  protected async run(stream: number, channels: readonly string[], signal: AbortSignal): Promise<void> {
    const url = channelUrl(this.url, channels, { lastEventId: this.link.cursor(channels) });
    let end: Ended;
    try {
      const res = await this.fetch(url, {
        headers: requestHeaders(this.link.token(), 'text/event-stream'),
        signal,
      });
      if (stream !== this.generation) return;
      if (res.status !== 200 || res.body === null) {
        end = await refusal(res, this.opened);
      } else {
        this.markOpened();
        end = await this.#consume(stream, res.body);
      }
    } catch (err) {
      end = lost(this.opened, err);
    }
    this.finish(stream, end);
  }

  async #consume(stream: number, body: ReadableStream<Uint8Array>): Promise<Ended> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (stream !== this.generation) return lost(true, null);
      if (done) return lost(true, null);
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
        const end = this.#event(ev.event, ev.data);
        if (end !== null) {
          void reader.cancel().catch(() => undefined);
          return end;
        }
        if (stream !== this.generation) return lost(true, null);
      }
    }
  }

  /** One event; the connection's end when it is a `disconnect`. */
  #event(name: string, data: string): Ended | null {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return null;
    }
    if (typeof m !== 'object' || m === null) return null;
    const ev = this.events;
    const channel = m['channel'];
    if (name === 'disconnect') {
      const code = Number(m['code']);
      const reason = String(m['reason'] ?? '');
      const again = m['reconnect'] === true;
      return {
        opened: true,
        code,
        reason,
        reconnect: again,
        error: again ? null : closeError(code, reason),
        retryAfterMs: null,
      };
    }
    if (typeof channel !== 'string') return null;
    switch (name) {
      case 'message':
        if (typeof m['offset'] === 'number') ev.message(channel, m['offset'], m['data']);
        break;
      case 'subscribed': {
        const recovered = typeof m['recovered'] === 'boolean' ? m['recovered'] : undefined;
        ev.subscribed(channel, String(m['epoch'] ?? ''), Number(m['offset'] ?? 0), recovered);
        break;
      }
      case 'join':
      case 'leave':
        ev.presence(name, channel, {
          client: String(m['client']),
          user: String(m['user']),
          info: m['info'] ?? null,
        });
        break;
      case 'unsubscribe':
        ev.unsubscribed(channel);
        break;
    }
    return null;
  }
}
