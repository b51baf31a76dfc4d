import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { API_KEY, type Running, startServer } from '../helpers/server.js';

let s: Running;
before(async () => {
  s = await startServer({ maxBodyBytes: 1024, historySize: 10 });
});
after(() => s.close());

/** The fields the tests read from the API's answers (each answer has some of them). */
interface ApiBody {
  offset: number;
  epoch: string;
  messages: { channel: string; offset: number; data: unknown }[];
  recovered: boolean;
  publications: { channel: string; offset: number }[];
  channels: unknown;
  error: { code: string; message: string };
  ready: boolean;
}

async function call(path: string, init: RequestInit & { key?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers['x-api-key'] = init.key ?? API_KEY;
  const res = await fetch(s.base + path, { ...init, headers: { ...headers, ...(init.headers as object) } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as ApiBody) };
}

test('publish assigns consecutive offsets in one epoch; history returns them', async () => {
  const a = await call('/api/publish', {
    method: 'POST',
    body: JSON.stringify({ channel: 'news', data: { n: 1 } }),
  });
  const b = await call('/api/publish', {
    method: 'POST',
    body: JSON.stringify({ channel: 'news', data: [2] }),
  });
  assert.equal(a.status, 200);
  assert.equal(b.body!.offset, a.body!.offset + 1);
  assert.equal(b.body!.epoch, a.body!.epoch);
  const h = await call(`/api/history?channel=news&since=${a.body!.offset - 1}&limit=100`);
  assert.equal(h.status, 200);
  assert.deepEqual(h.body!.messages, [
    { channel: 'news', offset: a.body!.offset, data: { n: 1 } },
    { channel: 'news', offset: b.body!.offset, data: [2] },
  ]);
  assert.equal(h.body!.recovered, true);
});

test('broadcast publishes to every channel', async () => {
  const r = await call('/api/broadcast', {
    method: 'POST',
    body: JSON.stringify({ channels: ['x', 'y'], data: 'hi' }),
  });
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body!.publications.map((p: { channel: string; offset: number }) => [p.channel, p.offset]),
    [
      ['x', 1],
      ['y', 1],
    ],
  );
});

test('history that no longer reaches back says recovered: false', async () => {
  for (let i = 0; i < 15; i++) {
    await call('/api/publish', { method: 'POST', body: JSON.stringify({ channel: 'short', data: i }) });
  }
  const h = await call('/api/history?channel=short&since=0');
  assert.equal(h.body!.recovered, false);
  assert.equal(h.body!.messages.length, 10);
  assert.equal(h.body!.messages[0]!.offset, 6);
});

test('channels lists channels with subscribers', async () => {
  const r = await call('/api/channels');
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.body!.channels));
});

test('bad input gets a clear answer and changes nothing', async () => {
  const cases: [string, RequestInit & { key?: string | null }, number, string][] = [
    ['/api/publish', { method: 'POST', body: '{"channel":"news","data":1}', key: null }, 401, 'unauthorized'],
    [
      '/api/publish',
      { method: 'POST', body: '{"channel":"news","data":1}', key: 'wrong' },
      401,
      'unauthorized',
    ],
    ['/api/publish', { method: 'POST', body: '{nope' }, 400, 'invalid_json'],
    ['/api/publish', { method: 'POST', body: '[1,2]' }, 400, 'bad_request'],
    ['/api/publish', { method: 'POST', body: '{"channel":"news"}' }, 400, 'bad_request'],
    ['/api/publish', { method: 'POST', body: '{"channel":"bad name","data":1}' }, 400, 'invalid_channel'],
    [
      '/api/publish',
      { method: 'POST', body: `{"channel":"${'a'.repeat(300)}","data":1}` },
      400,
      'invalid_channel',
    ],
    [
      '/api/publish',
      { method: 'POST', body: JSON.stringify({ channel: 'news', data: 'x'.repeat(2000) }) },
      413,
      'payload_too_large',
    ],
    ['/api/publish', { method: 'GET' }, 405, 'method_not_allowed'],
    ['/api/broadcast', { method: 'POST', body: '{"channels":[],"data":1}' }, 400, 'bad_request'],
    ['/api/history?channel=news&since=-1', {}, 400, 'bad_request'],
    ['/api/nothing', {}, 404, 'not_found'],
    ['/nothing', {}, 404, 'not_found'],
  ];
  const before = await call('/api/history?channel=news&since=0');
  for (const [path, init, status, code] of cases) {
    const r = await call(path, init);
    assert.equal(r.status, status, `${init.method ?? 'GET'} ${path} ${String(init.body).slice(0, 40)}`);
    assert.equal(r.body!.error.code, code);
    assert.equal(typeof r.body!.error.message, 'string');
  }
  const afterwards = await call('/api/history?channel=news&since=0');
  assert.equal(afterwards.body!.offset, before.body!.offset, 'no bad request published anything');
});

test('health and ready', async () => {
  assert.equal((await call('/health')).status, 200);
  const r = await call('/ready');
  assert.equal(r.status, 200);
  assert.equal(r.body!.ready, true);
});

/** Writes raw bytes and returns the status line of the answer. */
function rawStatus(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: s.port, host: '127.0.0.1' }, () => socket.write(bytes));
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
  });
}

test('a header block over maxHeaderBytes gets 431; other unparsable requests 400', async () => {
  const big = `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(s.config.maxHeaderBytes + 10)}\r\n\r\n`;
  assert.equal(await rawStatus(big), 'HTTP/1.1 431 Request Header Fields Too Large');
  assert.equal(await rawStatus('GET / HTTP/9.9\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
});

/** Writes raw bytes and returns the status lines of every answer until the server closes. */
function rawStatuses(bytes: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: s.port, host: '127.0.0.1' }, () => socket.write(bytes));
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? []));
  });
}

test('an oversized body answered 413 does not cut off the answers to earlier pipelined requests', async () => {
  const pub = await call('/api/publish', {
    method: 'POST',
    body: JSON.stringify({ channel: 'pipe', data: 1 }),
  });
  // The long-poll answers on a later turn of the event loop, after the oversized publish is refused.
  const poll = `GET /poll?channel=pipe&cursor=${pub.body!.epoch}-0 HTTP/1.1\r\nHost: x\r\n\r\n`;
  const big = `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"channel":"pipe","data":"`;
  assert.deepEqual(await rawStatuses(poll + big), ['HTTP/1.1 200 OK', 'HTTP/1.1 413 Payload Too Large']);
});

test('data nested too deeply to serialize is a 400, not a 503 to retry', async () => {
  const big = await startServer({ maxBodyBytes: 1 << 20 });
  try {
    const depth = 100_000;
    for (const [path, head] of [
      ['/api/publish', '{"channel":"deep","data":'],
      ['/api/broadcast', '{"channels":["deep"],"data":'],
    ] as const) {
      const res = await fetch(big.base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: `${head}${'['.repeat(depth)}${']'.repeat(depth)}}`,
      });
      assert.equal(res.status, 400, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
    }
  } finally {
    await big.close();
  }
});
