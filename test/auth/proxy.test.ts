import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import type { ConnectInfo } from '../../src/auth/access.js';
import { ProxyBackend, type ProxyConfig, type ProxyFault, type ProxyName } from '../../src/auth/proxy.js';
import { MAX_ANSWER_BYTES, PROXY_USER_AGENT } from '../../src/auth/proxy-http.js';
import { HoldfastError } from '../../src/contract/codes.js';
import type { Identity } from '../../src/contract/identity.js';
import { json, TestBackend } from '../helpers/proxy-backend.js';

const backend = new TestBackend();
let base = '';
/** Backends made by make(), closed after each test. */
let made: ProxyBackend[] = [];
/** Answers held by a test, released after each test. */
let held: (() => void)[] = [];

before(async () => {
  base = await backend.start();
});
after(async () => {
  for (const b of made) b.close();
  for (const release of held) release();
  await backend.stop();
});
beforeEach(() => {
  for (const b of made) b.close();
  made = [];
  for (const release of held) release();
  held = [];
  backend.received.length = 0;
  backend.handler = (_req, res) => json(res, 200, {});
});

function make(over: Partial<ProxyConfig> = {}, faults?: [ProxyName, ProxyFault, string][]): ProxyBackend {
  const b = new ProxyBackend(
    {
      connectProxy: `${base}/connect`,
      subscribeProxy: `${base}/subscribe`,
      publishProxy: `${base}/publish`,
      proxyTimeout: 5000,
      proxyMaxInFlight: 8,
      proxyHeaders: ['cookie', 'authorization', 'origin'],
      maxChannelLength: 255,
      maxFrameBytes: 65536,
      ...over,
    },
    faults === undefined ? null : (p, f, d) => faults.push([p, f, d]),
  );
  made.push(b);
  return b;
}

const info: ConnectInfo = {
  transport: 'ws',
  token: undefined,
  headers: { cookie: 'sid=abc', authorization: 'Basic eDp5' },
  remoteAddr: '127.0.0.1',
};
const ann: Identity = { user: '42', info: { name: 'Ann' }, channels: [], expiresAt: 0 };

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HoldfastError, String(err));
    assert.equal(err.code, code);
    return true;
  });
}

function connect(b: ProxyBackend, c: ConnectInfo = info): Promise<Identity | null> {
  assert.ok(b.connect !== null);
  return b.connect(c);
}

/** A handler that never answers until the test ends (or the client gives up). */
function hold(): void {
  backend.handler = (_req, res) => {
    held.push(() => res.destroy());
  };
}

test('connect: the backend says who the connection is', async () => {
  backend.handler = (_req, res) =>
    json(res, 200, { user: '42', info: { name: 'Ann' }, channels: ['a', 'b*'], expireAt: 4_000_000_000 });
  const b = make();
  assert.deepEqual(await connect(b), {
    user: '42',
    info: { name: 'Ann' },
    channels: ['a', 'b*'],
    expiresAt: 4_000_000_000_000,
  });
  const r = backend.received[0];
  assert.ok(r !== undefined);
  assert.equal(r.path, '/connect');
  assert.deepEqual(r.body, {
    transport: 'ws',
    headers: { cookie: 'sid=abc', authorization: 'Basic eDp5' },
    remoteAddr: '127.0.0.1',
  });
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['user-agent'], PROXY_USER_AGENT);
  assert.deepEqual(b.stats, {
    requests: 1,
    allowed: 1,
    refused: 0,
    failures: { at_cap: 0, timeout: 0, network: 0, too_large: 0, status: 0, malformed: 0 },
  });
});

test('connect: {"user": ""} admits the connection as anonymous', async () => {
  backend.handler = (_req, res) => json(res, 200, { user: '' });
  assert.equal(await connect(make()), null);
});

test('forwarded: only the configured headers, never hop-by-hop ones, and only in the body', async () => {
  backend.handler = (_req, res) => json(res, 200, { user: '1' });
  const b = make({
    proxyHeaders: ['Cookie', ' authorization ', 'connection', 'upgrade', 'host', 'x-missing'],
  });
  await connect(b, {
    ...info,
    headers: {
      cookie: 'sid=abc',
      authorization: 'Bearer t',
      connection: 'close',
      upgrade: 'websocket',
      host: 'evil.example',
      'x-other': 'secret',
    },
  });
  const r = backend.received[0];
  assert.ok(r !== undefined);
  assert.deepEqual(r.body, {
    transport: 'ws',
    headers: { cookie: 'sid=abc', authorization: 'Bearer t' },
    remoteAddr: '127.0.0.1',
  });
  // The proxy request's own headers are Holdfast's: the client's cookie is not among them.
  assert.equal(r.headers.cookie, undefined);
  assert.equal(r.headers.authorization, undefined);
  assert.notEqual(r.headers.host, 'evil.example');
});

