import { connect } from 'node:net';
import type { HttpAnswer } from './oracle.js';

export type RawResult =
  | { kind: 'answer'; answer: HttpAnswer }
  | { kind: 'closed'; bytes: Buffer }
  | { kind: 'timeout'; bytes: Buffer };

/**
 * Sends `request` (any bytes) over a fresh TCP connection and reads the first HTTP answer.
 * An event stream counts as answered once its head and first bytes are in. With `halfClose`
 * the client ends its side after writing (for requests that leave the server waiting).
 */
export function rawHttp(
  port: number,
  request: Buffer | Buffer[],
  opts: { halfClose?: boolean; head?: boolean; timeoutMs?: number } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: RawResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', bytes: buf }), opts.timeoutMs ?? 5000);
    socket.on('error', () => {});
    socket.on('connect', () => {
      for (const part of Array.isArray(request) ? request : [request]) socket.write(part);
      if (opts.halfClose) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const a = parseAnswer(buf, opts.head === true, false);
      if (a !== null) finish({ kind: 'answer', answer: a });
    });
    socket.on('close', () => {
      const a = parseAnswer(buf, opts.head === true, true);
      finish(a !== null ? { kind: 'answer', answer: a } : { kind: 'closed', bytes: buf });
    });
  });
}

/** The first complete HTTP/1.1 answer in `buf`, or null if more bytes are needed. */
export function parseAnswer(buf: Buffer, head: boolean, eof: boolean): HttpAnswer | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (m === null) return eof ? { status: -1, headers: {}, body: buf } : null;
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(end + 4);
  if (head || status === 204 || status === 304 || status === 101)
    return { status, headers, body: Buffer.alloc(0) };
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length >= n) return { status, headers, body: rest.subarray(0, n) };
    return eof ? { status, headers, body: rest } : null;
  }
  if ((headers['transfer-encoding'] ?? '').includes('chunked')) {
    const body = dechunk(rest);
    if (body !== null) return { status, headers, body };
    // A stream (SSE): its head and first chunk are enough.
    if ((headers['content-type'] ?? '').startsWith('text/event-stream') && rest.length > 0)
      return { status, headers, body: dechunkPartial(rest) };
    return eof ? { status, headers, body: dechunkPartial(rest) } : null;
  }
  return eof ? { status, headers, body: rest } : null;
}

function dechunk(b: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = Number.parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) return Buffer.concat(parts);
    if (b.length < eol + 2 + size + 2) return null;
    parts.push(b.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function dechunkPartial(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = Number.parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(b.subarray(eol + 2, Math.min(b.length, eol + 2 + size)));
    at = eol + 2 + size + 2;
    if (at > b.length) break;
  }
  return Buffer.concat(parts);
}
