import { connect } from 'node:net';
import type { HttpAnswer } from './oracle.js';

export type RawResult =
  | { kind: 'answer'; answer: HttpAnswer; answers: HttpAnswer[] }
  | { kind: 'closed'; bytes: Buffer }
  | { kind: 'timeout'; bytes: Buffer; answers: HttpAnswer[] };

/**
 * Sends `request` (any bytes) over a fresh TCP connection and reads answers until `count` are
 * in (pipelined requests get one each), the server closes, or the deadline passes. An event
 * stream counts as answered once its head and first bytes are in, and ends the reading. With
 * `halfClose` the client ends its side after writing (for requests that leave the server
 * waiting). `heads` says which answers are to HEAD requests.
 */
export function rawHttp(
  port: number,
  request: Buffer,
  opts: { halfClose?: boolean; heads?: boolean[]; count?: number; timeoutMs?: number } = {},
): Promise<RawResult> {
  const count = opts.count ?? 1;
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buf = Buffer.alloc(0);
    const answers: HttpAnswer[] = [];
    let stream = false;
    let done = false;
    const finish = (eof: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (eof) take(true);
      if (answers.length > 0) resolve({ kind: 'answer', answer: answers[0]!, answers });
      else if (eof) resolve({ kind: 'closed', bytes: buf });
      else resolve({ kind: 'timeout', bytes: buf, answers });
    };
    const take = (eof: boolean): void => {
      while (!stream && answers.length < count) {
        const r = parseAnswer(buf, opts.heads?.[answers.length] === true, eof);
        if (r === null) return;
        answers.push(r.answer);
        buf = buf.subarray(r.used);
        stream = r.stream;
      }
    };
    const timer = setTimeout(() => {
      if (answers.length > 0) finish(false);
      else {
        done = true;
        socket.destroy();
        resolve({ kind: 'timeout', bytes: buf, answers });
      }
    }, opts.timeoutMs ?? 5000);
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write(request);
      if (opts.halfClose) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      take(false);
      if (stream || answers.length >= count) finish(false);
    });
    socket.on('close', () => finish(true));
  });
}

/** The first complete HTTP/1.1 answer in `buf` and the bytes it used, or null if more are needed. */
export function parseAnswer(
  buf: Buffer,
  head: boolean,
  eof: boolean,
): { answer: HttpAnswer; used: number; stream: boolean } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (m === null)
    return eof ? { answer: { status: -1, headers: {}, body: buf }, used: buf.length, stream: false } : null;
  const status = Number(m[1]);
  if (status >= 100 && status < 200 && status !== 101) {
    // An interim answer (100 Continue): the real one follows.
    const next = parseAnswer(buf.subarray(end + 4), head, eof);
    return next === null ? null : { ...next, used: next.used + end + 4 };
  }
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const at = end + 4;
  const rest = buf.subarray(at);
  const done = (body: Buffer, used: number, stream = false) => ({
    answer: { status, headers, body },
    used,
    stream,
  });
  if (head || status === 204 || status === 304 || status === 101)
    return done(Buffer.alloc(0), at, status === 101);
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length >= n) return done(rest.subarray(0, n), at + n);
    return eof ? done(rest, buf.length) : null;
  }
  if ((headers['transfer-encoding'] ?? '').includes('chunked')) {
    const whole = dechunk(rest);
    if (whole !== null) return done(whole.body, at + whole.used);
    // A stream (SSE): its head and first chunk are enough.
    if ((headers['content-type'] ?? '').startsWith('text/event-stream') && rest.length > 0)
      return done(dechunkPartial(rest), buf.length, true);
    return eof ? done(dechunkPartial(rest), buf.length) : null;
  }
  if ((headers['content-type'] ?? '').startsWith('text/event-stream') && rest.length > 0)
    return done(rest, buf.length, true);
  return eof ? done(rest, buf.length) : null;
}

function dechunk(b: Buffer): { body: Buffer; used: number } | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = Number.parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) {
      const trailerEnd = b.indexOf('\r\n', eol + 2);
      return trailerEnd < 0 ? null : { body: Buffer.concat(parts), used: trailerEnd + 2 };
    }
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
