/** One event of a `text/event-stream` (WHATWG HTML "Server-sent events", 9.2.6). */
export interface SseEvent {
  /** `message` unless the stream named it (`subscribed`, `join`, `leave`, `disconnect`, `unsubscribe`, ...). */
  event: string;
  /** The data lines joined by `\n`. */
  data: string;
  /** The last event id seen so far in the stream (ids persist across events), or null if none. */
  id: string | null;
}

/**
 * An incremental SSE parser: text in any chunking, events out. Lines end with CRLF, LF or CR;
 * comments (`:` lines, Holdfast's heartbeats) and events without data are dropped; `retry` is
 * ignored (the client's own back-off decides).
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | null = null;
  /** A CR ended the last chunk: an LF starting the next one belongs to it. */
  #pendingCr = false;

  /** Feeds a chunk of decoded text; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    const buf = this.#buffer;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.#line(buf.slice(start, i), out);
      if (c === 0x0d) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.#pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.#buffer = buf.slice(start);
    return out;
  }

  #line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.#data.length > 0) {
        out.push({
          event: this.#event === '' ? 'message' : this.#event,
          data: this.#data.join('\n'),
          id: this.#id,
        });
      }
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}
