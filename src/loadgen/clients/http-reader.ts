/**
 * A minimal HTTP/1.1 response reader for the bench's raw-socket clients (SSE and long-poll):
 * status line, headers, then a body by Content-Length, chunked, or until the socket closes.
 * It works on latin1 strings (one character per byte), so chunk sizes count characters.
 * Pure: fed strings, tested without sockets. One object per client, no closures.
 */
export interface HttpSink {
  onHead(status: number, headers: string): void;
  onBody(text: string): void;
  /** The response is complete (the socket may carry the next one). */
  onEnd(): void;
}

const HEAD = 0;
const SIZE = 1;
const DATA = 2;
const DATA_CRLF = 3;
const LENGTH = 4;
const UNTIL_CLOSE = 5;
const TRAILER = 6;
const DONE = 7;

export class HttpReader {
  #state = HEAD;
  #buf = '';
  #remaining = 0;
  /** The last response asked to close the connection. */
  closeAfter = false;

  reset(): void {
    this.#state = HEAD;
    this.#buf = '';
    this.#remaining = 0;
    this.closeAfter = false;
  }

  /** Feeds bytes (latin1); throws on a malformed response. */
  feed(chunk: string, sink: HttpSink): void {
    let text = this.#buf.length > 0 ? this.#buf + chunk : chunk;
    this.#buf = '';
    let i = 0;
    while (i < text.length) {
      switch (this.#state) {
        case HEAD: {
          const end = text.indexOf('\r\n\r\n', i);
          if (end === -1) {
            this.#buf = text.slice(i);
            if (this.#buf.length > 65536) throw new Error('response head too large');
            return;
          }
          const head = text.slice(i, end);
          i = end + 4;
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
          if (!m) throw new Error('bad status line');
          const status = Number(m[1]);
          const lower = head.toLowerCase();
          this.closeAfter = /\r\nconnection: *close/.test(lower);
          const len = /\r\ncontent-length: *(\d+)/.exec(lower);
          if (/\r\ntransfer-encoding: *chunked/.test(lower)) this.#state = SIZE;
          else if (len) {
            this.#remaining = Number(len[1]);
            this.#state = this.#remaining > 0 ? LENGTH : DONE;
          } else if (status === 204 || status === 304) this.#state = DONE;
          else this.#state = UNTIL_CLOSE;
          sink.onHead(status, lower);
          if (this.#state === DONE) this.#finish(sink);
          break;
        }
        case SIZE: {
          const end = text.indexOf('\r\n', i);
          if (end === -1) {
            this.#buf = text.slice(i);
            if (this.#buf.length > 1024) throw new Error('bad chunk size');
            return;
          }
          const size = Number.parseInt(text.slice(i, end), 16);
          if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
          i = end + 2;
          if (size === 0) this.#state = TRAILER;
          else {
            this.#remaining = size;
            this.#state = DATA;
          }
          break;
        }
        case DATA:
        case LENGTH: {
          const take = Math.min(this.#remaining, text.length - i);
          sink.onBody(i === 0 && take === text.length ? text : text.slice(i, i + take));
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            if (this.#state === DATA) this.#state = DATA_CRLF;
            else this.#finish(sink);
          }
          break;
        }
        case DATA_CRLF: {
          if (text.length - i < 2) {
            this.#buf = text.slice(i);
            return;
          }
          if (text.charCodeAt(i) !== 13 || text.charCodeAt(i + 1) !== 10) throw new Error('bad chunk end');
          i += 2;
          this.#state = SIZE;
          break;
        }
        case TRAILER: {
          const end = text.indexOf('\r\n', i);
          if (end === -1) {
            this.#buf = text.slice(i);
            return;
          }
          const empty = end === i;
          i = end + 2;
          if (empty) this.#finish(sink);
          break;
        }
        case UNTIL_CLOSE:
          sink.onBody(i === 0 ? text : text.slice(i));
          return;
        case DONE:
          throw new Error('data after the response');
      }
    }
    text = '';
  }

  /** The socket closed: a body read until close ends here. */
  closed(sink: HttpSink): void {
    if (this.#state === UNTIL_CLOSE) this.#finish(sink);
  }

  #finish(sink: HttpSink): void {
    this.#state = HEAD;
    sink.onEnd();
  }
}