test('refusals: 401 and 403 are permission_denied, for every proxy', async () => {
  const b = make();
  for (const status of [401, 403]) {
    backend.handler = (_req, res) => json(res, status, { user: '42', channels: ['*'] });
    await rejectsWith(connect(b), 'permission_denied');
    assert.ok(b.subscribe !== null && b.publish !== null);
    await rejectsWith(b.subscribe(ann, 'a', info), 'permission_denied');
    await rejectsWith(b.publish(ann, 'a', '{"x":1}', info), 'permission_denied');
  }
  assert.equal(b.stats.refused, 6);
  assert.equal(b.stats.allowed, 0);
});

test('connect: an expireAt already passed refuses the connection', async () => {
  backend.handler = (_req, res) => json(res, 200, { user: '42', expireAt: 1000 });
  const b = make();
  await rejectsWith(connect(b), 'permission_denied');
  assert.equal(b.stats.refused, 1);
});

test('faults: other statuses, a reset, a refused connection are backend_unavailable', async () => {
  const faults: [ProxyName, ProxyFault, string][] = [];
  const b = make({}, faults);
  for (const status of [500, 503, 404, 302, 201, 204]) {
    backend.handler = (_req, res) => json(res, status, { user: '42' });
    await rejectsWith(connect(b), 'backend_unavailable');
  }
  backend.handler = (_req, res) => res.socket?.destroy();
  await rejectsWith(connect(b), 'backend_unavailable');
  assert.equal(b.stats.failures.status, 6);
  assert.equal(b.stats.failures.network, 1);
  assert.deepEqual(faults[0], ['connect', 'status', 'status 500']);

  const closed = await closedPort();
  const nowhere = make({ connectProxy: `http://127.0.0.1:${closed}/connect` });
  await rejectsWith(connect(nowhere), 'backend_unavailable');
  assert.equal(nowhere.stats.failures.network, 1);
});

test('faults: a body cut short mid-answer is backend_unavailable', async () => {
  backend.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"user": "42"');
    setImmediate(() => res.socket?.destroy());
  };
  const b = make();
  await rejectsWith(connect(b), 'backend_unavailable');
  assert.equal(b.stats.failures.network, 1);
  assert.equal(b.inFlight, 0);
});

test('faults: a 200 that is not JSON, or not an identity, is backend_unavailable (never an open door)', async () => {
  const faults: [ProxyName, ProxyFault, string][] = [];
  const b = make({}, faults);
  const bodies = [
    'not json',
    '',
    '[]',
    '{"user": 42}',
    '{"user": "42", "channels": "*"}',
    '{"user": "42", "channels": {"0": "*"}}',
    '{"user": "42", "expireAt": "never"}',
  ];
  for (const text of bodies) {
    backend.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    };
    await rejectsWith(connect(b), 'backend_unavailable');
  }
  assert.equal(b.stats.failures.malformed, bodies.length);
  assert.ok(faults.every(([p, f]) => p === 'connect' && f === 'malformed'));
});

test('faults: an answer over the cap, declared or chunked, is backend_unavailable', async () => {
  const b = make();
  const big = JSON.stringify({ user: '42', info: 'x'.repeat(MAX_ANSWER_BYTES) });
  backend.handler = (_req, res) => json(res, 200, JSON.parse(big));
  await rejectsWith(connect(b), 'backend_unavailable');
  backend.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (let i = 0; i < 20; i++) res.write('x'.repeat(8192));
    res.end();
  };
  await rejectsWith(connect(b), 'backend_unavailable');
  assert.equal(b.stats.failures.too_large, 2);
  assert.equal(b.inFlight, 0);
});

test('time-out: a backend that does not answer refuses the client and frees the slot', async () => {
  const b = make({ proxyMaxInFlight: 1, proxyTimeout: 100 });
  hold();
  await rejectsWith(connect(b), 'backend_unavailable');
  assert.equal(b.stats.failures.timeout, 1);
  assert.equal(b.inFlight, 0);
  backend.handler = (_req, res) => json(res, 200, { user: '7' });
  assert.equal((await connect(b))?.user, '7', 'the slot of the timed-out request is free again');
});

test('time-out: headers then a body that trickles forever still ends at the deadline', async () => {
  const b = make({ proxyMaxInFlight: 1, proxyTimeout: 150 });
  backend.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"user": "42"');
    const t = setInterval(() => res.write(' '), 10);
    res.on('close', () => clearInterval(t));
    held.push(() => clearInterval(t));
  };
  await rejectsWith(connect(b), 'backend_unavailable');
  assert.equal(b.stats.failures.timeout, 1);
  assert.equal(b.inFlight, 0);
});

test('cap: past proxyMaxInFlight a question is refused at once, without a request', async () => {
  const b = make({ proxyMaxInFlight: 2, proxyTimeout: 5000 });
  const answers: (() => void)[] = [];
  backend.handler = (_req, res) => answers.push(() => json(res, 200, { user: '1' }));
  const first = connect(b);
  const second = connect(b);
  await rejectsWith(connect(b), 'backend_unavailable');
  assert.equal(b.stats.failures.at_cap, 1);
  assert.equal(b.inFlight, 2);
  while (answers.length < 2) await new Promise((r) => setTimeout(r, 5));
  for (const answer of answers) answer();
  assert.equal((await first)?.user, '1');
  assert.equal((await second)?.user, '1');
  assert.equal(backend.received.length, 2, 'the third question sent nothing');
  assert.equal(b.inFlight, 0);
});

