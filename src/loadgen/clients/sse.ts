import { fill } from '../options.js';
import { detach, type Pool } from '../pool.js';
import { RawHttpClient } from './raw.js';

/**
 * An SSE client on a raw socket. It reads the stream line by line: `id:` lines keep the
 * resume cursor (sent back as Last-Event-ID after a reconnect), `data:` lines of unnamed
 * events carry publications, Holdfast's `subscribed` events confirm each channel and its
 * `disconnect` event ends the stream. Generic protocol: the stream counts as subscribed once
 * the server answers 200.
 */
export class SseClient extends RawHttpClient {
  lastId = '';
  event = '';
  partial = '';

  constructor(pool: Pool, local: number, channel: number, source: string) {
    super(pool, local, channel, source);
  }

  target(): URL {
    const plan = this.pool.plan;
    return new URL(
      fill(plan.sseUrl, {
        channel: encodeURIComponent(plan.channelNames[this.channel]!),
        broadcast: encodeURIComponent(plan.channelNames[plan.channels]!),
      }),
    );
  }

  extraHeaders(): string {
    const id = this.lastId === '' ? '' : `Last-Event-ID: ${this.lastId}\r\n`;
    return 'Accept: text/event-stream\r\nCache-Control: no-cache\r\n' + id;
  }

  onConnected(): void {
    this.request();
  }

  onHead(status: number): void {
    if (status !== 200) {
      this.fail();
      return;
    }
    this.event = '';
    this.partial = '';
    this.socket?.setTimeout(0);
    this.opened();
    if (this.pool.plan.protocol === 'generic') {
      this.confirmed(this.local * 2);
      this.confirmed(this.local * 2 + 1);
    }
  }

  onBody(text: string): void {
    let buf = this.partial.length > 0 ? this.partial + text : text;
    this.partial = '';
    let start = 0;
    for (;;) {
      const nl = buf.indexOf('\n', start);
      if (nl === -1) break;
      let end = nl;
      if (end > start && buf.charCodeAt(end - 1) === 13) end--;
      this.#line(buf, start, end);
      start = nl + 1;
    }
    if (start < buf.length) this.partial = detach(buf.slice(start));
    buf = '';
  }

  #line(buf: string, start: number, end: number): void {
    if (start === end) {
      this.event = '';
      return;
    }
    const c = buf.charCodeAt(start);
    if (c === 100 /* d */ && buf.startsWith('data:', start)) {
      const data = buf.slice(start + 5, end);
      if (this.event === '' || this.event === 'message') this.scan(data);
      else if (this.event === 'subscribed') this.#subscribed(data);
      else if (this.event === 'disconnect') this.pool.disconnectEvents++;
      return;
    }
    if (c === 105 /* i */ && buf.startsWith('id:', start)) {
      this.lastId = detach(buf.slice(start + (buf.charCodeAt(start + 3) === 32 ? 4 : 3), end));
      return;
    }
    if (c === 101 /* e */ && buf.startsWith('event:', start)) {
      this.event = buf.slice(start + (buf.charCodeAt(start + 6) === 32 ? 7 : 6), end);
    }
  }

  #subscribed(data: string): void {
    let info: { channel?: string; recovered?: boolean };
    try {
      info = JSON.parse(data);
    } catch {
      this.pool.errors++;
      return;
    }
    const plan = this.pool.plan;
    if (info.recovered === false) this.pool.recoveryFailures++;
    if (info.channel === plan.channelNames[this.channel]) this.confirmed(this.local * 2);
    else if (info.channel === plan.channelNames[plan.channels]) this.confirmed(this.local * 2 + 1);
  }

  onEnd(): void {
    // The server ended the stream (e.g. a disconnect event): reconnect and resume.
    this.close();
    this.lost(false);
  }
}
