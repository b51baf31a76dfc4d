/**
 * A strict, small parser for the head of a plain HTTP/1.x GET request, for the fast path that
 * serves idle streams straight from the socket (fastpath.ts). Pure: bytes in, head out. It
 * accepts only what it fully understands and returns null for anything else (incomplete, other
 * methods, bodies, upgrades, odd syntax), so such requests go to node:http, which stays the
 * authority on HTTP and its errors.
 */
export interface RequestHead {
  /** The request target, e.g. `/sse?channel=news`. */
  target: string;
  /** Header values by lower-case name; repeated headers joined with ", ". */
  headers: Map<string, string>;
  /** Bytes of the head including the blank line. */
  length: number;
  /** HTTP/1.1 without `Connection: close` (the peer may reuse the connection). */
  keepAlive: boolean;
}

/** Whether request target `target` is `path`, with or without a query. */
export function targetPathIs(target: string, path: string): boolean {
  return (
    target.startsWith(path) && (target.length === path.length || target.charCodeAt(path.length) === 0x3f)
  );
}

/**
 * Whether `bytes` begin with the request line of a GET for `path` (with or without a query): a
 * look at a request that may not be whole yet.
 */
export function startsGetFor(bytes: Buffer, path: string): boolean {
  const n = 4 + path.length;
  if (bytes.length <= n) return false;
  const c = bytes[n];
  return (c === 0x20 || c === 0x3f) && bytes.toString('latin1', 0, n) === `GET ${path}`;
}

/** scanHeadEnd's state before any byte: no request line begun yet. */
export const HEAD_NOT_BEGUN = -1;
/** scanHeadEnd's state once a whole head has come. */
export const HEAD_WHOLE = 4;

/**
 * One step of looking for the end of a request head in bytes that come in pieces: `state` is
 * what the bytes before `chunk` left (HEAD_NOT_BEGUN at first), the result what they and `chunk`
 * leave, HEAD_WHOLE once a head is whole (a blank line after a request line). Empty lines before
 * the request line are skipped, as node:http's parser skips them; lines end with CRLF.
 */
export function scanHeadEnd(chunk: Buffer, state: number): number {
  let s = state;
  for (let i = 0; i < chunk.length && s !== HEAD_WHOLE; i++) {
    const c = chunk[i]!;
    if (s === HEAD_NOT_BEGUN) {
      if (c !== CR && c !== LF) s = 0;
    } else if (c === (s % 2 === 0 ? CR : LF)) s++;
    else s = c === CR ? 1 : 0;
  }
  return s;
}

const CR = 13;
const LF = 10;

/** Characters of an HTTP token (RFC 9110 tchar), by char code. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}
/** Headers that mean this is not a bodiless plain GET. */
const NOT_PLAIN = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);
const END_OF_HEAD = Buffer.from('\r\n\r\n', 'latin1');
const TAB = 9;
const SPACE = 32;

/**
 * Scans bytes instead of splitting lines and matching regular expressions, and keeps headers in
 * a Map, which made a parse several times faster (docs/BENCHMARKS.md, "Issue 4 (session 4)",
 * "Long-poll fast path"). The poll fast path parses one head per long-poll answer.
 */
export function parseGetHead(buf: Buffer, maxBytes: number): RequestHead | null {
  const end = buf.indexOf(END_OF_HEAD);
  if (end < 0 || end + 4 > maxBytes) return null;
  const text = buf.toString('latin1', 0, end);
  // Request line: `GET <target> HTTP/1.<0|1>`; the target is `/` then visible ASCII.
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  if (eol < 14 || !text.startsWith('GET /') || !text.startsWith(' HTTP/1.', eol - 9)) return null;
  const minor = buf[eol - 1];
  if (minor !== 0x30 && minor !== 0x31) return null;
  for (let i = 5; i < eol - 9; i++) {
    const c = buf[i]!;
    if (c < 0x21 || c > 0x7e) return null;
  }
  const target = text.slice(4, eol - 9);
  // A Map, not a null-prototype object: Object.create(null) alone cost more than the rest of a parse.
  const headers = new Map<string, string>();
  let pos = eol + 2;
  while (pos < text.length) {
    let next = text.indexOf('\r\n', pos);
    if (next < 0) next = text.length;
    // Name: one or more tchars, then ':' (no space before it, no folded continuation line).
    let i = pos;
    while (i < next) {
      const c = buf[i]!;
      if (c >= 128 || TCHAR[c] === 0) break;
      i++;
    }
    if (i === pos || i === next || buf[i] !== 0x3a) return null;
    const key = text.slice(pos, i).toLowerCase();
    if (NOT_PLAIN.has(key)) return null;
    // Value: optional whitespace around visible ASCII, spaces and tabs.
    let from = i + 1;
    let to = next;
    while (from < to && (buf[from] === SPACE || buf[from] === TAB)) from++;
    while (to > from && (buf[to - 1] === SPACE || buf[to - 1] === TAB)) to--;
    for (let k = from; k < to; k++) {
      const c = buf[k]!;
      if ((c < 0x20 && c !== TAB) || c > 0x7e) return null;
    }
    const value = text.slice(from, to);
    const prev = headers.get(key);
    headers.set(key, prev === undefined ? value : `${prev}, ${value}`);
    pos = next + 2;
  }
  const http11 = minor === 0x31;
  // node:http answers an HTTP/1.1 request without Host with 400 (requireHostHeader).
  if (http11 && !headers.has('host')) return null;
  const connection = (headers.get('connection') ?? '').toLowerCase();
  const keepAlive = http11 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { target, headers, length: end + 4, keepAlive };
}
