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
  headers: Record<string, string>;
  /** Bytes of the head including the blank line. */
  length: number;
  /** HTTP/1.1 without `Connection: close` (the peer may reuse the connection). */
  keepAlive: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab (no control characters, no obs-text).
const VALUE = /^[\t\x20-\x7e]*$/;
const TARGET = /^\/[\x21-\x7e]*$/;
/** Headers that mean this is not a bodiless plain GET. */
const NOT_PLAIN = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);

export function parseGetHead(buf: Buffer, maxBytes: number): RequestHead | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0 || end + 4 > maxBytes) return null;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const m = /^GET (\S+) HTTP\/1\.([01])$/.exec(lines[0]!);
  if (m === null || !TARGET.test(m[1]!)) return null;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return null;
    const value = line.slice(colon + 1).trim();
    if (!VALUE.test(value)) return null;
    const key = name.toLowerCase();
    if (NOT_PLAIN.has(key)) return null;
    const prev = headers[key];
    headers[key] = prev === undefined ? value : `${prev}, ${value}`;
  }
  // node:http answers an HTTP/1.1 request without Host with 400 (requireHostHeader).
  if (m[2] === '1' && headers['host'] === undefined) return null;
  const connection = (headers['connection'] ?? '').toLowerCase();
  const keepAlive = m[2] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
  return { target: m[1]!, headers, length: end + 4, keepAlive };
}
