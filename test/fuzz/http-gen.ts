import { API_KEY } from './live.js';
import { mutateBytes, type Rng } from './rng.js';

/**
 * Generators of bad HTTP input: methods, paths, query strings, headers and bodies, as raw
 * bytes. Each case says which answers it may get (default: any documented status) and whether
 * the server may instead just close (input that is not HTTP at all).
 */
export interface HttpCase {
  name: string;
  bytes: Buffer;
  path: string;
  head: boolean;
  /** End the client's side after writing (the request may leave the server waiting). */
  halfClose: boolean;
  /** Statuses this input must get, when it is known. */
  expect?: number[];
  /** Closing without an answer is allowed. */
  mayClose?: boolean;
  /** A WebSocket upgrade: 101 Switching Protocols is a documented answer. */
  upgrade?: boolean;
  /** Pipelined requests: how many answers may come, and which requests are HEAD. */
  count?: number;
  heads?: boolean[];
}

export const MAX_BODY = 16384;
export const MAX_URL = 8192;
export const MAX_HEADER = 16384;
/** The origins the fuzzed server allows (others get 403 on the browser transports). */
export const ORIGINS = ['http://a.example', 'null'];
const PIPELINE_PATHS = [
  '/api/publish',
  '/api/history',
  '/api/channels',
  '/api/nope',
  '/health',
  '/ready',
  '/metrics',
  '/ws',
  '/x',
];

const PATHS = [
  '/api/publish',
  '/api/broadcast',
  '/api/history',
  '/api/channels',
  '/api/',
  '/api/nope',
  '/sse',
  '/poll',
  '/ws',
  '/metrics',
  '/health',
  '/ready',
  '/dashboard',
  '/dashboard/',
  '/dashboard/app.js',
  '/dashboard/stream',
  '/dashboard/login',
  '/dashboard/../../etc/passwd',
  '/dashboard/%2e%2e/%2e%2e/package.json',
  '/',
  '//api/publish',
  '/API/PUBLISH',
  '/api/publish/',
  '/%00',
  '/favicon.ico',
];

function channel(rng: Rng): string {
  return rng.weighted<string>([
    [6, () => `fz-${rng.int(0, 20)}`],
    [1, () => 'x'.repeat(rng.pick([255, 256, 2000]))],
    [1, () => ''],
    [1, () => encodeURIComponent(rng.unicode(rng.int(1, 10)).replace(/[\ud800-\udfff]/g, '?'))],
    [1, () => rng.string(rng.int(1, 20), 'ab:#-_.@=/,;%+&?')],
  ]);
}

function cursor(rng: Rng): string {
  return rng.weighted<string>([
    [2, () => `${rng.string(8, 'abcdefghijklmnopqrstuvwxyz0123456789')}-${rng.int(0, 100)}`],
    [1, () => `abc-1.def-2.${'x'.repeat(rng.int(0, 300))}`],
    [1, () => rng.pick(['', '-', '.', '-1', 'a-', 'a-99999999999999999999', 'A-1', 'a-1.', '..', '%zz'])],
    [1, () => encodeURIComponent(rng.unicode(rng.int(1, 20)).replace(/[\ud800-\udfff]/g, '?'))],
  ]);
}

