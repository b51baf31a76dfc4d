import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Running, startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

let s: Running;
before(async () => {
  s = await startServer({ maxFrameBytes: 1024, maxChannelsPerConnection: 3 });
});
after(() => s.close());

test('subscribe, receive pushes, unsubscribe, ping', async () => {
  const c = await TestWs.connect(s.wsUrl);
  const r = await c.request({ id: 1, op: 'subscribe', channel: 'news' });
  assert.equal(r['ok'], true);
  assert.equal(typeof r['epoch'], 'string');
  await s.publish('news', { text: 'hello' });
  const [m] = await c.waitForMessages(1, 'news');
  assert.deepEqual(m, {
    op: 'message',
    channel: 'news',
    offset: (r['offset'] as number) + 1,
    data: { text: 'hello' },
  });
  assert.deepEqual(await c.request({ id: 2, op: 'ping' }), { id: 2, ok: true });
  assert.deepEqual(await c.request({ id: 3, op: 'unsubscribe', channel: 'news' }), { id: 3, ok: true });
  await s.publish('news', 'after');
  assert.deepEqual(await c.request({ id: 4, op: 'ping' }), { id: 4, ok: true });
  assert.equal(c.messages('news').length, 1);
  c.close();
});

test('many channels per connection and many subscribers per channel, capped', async () => {
  const clients = await Promise.all([1, 2, 3].map(() => TestWs.connect(s.wsUrl)));
  for (const c of clients) {
    for (const [i, ch] of ['a', 'b', 'c'].entries()) {
      assert.equal((await c.request({ id: i, op: 'subscribe', channel: ch }))['ok'], true);
    }
    const over = await c.request({ id: 9, op: 'subscribe', channel: 'd' });
    assert.equal((over['error'] as { code: string }).code, 'too_many_channels');
  }
  await s.publish('b', 1);
  for (const c of clients) {
    const msgs = await c.waitForMessages(1, 'b');
    assert.equal(msgs.length, 1);
    c.close();
  }
});

test('resume with since gets what was missed, in order, then live', async () => {
  const c = await TestWs.connect(s.wsUrl);
  const r = await c.request({ id: 1, op: 'subscribe', channel: 'resume' });
  await s.publish('resume', 1);
  await c.waitForMessages(1, 'resume');
  c.close();
  await c.closed;
  for (let i = 2; i <= 5; i++) await s.publish('resume', i);
  const d = await TestWs.connect(s.wsUrl);
  const rr = await d.request({
    id: 1,
    op: 'subscribe',
    channel: 'resume',
    since: { epoch: r['epoch'], offset: (r['offset'] as number) + 1 },
  });
  assert.equal(rr['recovered'], true);
  await s.publish('resume', 6);
  const msgs = await d.waitForMessages(5, 'resume');
  assert.deepEqual(
    msgs.map((m) => m['data']),
    [2, 3, 4, 5, 6],
  );
  const bad = await TestWs.connect(s.wsUrl);
  const br = await bad.request({
    id: 1,
    op: 'subscribe',
    channel: 'resume',
    since: { epoch: 'gone', offset: 3 },
  });
  assert.equal(br['recovered'], false);
  assert.equal(br['ok'], true);
  d.close();
  bad.close();
});

test("one client's bad frames get errors and affect only that client", async () => {
  const good = await TestWs.connect(s.wsUrl);
  await good.request({ id: 1, op: 'subscribe', channel: 'shared' });
  const bad = await TestWs.connect(s.wsUrl);
  bad.send('{not json');
  assert.equal(
    ((await bad.next((m) => 'error' in m)) as { error: { code: string } }).error.code,
    'invalid_json',
  );
  bad.send({ id: 5, op: 'fly' });
  assert.equal(
    ((await bad.next((m) => m['id'] === 5)) as { error: { code: string } }).error.code,
    'unknown_op',
  );
  bad.send({ id: 6, op: 'subscribe', channel: 'no spaces' });
  assert.equal(
    ((await bad.next((m) => m['id'] === 6)) as { error: { code: string } }).error.code,
    'invalid_channel',
  );
  assert.deepEqual(await bad.request({ id: 7, op: 'ping' }), { id: 7, ok: true }, 'still connected');
  bad.send('x'.repeat(2000));
  assert.equal(await bad.closed, 1009);
  // The protocol is JSON text frames: a binary frame closes with 1003 (unsupported data).
  const binary = await TestWs.connect(s.wsUrl);
  binary.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal(await binary.closed, 1003);
  await s.publish('shared', 'fine');
  assert.equal((await good.waitForMessages(1, 'shared')).length, 1);
  good.close();
});

test('unknown upgrade paths are refused', async () => {
  await assert.rejects(TestWs.connect(s.wsUrl.replace('/ws', '/other')), /404/);
});

test('subscribe then unsubscribe at once: both commands are answered', async () => {
  const c = await TestWs.connect(s.wsUrl);
  const first = c.next((m) => m['id'] === 1);
  const second = c.next((m) => m['id'] === 2);
  c.send({ id: 1, op: 'subscribe', channel: 'race' });
  c.send({ id: 2, op: 'unsubscribe', channel: 'race' });
  assert.deepEqual(await second, { id: 2, ok: true });
  assert.equal(((await first)['error'] as { code: string }).code, 'not_subscribed');
  assert.deepEqual(await c.request({ id: 3, op: 'ping' }), { id: 3, ok: true });
  c.close();
});