test('keep-alive: sequential questions share one TCP connection', async () => {
  backend.handler = (_req, res) => json(res, 200, { user: '1' });
  const b = make();
  const before = backend.connections;
  for (let i = 0; i < 5; i++) await connect(b);
  assert.ok(b.subscribe !== null);
  await b.subscribe(ann, 'a', info);
  assert.equal(backend.connections - before, 1);
  assert.deepEqual(
    backend.received.map((r) => r.reused),
    [0, 1, 2, 3, 4, 5],
  );
});

test('keep-alive: a reused connection closed by the backend is retried once for connect, not for publish', async () => {
  backend.handler = (_req, res) => json(res, 200, { user: '1' });
  const b = make();
  await connect(b);
  // The backend drops the kept-alive connection as the next request arrives on it.
  backend.handler = (req, res) => {
    if (req.reused > 0) res.socket?.destroy();
    else json(res, 200, { user: '2' });
  };
  assert.equal((await connect(b))?.user, '2');
  assert.equal(b.stats.failures.network, 0);

  backend.handler = (_req, res) => json(res, 200, {});
  assert.ok(b.publish !== null);
  await b.publish(ann, 'a', '1', info);
  backend.handler = (req, res) => {
    if (req.reused > 0) res.socket?.destroy();
    else json(res, 200, {});
  };
  await rejectsWith(b.publish(ann, 'a', '1', info), 'backend_unavailable');
  assert.equal(b.stats.failures.network, 1);
});

test('subscribe: the body, and 200 with {} or nothing allows', async () => {
  const b = make();
  assert.ok(b.subscribe !== null);
  await b.subscribe(ann, 'chat:room', { ...info, transport: 'sse' });
  backend.handler = (_req, res) => {
    res.writeHead(200);
    res.end();
  };
  await b.subscribe(null, 'chat:lobby', info);
  assert.deepEqual(backend.received[0]?.body, {
    user: '42',
    channel: 'chat:room',
    transport: 'sse',
    info: { name: 'Ann' },
    headers: { cookie: 'sid=abc', authorization: 'Basic eDp5' },
  });
  assert.deepEqual(backend.received[1]?.body, {
    user: '',
    channel: 'chat:lobby',
    transport: 'ws',
    headers: { cookie: 'sid=abc', authorization: 'Basic eDp5' },
  });
  backend.handler = (_req, res) => json(res, 200, ['allowed']);
  await rejectsWith(b.subscribe(ann, 'a', info), 'backend_unavailable');
});

test('publish: the client data, or the backend replacement, as JSON text', async () => {
  const b = make({ maxFrameBytes: 128 });
  assert.ok(b.publish !== null);
  assert.equal(await b.publish(ann, 'chat:room', '{"text":"hi"}', info), '{"text":"hi"}');
  assert.deepEqual(backend.received[0]?.body, {
    user: '42',
    channel: 'chat:room',
    data: { text: 'hi' },
    transport: 'ws',
    info: { name: 'Ann' },
    headers: { cookie: 'sid=abc', authorization: 'Basic eDp5' },
  });
  backend.handler = (_req, res) => json(res, 200, { data: { text: 'hi', by: 'Ann' } });
  assert.equal(await b.publish(ann, 'chat:room', '{"text":"hi"}', info), '{"text":"hi","by":"Ann"}');
  backend.handler = (_req, res) => json(res, 200, { data: 'x'.repeat(200) });
  await rejectsWith(b.publish(ann, 'chat:room', '1', info), 'backend_unavailable');
  assert.equal(b.stats.failures.malformed, 1);
});

test('publish: data that is not JSON text cannot add fields to the request', async () => {
  const b = make();
  assert.ok(b.publish !== null);
  await rejectsWith(b.publish(ann, 'a', '1, "user": "admin"', info), 'invalid_json');
  await rejectsWith(b.publish(ann, 'a', '1} , {"user": "admin"', info), 'invalid_json');
  assert.equal(backend.received.length, 0);
});

test('close: questions in flight fail with backend_unavailable, and their slots are freed', async () => {
  const b = make();
  hold();
  const pending = connect(b);
  while (backend.received.length < 1) await new Promise((r) => setTimeout(r, 5));
  b.close();
  await rejectsWith(pending, 'backend_unavailable');
  assert.equal(b.inFlight, 0);
});

test('proxies not configured are null', () => {
  const b = make({ subscribeProxy: '', publishProxy: '' });
  assert.notEqual(b.connect, null);
  assert.equal(b.subscribe, null);
  assert.equal(b.publish, null);
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