function query(rng: Rng): string {
  const parts: string[] = [];
  const n = rng.int(0, 4);
  for (let i = 0; i < n; i++) {
    parts.push(
      rng.weighted<string>([
        [5, () => `channel=${channel(rng)}`],
        [1, () => Array.from({ length: rng.int(100, 300) }, (_, j) => `channel=c${j}`).join('&')],
        [2, () => `cursor=${cursor(rng)}`],
        [1, () => `lastEventId=${cursor(rng)}`],
        [
          2,
          () =>
            `since=${rng.pick(['0', '5', '-1', '1e5', 'x', '9999999999999999', '', '00000000000000001'])}`,
        ],
        [1, () => `limit=${rng.pick(['0', '1', '100000', '-5', 'NaN', ''])}`],
        [1, () => `epoch=${rng.pick(['', 'zz', 'x'.repeat(100), cursor(rng)])}`],
        [1, () => rng.pick(['%', '%zz', '%00', '%ff%fe', '&&&', '=', 'channel', 'channel=%E0%A4%A', '+'])],
        [1, () => `${rng.string(rng.int(1, 8), 'abc%=&')}=${rng.string(rng.int(0, 8), 'xyz%=&')}`],
      ]),
    );
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function method(rng: Rng): string {
  return rng.weighted<string>([
    [6, () => 'GET'],
    [6, () => 'POST'],
    [1, () => rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'])],
    [1, () => rng.pick(['FOO', 'get', 'G ET', 'PROPFIND', 'M-SEARCH'])],
  ]);
}

function jsonValue(rng: Rng, depth = 0): unknown {
  return rng.weighted<unknown>([
    [3, () => rng.int(-1e6, 1e6)],
    [3, () => rng.unicode(rng.int(0, 20))],
    [1, () => rng.pick([null, true, false, 1e308, -0, 0.1])],
    [depth < 4 ? 2 : 0, () => Array.from({ length: rng.int(0, 4) }, () => jsonValue(rng, depth + 1))],
    [
      depth < 4 ? 2 : 0,
      () =>
        Object.fromEntries(
          Array.from({ length: rng.int(0, 4) }, () => [rng.unicode(3), jsonValue(rng, depth + 1)]),
        ),
    ],
  ]);
}

function body(rng: Rng): Buffer {
  const valid = (): Record<string, unknown> =>
    rng.bool(0.7)
      ? { channel: channel(rng), data: jsonValue(rng) }
      : {
          channels: Array.from({ length: rng.pick([0, 1, 3, 1001]) }, () => channel(rng)),
          data: jsonValue(rng),
        };
  return rng.weighted<Buffer>([
    [4, () => Buffer.from(JSON.stringify(valid()))],
    [4, () => mutateBytes(rng, Buffer.from(JSON.stringify(valid())))],
    [
      1,
      () =>
        Buffer.from(
          JSON.stringify({ ...valid(), [rng.pick(['channel', 'data', 'channels'])]: jsonValue(rng) }),
        ),
    ],
    [1, () => rng.bytes(rng.int(0, 500))],
    [1, () => Buffer.from(rng.pick(['', 'null', '[]', '{}', '"x"', '{"channel":"fz-1"}', '{"data":1}']))],
    [
      1,
      () => {
        const d = rng.pick([100, 1000, 5000]);
        return Buffer.from(`{"channel":"fz-1","data":${'['.repeat(d)}${']'.repeat(d)}}`);
      },
    ],
    [
      1,
      () => Buffer.from(`{"channel":"fz-1","data":"${'x'.repeat(rng.int(MAX_BODY - 100, MAX_BODY + 100))}"}`),
    ],
  ]);
}

function apiKey(rng: Rng): string[] {
  return rng.weighted<string[]>([
    [6, () => [`X-API-Key: ${API_KEY}`]],
    [1, () => []],
    [1, () => ['X-API-Key: ']],
    [1, () => ['X-API-Key: wrong']],
    [1, () => [`X-API-Key: ${API_KEY}`, `X-API-Key: ${API_KEY}`]],
    [1, () => [`x-api-key: ${API_KEY}x`]],
  ]);
}

/** A request with random but well-framed method, target, headers and body. */
function request(rng: Rng, opts: { paths?: readonly string[]; close?: boolean } = {}): HttpCase {
  const m = method(rng);
  let path = rng.pick(opts.paths ?? PATHS);
  if (rng.bool(0.1)) path = path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
  let target = path + query(rng);
  if (rng.bool(0.05))
    target = rng.pick(['http://127.0.0.1', 'http://evil.example:1', 'https://[::1]']) + target;
  if (m === 'OPTIONS' && rng.bool(0.3)) target = '*';
  const version = rng.bool(0.1) ? 'HTTP/1.0' : 'HTTP/1.1';
  const noHost = rng.bool(0.05);
  const headers = noHost ? [...apiKey(rng)] : ['Host: 127.0.0.1', ...apiKey(rng)];
  let expectFailed = false;
  if (rng.bool(0.05)) headers.push('Expect: 100-continue');
  else if (rng.bool(0.03)) {
    headers.push(`Expect: ${rng.pick(['x', '200-ok'])}`);
    expectFailed = version === 'HTTP/1.1';
  }
  if (opts.close ?? rng.bool(0.8)) headers.push('Connection: close');
  if (rng.bool(0.7))
    headers.push(
      `Content-Type: ${rng.pick(['application/json', 'text/plain', 'application/json; charset=latin1', 'x/y', ''])}`,
    );
  if (rng.bool(0.2))
    headers.push(`Origin: ${rng.pick(['http://a.example', 'null', 'https://x', '*', 'http://é'])}`);
  if (rng.bool(0.15)) headers.push(`Last-Event-ID: ${cursor(rng)}`);
  if (rng.bool(0.1))
    headers.push(`Accept: ${rng.pick(['text/event-stream', '*/*', 'application/json;q=0'])}`);
  if (rng.bool(0.1)) headers.push(`X-Junk-${rng.int(0, 9)}: ${rng.string(rng.int(0, 100), 'abc ;=,')}`);
  const b = m === 'POST' || rng.bool(0.1) ? body(rng) : Buffer.alloc(0);
  let framing = 'length';
  if (b.length > 0 && rng.bool(0.15)) framing = 'chunked';
  const parts: Buffer[] = [];
  if (framing === 'chunked') {
    headers.push('Transfer-Encoding: chunked');
    for (let at = 0; at < b.length; ) {
      const n = rng.int(1, 400);
      const piece = b.subarray(at, at + n);
      parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      at += n;
    }
    parts.push(Buffer.from('0\r\n\r\n'));
  } else if (b.length > 0 || m === 'POST') {
    headers.push(`Content-Length: ${b.length}`);
    parts.push(b);
  }
  const bytes = Buffer.concat([
    Buffer.from(`${m} ${target} ${version}\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'),
    ...parts,
  ]);
  const c: HttpCase = { name: `${m} ${path}`, bytes, path, head: m === 'HEAD', halfClose: false };
  // Known answers: an oversized API body is 413, whatever it holds, unless the request is
  // HTTP/1.1 without Host: that is 400 before any routing, whatever the target's form (RFC 9112
  // 3.2; Node's requireHostHeader). Seed 3647364033 sent an absolute-form target without Host.
  const hostless11 = noHost && version === 'HTTP/1.1';
  if (
    m === 'POST' &&
    (path === '/api/publish' || path === '/api/broadcast') &&
    b.length > MAX_BODY &&
    !hostless11
  ) {
    if (
      headers.includes(`X-API-Key: ${API_KEY}`) &&
      headers.filter((h) => /^x-api-key/i.test(h)).length === 1
    )
      c.expect = [413];
  }
  if (path === '/ws' && m === 'GET') c.expect = [400];
  // Node answers an expectation it cannot meet with 417 (RFC 9110 10.1.1) before routing.
  if (expectFailed) c.expect = [417, 400];
  // HTTP/1.1 requires Host (RFC 9112 3.2); Node answers 400 without it.
  if (noHost && version === 'HTTP/1.1' && target.startsWith('/')) c.expect = [400];
  return c;
}

export function httpCase(rng: Rng): HttpCase {
  return rng.weighted<HttpCase>([
    [20, () => request(rng)],
    [
      3,
      () => {
        // Pipelined keep-alive requests in one write: each gets its answer in order, unless an
        // answer closes the connection.
        const n = rng.int(2, 5);
        const reqs = Array.from({ length: n }, (_, i) =>
          request(rng, { paths: PIPELINE_PATHS, close: i === n - 1 }),
        );
        return {
          name: `pipelined ${n}`,
          bytes: Buffer.concat(reqs.map((r) => r.bytes)),
          path: '/api/',
          head: false,
          halfClose: false,
          count: n,
          heads: reqs.map((r) => r.head),
        };
      },
    ],
    [
      3,
      () => {
        // Byte mutations of a whole request: anything may happen, but only documented answers.
        const c = request(rng);
        return {
          ...c,
          name: `mutated ${c.name}`,
          bytes: mutateBytes(rng, c.bytes),
          halfClose: true,
          mayClose: true,
          expect: undefined,
        };
      },
    ],
    [
      2,
      () => ({
        name: 'huge header',
        bytes: Buffer.from(
          `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX_HEADER + rng.int(1, 5000))}\r\n\r\n`,
        ),
        path: '/health',
        head: false,
        halfClose: false,
        expect: [431],
      }),
    ],
    [
      1,
      () => ({
        name: 'many headers',
        bytes: Buffer.from(
          `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
        ),
        path: '/health',
        head: false,
        halfClose: false,
        expect: [431],
      }),
    ],
    [
      2,
      () => {
        const p = rng.pick(['/api/history', '/sse', '/poll', '/nope']);
        return {
          name: `long url ${p}`,
          bytes: Buffer.from(
            `GET ${p}?channel=${'a'.repeat(MAX_URL + rng.int(1, 4000))} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
          ),
          path: p,
          head: false,
          halfClose: false,
          expect: [414],
        };
      },
    ],
    [
      2,
      () => ({
        name: 'bad content-length',
        bytes: Buffer.from(
          `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${rng.pick(['-1', 'abc', '1e3', '99999999999999999999', '10, 20', ' ', '0x10', '+5'])}\r\n\r\n{"channel":"fz-1","data":1}`,
        ),
        path: '/api/publish',
        head: false,
        halfClose: true,
        expect: [400],
        mayClose: true,
      }),
    ],
    [
      1,
      () => ({
        name: 'duplicate content-length',
        bytes: Buffer.from(
          `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Length: 27\r\nContent-Length: 5\r\n\r\n{"channel":"fz-1","data":1}`,
        ),
        path: '/api/publish',
        head: false,
        halfClose: true,
        expect: [400],
        mayClose: true,
      }),
    ],
    [
      1,
      () => ({
        name: 'body shorter than content-length',
        bytes: Buffer.from(
          `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"channel":"fz-1"`,
        ),
        path: '/api/publish',
        head: false,
        halfClose: true,
        mayClose: true,
      }),
    ],
    [
      2,
      () => ({
        name: 'chunked garbage',
        bytes: Buffer.concat([
          Buffer.from(
            `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`,
          ),
          rng.pick([
            Buffer.from('zz\r\nabc\r\n0\r\n\r\n'),
            Buffer.from('5\r\nabcdefgh\r\n0\r\n\r\n'),
            Buffer.from('ffffffffffffffffff\r\nx\r\n'),
            Buffer.from('3;ext=1\r\n{"a\r\n0\r\n\r\n'),
            Buffer.from('-1\r\n\r\n'),
            rng.bytes(rng.int(1, 100)),
          ]),
        ]),
        path: '/api/publish',
        head: false,
        halfClose: true,
        mayClose: true,
      }),
    ],
    [
      1,
      () => ({
        name: 'chunked with content-length',
        bytes: Buffer.from(
          `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        ),
        path: '/api/publish',
        head: false,
        halfClose: true,
        expect: [400],
        mayClose: true,
      }),
    ],
    [
      2,
      () => ({
        name: 'bad upgrade',
        bytes: Buffer.from(
          `GET ${rng.pick(['/ws', '/ws?x=1', '/sse', '/nope'])} HTTP/1.1\r\nHost: x\r\nUpgrade: ${rng.pick(['websocket', 'h2c', 'WebSocket', 'x'])}\r\n` +
            `Connection: Upgrade\r\n${rng.pick(['', 'Sec-WebSocket-Key: short\r\n', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'])}` +
            `${rng.pick(['', 'Sec-WebSocket-Version: 8\r\n', 'Sec-WebSocket-Version: 13\r\n', 'Sec-WebSocket-Version: x\r\n'])}\r\n`,
        ),
        path: '/ws',
        head: false,
        halfClose: false,
        mayClose: true,
        upgrade: true,
      }),
    ],
    [
      2,
      () => ({
        name: 'not HTTP',
        bytes: rng.weighted<Buffer>([
          [1, () => rng.bytes(rng.int(1, 300))],
          [
            1,
            () =>
              Buffer.from(
                rng.pick([
                  'GET\r\n\r\n',
                  'GET / HTTP/9.9\r\n\r\n',
                  'GET / HTTP/1.1\n\n',
                  '\r\n\r\n',
                  'GET / HTTP/1.1\r\nHost x\r\n\r\n',
                  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
                  'GET / HTTP/1.1\r\n Folded: x\r\n\r\n',
                ]),
              ),
          ],
        ]),
        path: '/',
        head: false,
        halfClose: true,
        mayClose: true,
      }),
    ],
  ]);
}
