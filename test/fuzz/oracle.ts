import { Disconnects, ErrorCodes } from '../../src/contract/codes.js';

/**
 * The documented answers to bad input, as predicates that return null when an answer is one
 * of them, else a description of what is wrong.
 */

/** WebSocket close codes a client may be sent: codes.ts's table (RFC 6455's among them). */
export const DOCUMENTED_CLOSES = new Set<number>(Object.values(Disconnects).map((d) => d.code));

/** Checks a close code from the server; `echo` is the code of a close frame the client sent. */
export function checkClose(code: number | null, echo?: number): string | null {
  if (code === null) return 'connection ended without a close frame';
  // RFC 6455 5.5.1: an endpoint answers a close frame with one, usually echoing its code;
  // a close frame without a body is answered with one without a body (1005 on the wire: none).
  if (echo !== undefined && (code === echo || code === 1005)) return null;
  if (DOCUMENTED_CLOSES.has(code)) return null;
  return `undocumented close code ${code}`;
}

function isErrorObject(e: unknown): string | null {
  if (typeof e !== 'object' || e === null) return 'error is not an object';
  const { code, message } = e as Record<string, unknown>;
  if (typeof code !== 'string' || !Object.hasOwn(ErrorCodes, code))
    return `unknown error code ${String(code)}`;
  if (code === 'internal') return 'internal error';
  if (typeof message !== 'string' || message.length === 0) return 'error without a message';
  return null;
}

/**
 * A text frame from the server on a fuzzed connection: a reply `{"id", "ok": true, ...}`, an
 * error `{"error": {...}}` or `{"id", "error": {...}}`, or a push `{"op": "message", ...}`.
 */
export function checkWsText(text: string): string | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return `server sent a text frame that is not JSON: ${text.slice(0, 80)}`;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return `not an object: ${text.slice(0, 80)}`;
  const m = msg as Record<string, unknown>;
  const leak = leaks(text);
  if (leak !== null) return leak;
  if ('error' in m) {
    const bad = isErrorObject(m['error']);
    return bad === null ? null : `${bad}: ${text.slice(0, 120)}`;
  }
  if (m['ok'] === true && 'id' in m) return null;
  if (m['op'] === 'message' && typeof m['channel'] === 'string' && typeof m['offset'] === 'number')
    return null;
  return `unexpected frame: ${text.slice(0, 120)}`;
}

/** HTTP statuses the server may answer bad input with. */
export const DOCUMENTED_STATUSES = new Set([200, 204, 400, 401, 403, 404, 405, 413, 414, 415, 429, 431, 503]);

/** A stack trace, a file path or internals in a body. */
export function leaks(body: string): string | null {
  if (/\n\s+at \S/.test(body) || /^\s*at [\w.<>]+ \(/m.test(body)) return 'body holds a stack trace';
  if (body.includes('/work/') || body.includes('node:internal') || body.includes('node_modules'))
    return 'body holds a file path';
  if (/[\w-]+\.(?:ts|js|mjs):\d+(?::\d+)?/.test(body)) return 'body holds a source position';
  return null;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Checks one HTTP answer; `path` is the request's path (the dashboard serves its own files). */
export function checkHttp(a: HttpAnswer, path: string, head = false): string | null {
  // The dashboard's login form and logout redirect to the page.
  const redirect = a.status === 303 && (path === '/dashboard/login' || path === '/dashboard/logout');
  const expectation = a.status === 417;
  if (!DOCUMENTED_STATUSES.has(a.status) && !redirect && !expectation)
    return `undocumented status ${a.status}`;
  if (head) return a.body.length === 0 ? null : 'a HEAD answer with a body';
  const type = a.headers['content-type'] ?? '';
  const isAsset = path.startsWith('/dashboard/') && a.status === 200;
  const text = a.body.toString('utf8');
  if (!isAsset) {
    const leak = leaks(text);
    if (leak !== null) return `${leak}: ${text.slice(0, 200)}`;
  }
  if (a.status >= 400 && type.startsWith('application/json')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return `JSON error body does not parse: ${text.slice(0, 120)}`;
    }
    const err = (body as { error?: unknown } | null)?.error;
    const bad = isErrorObject(err);
    if (bad !== null) return `${bad}: ${text.slice(0, 120)}`;
    const code = (err as { code: keyof typeof ErrorCodes }).code;
    if (ErrorCodes[code].status !== a.status)
      return `status ${a.status} does not match code ${code} (${ErrorCodes[code].status})`;
  }
  // 400, 417 and 431 may come from Node's parser before routing, without a body.
  if (a.status >= 400 && path.startsWith('/api/') && ![400, 417, 431].includes(a.status)) {
    if (!type.startsWith('application/json')) return `API error ${a.status} without a JSON body`;
  }
  return null;
}
