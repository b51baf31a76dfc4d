import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpReader, type HttpSink } from '../../src/loadgen/clients/http-reader.js';

class Sink implements HttpSink {
  events: string[] = [];
  body = '';
  onHead(status: number): void {
    this.events.push(`head ${status}`);
  }
  onBody(text: string): void {
    this.body += text;
  }
  onEnd(): void {
    this.events.push(`end ${this.body}`);
    this.body = '';
  }
}

function feedSplit(raw: string, cut: number, close = false): Sink {
  const r = new HttpReader();
  const s = new Sink();
  if (cut > 0) r.feed(raw.slice(0, cut), s);
  if (cut < raw.length) r.feed(raw.slice(cut), s);
  if (close) r.closed(s);
  return s;
}

describe('HttpReader', () => {
  const chunked =
    'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '7\r\nretry: \r\n' +
    '1a\r\ndata: {"a":1}\n\ndata: more\n\r\n' +
    '0\r\n\r\n';

  it('reads a chunked body split at every position', () => {
    for (let cut = 0; cut <= chunked.length; cut++) {
      const s = feedSplit(chunked, cut);
      assert.deepEqual(s.events, ['head 200', 'end retry: data: {"a":1}\n\ndata: more\n'], `cut ${cut}`);
    }
  });

  it('reads content-length bodies back to back on a keep-alive socket', () => {
    const one = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    const two = 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\nConnection: close\r\n\r\nno';
    const raw = one + two;
    for (let cut = 0; cut <= raw.length; cut++) {
      const r = new HttpReader();
      const s = new Sink();
      r.feed(raw.slice(0, cut), s);
      r.feed(raw.slice(cut), s);
      assert.deepEqual(s.events, ['head 200', 'end hello', 'head 503', 'end no'], `cut ${cut}`);
      assert.equal(r.closeAfter, true);
    }
  });

  it('reads a body without length until the socket closes', () => {
    const s = feedSplit('HTTP/1.1 200 OK\r\n\r\nstream', 20, true);
    assert.deepEqual(s.events, ['head 200', 'end stream']);
  });

  it('rejects what is not HTTP', () => {
    const r = new HttpReader();
    assert.throws(() => r.feed('SSH-2.0-OpenSSH\r\n\r\n', new Sink()));
    const r2 = new HttpReader();
    assert.throws(() => r2.feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', new Sink()));
  });
});
