import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { json, type Received, TestBackend } from '../helpers/proxy-backend.js';
import { get, RawConn, until } from '../helpers/raw-http.js';
import { type Running, startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * The proxy to the application's backend, end to end: a real backend on loopback that knows its
 * users by a session cookie, behind connectProxy and subscribeProxy of a real server. The
 * backend allows, refuses, answers too late and fails; every refusal and every failure keeps
 * the client out (WebSocket close codes, SSE and long-poll statuses), and a refused or failed
 * subscription carries nothing of the channel.
 */

type Mode = 'allow' | 'refuse' | 'slow' | 'fail';
let mode: Mode = 'allow';
const held: ServerResponse[] = [];
const backend = new TestBackend();
let s: Running;

function answer(req: Received, res: ServerResponse): void {
  if (mode === 'slow') {
    held.push(res); // never answered in time: the server's proxyTimeout passes first
    return;
  }
  if (mode === 'fail') {
    json(res, 500, { oops: true });
    return;
  }
  const body = req.body as { headers?: Record<string, string>; channel?: string; user?: string };
  if (req.path === '/connect') {
    const sid = /(?:^|;\s*)sid=(\w+)/.exec(body.headers?.['cookie'] ?? '')?.[1];
    if (mode === 'refuse' || sid === undefined) {
      json(res, 401, {});
      return;
    }
    json(res, 200, { user: sid, info: { name: sid.toUpperCase() }, channels: [`chat:${sid}-room`] });
    return;
  }
  if (req.path === '/subscribe') {
    json(res, mode === 'allow' && body.channel === 'chat:open' ? 200 : 403, {});
    return;
  }
  if (req.path === '/publish') {
    const data = (req.body as { data?: { text?: string } }).data;
    if (mode !== 'allow' || data?.text === 'spam') json(res, 403, {});
    else if (data?.text === 'rude') json(res, 200, { data: { text: '***' } });
    else json(res, 200, {});
    return;
  }
  json(res, 404, {});
}

before(async () => {
  backend.handler = answer;
  const url = await backend.start();
  s = await startServer({
    connectProxy: `${url}/connect`,
    allowedOrigins: 'https://app.test',
    subscribeProxy: `${url}/subscribe`,
    publishProxy: `${url}/publish`,
    proxyTimeout: 300,
    namespaces: { '': {}, chat: { access: 'token', clientPublish: true } },
  });
});
after(async () => {
  await s.close();
  for (const r of held) r.destroy();
  await backend.stop();
});

const cookie = (sid: string) => ({
  headers: { cookie: `theme=dark; sid=${sid}`, authorization: 'Basic eDp5' },
});

async function status(path: string, sid: string | null): Promise<{ status: number; body: string }> {
  const conn = await RawConn.open(s.port);
  try {
    conn.socket.write(get(path, sid === null ? '' : `Cookie: sid=${sid}\r\n`));
    await until(() => conn.responses().length > 0, 5000, `an answer to ${path}`);
    const r = conn.responses()[0]!;
    return { status: r.status, body: r.body };
  } finally {
    conn.destroy();
  }
}

test('a backend that allows: the connection is its user, with the channels it grants; cookies and authorization are forwarded', async () => {
  mode = 'allow';
  const before = backend.received.length;
  const ws = await TestWs.connect(s.wsUrl, cookie('alice'));
  const ok = await ws.request({ id: 1, op: 'subscribe', channel: 'chat:alice-room' });
  assert.equal(ok['ok'], true);
  await s.publish('chat:alice-room', { hi: 1 });
  assert.deepEqual((await ws.waitForMessages(1, 'chat:alice-room'))[0]!['data'], { hi: 1 });
  const sent = backend.received.slice(before).find((r) => r.path === '/connect')!;
  const body = sent.body as { transport: string; headers: Record<string, string>; remoteAddr: string };
  assert.equal(body.transport, 'ws');
  assert.equal(body.headers['cookie'], 'theme=dark; sid=alice');
  assert.equal(body.headers['authorization'], 'Basic eDp5');
  assert.equal(body.headers['sec-websocket-key'], undefined);
  assert.match(body.remoteAddr, /127\.0\.0\.1/);
  // Another user's room is not granted: the subscribe proxy is asked, and refuses.
  const no = await ws.request({ id: 2, op: 'subscribe', channel: 'chat:bob-room' });
  assert.deepEqual(Object.keys(no).sort(), ['error', 'id']);
  assert.equal((no['error'] as { code: string }).code, 'permission_denied');
  // One the subscribe proxy allows.
  assert.equal((await ws.request({ id: 3, op: 'subscribe', channel: 'chat:open' }))['ok'], true);
  ws.ws.close();
  const sse = await status('/sse?channel=chat:alice-room', 'alice');
  assert.equal(sse.status, 200);
  const poll = await status('/poll?channel=chat:bob-room', 'alice');
  assert.equal(poll.status, 403);
  assert.doesNotMatch(poll.body, /epoch|offset|cursor/);
});

test('a backend that refuses: WebSocket closes 3501, SSE and long-poll answer 403', async () => {
  mode = 'refuse';
  const ws = await TestWs.connect(s.wsUrl, cookie('alice'));
  assert.equal(await ws.closed, 3501);
  mode = 'allow';
  const anonymous = await TestWs.connect(s.wsUrl); // no cookie: the backend answers 401
  assert.equal(await anonymous.closed, 3501);
  for (const path of ['/sse?channel=a', '/poll?channel=a']) {
    const r = await status(path, null);
    assert.equal(r.status, 403, path);
    assert.match(r.body, /permission_denied/);
  }
});

test('a backend that answers too late or fails never lets the client in: 3007 / 503 backend_unavailable', async () => {
  for (const m of ['slow', 'fail'] as const) {
    mode = m;
    const ws = await TestWs.connect(s.wsUrl, cookie('alice'));
    assert.equal(await ws.closed, 3007, m);
    for (const path of ['/sse?channel=chat:alice-room', '/poll?channel=chat:alice-room']) {
      const r = await status(path, 'alice');
      assert.equal(r.status, 503, `${m} ${path}`);
      assert.match(r.body, /backend_unavailable/);
      assert.doesNotMatch(r.body, /epoch|offset|cursor/);
    }
  }
});

test('a subscribe proxy that answers too late or fails: the subscription is refused with nothing of the channel', async () => {
  mode = 'allow';
  await s.publish('chat:open', { secret: 'history' });
  const ws = await TestWs.connect(s.wsUrl, cookie('carol'));
  assert.equal((await ws.request({ id: 1, op: 'subscribe', channel: 'chat:carol-room' }))['ok'], true);
  for (const m of ['slow', 'fail'] as const) {
    mode = m;
    const r = await ws.request({ id: m === 'slow' ? 2 : 3, op: 'subscribe', channel: 'chat:open' });
    assert.deepEqual(Object.keys(r).sort(), ['error', 'id'], m);
    assert.equal((r['error'] as { code: string }).code, 'backend_unavailable', m);
  }
  mode = 'allow';
  assert.equal(ws.messages('chat:open').length, 0);
  ws.ws.close();
});

test('a publish proxy allows, replaces, refuses, and a failing one publishes nothing', async () => {
  mode = 'allow';
  const ws = await TestWs.connect(s.wsUrl, cookie('dan'));
  assert.equal((await ws.request({ id: 1, op: 'subscribe', channel: 'chat:dan-room' }))['ok'], true);
  const pub = (id: number, text: string) =>
    ws.request({ id, op: 'publish', channel: 'chat:dan-room', data: { text } });
  const ok = await pub(2, 'hello');
  assert.equal(ok['ok'], true);
  assert.equal((await pub(3, 'rude'))['ok'], true);
  const refused = await pub(4, 'spam');
  assert.deepEqual(Object.keys(refused).sort(), ['error', 'id']);
  assert.equal((refused['error'] as { code: string }).code, 'permission_denied');
  for (const m of ['slow', 'fail'] as const) {
    mode = m;
    const r = await pub(m === 'slow' ? 5 : 6, 'late');
    assert.equal((r['error'] as { code: string }).code, 'backend_unavailable', m);
  }
  mode = 'allow';
  // A last allowed one: the channel's messages come in order, so once it is here, whatever was
  // published before it is too, and the refused ones are not among them.
  assert.equal((await pub(7, 'bye'))['ok'], true);
  const got = await ws.waitForMessages(3, 'chat:dan-room');
  assert.deepEqual(
    got.map((m) => m['data']),
    [{ text: 'hello' }, { text: '***' }, { text: 'bye' }],
  );
  assert.equal(got[0]!['offset'], ok['offset']);
  const sent = backend.received.filter((r) => r.path === '/publish').at(-1)!.body as Record<string, unknown>;
  assert.equal(sent['user'], 'dan');
  assert.equal(sent['channel'], 'chat:dan-room');
  ws.ws.close();
});
