import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventSource } from 'eventsource';
import { type Running, startServer } from '../helpers/server.js';

let s: Running;
before(async () => {
  s = await startServer({ pollTimeout: 1 });
});
after(() => s.close());

/** A publication as SSE data and in long-poll answers. */
interface Message {
  channel: string;
  offset: number;
  data: unknown;
}
interface PollAnswer {
  cursor: string;
  messages: Message[];
  recovered?: boolean;
  reset?: { channel: string }[];
}

function collect(es: EventSource, into: { id: string; data: Message }[]): void {
  es.addEventListener('message', (e) => into.push({ id: e.lastEventId, data: JSON.parse(e.data) }));
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('SSE: one event per publication across channels; Last-Event-ID resumes every channel', async () => {
  const url = `${s.base}/sse?channel=s1&channel=s2`;
  const got: { id: string; data: Message }[] = [];
  const es = new EventSource(url);
  const subscribed: string[] = [];
  es.addEventListener('subscribed', (e) => subscribed.push(JSON.parse(e.data).channel));
  collect(es, got);
  await until(() => subscribed.length === 2);
  await s.publish('s1', 'a');
  await s.publish('s2', 'b');
  await until(() => got.length === 2);
  assert.deepEqual(
    got.map((g) => [g.data.channel, g.data.data]),
    [
      ['s1', 'a'],
      ['s2', 'b'],
    ],
  );
  const lastId = got[1]!.id;
  es.close();
  await s.publish('s1', 'c');
  await s.publish('s2', 'd');
  await s.publish('s1', 'e');
  // A new EventSource resuming from the last id, as a reconnecting one does.
  const res = await fetch(url, { headers: { 'last-event-id': lastId } });
  const reader = res.body!.getReader();
  let text = '';
  while ((text.match(/\ndata: \{"channel"/g) ?? []).length < 3) {
    const { value } = await reader.read();
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  // Unnamed events are publications; order is per channel (each channel's backlog comes whole).
  const pubs = text
    .split('\n\n')
    .filter((e) => !e.includes('event:') && e.includes('data: '))
    .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as { channel: string; data: string });
  assert.deepEqual(
    pubs.filter((p) => p.channel === 's1').map((p) => p.data),
    ['c', 'e'],
  );
  assert.deepEqual(
    pubs.filter((p) => p.channel === 's2').map((p) => p.data),
    ['d'],
  );
  assert.match(text, /"recovered":true/);
});

test('SSE: a stale Last-Event-ID is told recovered: false', async () => {
  const res = await fetch(`${s.base}/sse?channel=s1`, { headers: { 'last-event-id': 'zzzz0000-1' } });
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: subscribed')) text += new TextDecoder().decode((await reader.read()).value);
  while (!text.includes('\n\n', text.indexOf('event: subscribed'))) {
    text += new TextDecoder().decode((await reader.read()).value);
  }
  await reader.cancel();
  assert.match(text, /"recovered":false/);
});

test('SSE: bad channel list is a 400', async () => {
  const res = await fetch(`${s.base}/sse?channel=bad%20name`);
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_channel');
  const none = await fetch(`${s.base}/sse`);
  assert.equal(none.status, 400);
});

test('long-poll: holds until a message, then resumes from the cursor', async () => {
  const first = fetch(`${s.base}/poll?channel=p1&channel=p2`).then((r) => r.json() as Promise<PollAnswer>);
  await new Promise((r) => setTimeout(r, 100));
  await s.publish('p2', 'x');
  const a = await first;
  assert.deepEqual(a.messages, [{ channel: 'p2', offset: 1, data: 'x' }]);
  await s.publish('p1', 'y');
  await s.publish('p2', 'z');
  const b = (await (
    await fetch(`${s.base}/poll?channel=p1&channel=p2&cursor=${a.cursor}`)
  ).json()) as PollAnswer;
  assert.deepEqual(
    b.messages.map((m) => m.data),
    ['y', 'z'],
  );
  // Nothing after the cursor: the server holds the request (a session while it waits) and
  // answers it empty at the hold time-out.
  const held = s.server.node.sessionCount + 1;
  let answered = false;
  const pending = fetch(`${s.base}/poll?channel=p1&channel=p2&cursor=${b.cursor}`).then(async (r) => {
    const answer = (await r.json()) as PollAnswer;
    answered = true;
    return answer;
  });
  await until(() => s.server.node.sessionCount === held);
  assert.equal(answered, false, 'it is held');
  const c = await pending;
  assert.deepEqual(c.messages, [], 'empty answer at the hold time-out');
  assert.equal(c.cursor, b.cursor);
});

test('long-poll: a stale cursor is told recovered: false with the reset channels', async () => {
  await s.publish('p3', 1);
  const r = (await (await fetch(`${s.base}/poll?channel=p3&cursor=zzzz0000-0`)).json()) as PollAnswer;
  assert.equal(r.recovered, false);
  assert.equal(r.reset?.[0]?.channel, 'p3');
  const bad = await fetch(`${s.base}/poll?channel=p3&cursor=garbage`);
  assert.equal(bad.status, 400);
});
