import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { get, RawConn, type RawResponse, until } from '../helpers/raw-http.js';
import { type Running, startServer } from '../helpers/server.js';

/**
 * Every SSE and long-poll request is answered the same whichever way it reaches the server: as
 * the first request of a fresh connection (the fast path, http1/fastpath.ts) or after another
 * request on a kept-alive one (node:http's routes). Each case runs both ways; the outcomes
 * (status, the header fields that matter, the events or the JSON body) must be equal, and as
 * expected.
 */

const ALLOWED = 'http://ok.test';
const FIELDS = [
  'content-type',
  'cache-control',
  'connection',
  'transfer-encoding',
  'x-accel-buffering',
  'access-control-allow-origin',
  'vary',
] as const;

interface Case {
  name: string;
  target: string;
  headers?: string;
  status: number;
  /** A 200: publish to this channel once subscribed; the outcome then holds its message. */
  publish?: string;
  /** SSE: the channels the stream says it follows (its `subscribed` events). */
  follows?: string[];
}

interface Outcome {
  status: number;
  fields: Record<string, string | undefined>;
  /** SSE: events as `name channel`; poll: the JSON body without its cursor; errors: the body. */
  content: unknown;
}

let s: Running;

before(async () => {
  s = await startServer({ pollTimeout: 300, allowedOrigins: [ALLOWED, 'null'] });
});
after(async () => {
  await s.close();
});

const longTarget = (path: string): string => `${path}?channel=long&pad=${'p'.repeat(9 * 1024)}`;
const manyChannels = Array.from({ length: 129 }, (_, i) => `channel=m${i}`).join('&');

const SSE_CASES: Case[] = [
  {
    name: 'a comma is part of the name',
    target: '/sse?channel=dm%3Arx%2342%2C43',
    status: 200,
    follows: ['dm:rx#42,43'],
    publish: 'dm:rx#42,43',
  },
  {
    name: 'a literal comma too',
    target: '/sse?channel=c,d',
    status: 200,
    follows: ['c,d'],
  },
  {
    name: 'repeated parameters, a repeat, an allowed Origin',
    target: '/sse?channel=s1&channel=s2&channel=s1',
    headers: `Origin: ${ALLOWED}\r\n`,
    status: 200,
    follows: ['s1', 's2'],
    publish: 's2',
  },
  { name: 'a fragment is not part of the query', target: '/sse?channel=s3#x', status: 200, follows: ['s3'] },
  {
    name: 'a malformed Last-Event-ID starts from now',
    target: '/sse?channel=s4',
    headers: 'Last-Event-ID: nonsense\r\n',
    status: 200,
    follows: ['s4'],
  },
  { name: 'a 9 KiB URL', target: longTarget('/sse'), status: 414 },
  { name: 'a bad channel name', target: '/sse?channel=bad%20name', status: 400 },
  { name: 'no channel', target: '/sse', status: 400 },
  { name: 'too many channels', target: `/sse?${manyChannels}`, status: 400 },
  {
    name: 'an Origin not allowed',
    target: '/sse?channel=s5',
    headers: 'Origin: http://evil.test\r\n',
    status: 403,
  },
];

const POLL_CASES: Case[] = [
  {
    name: 'a comma is part of the name',
    target: '/poll?channel=dm%3Arx%2342%2C43',
    status: 200,
    publish: 'dm:rx#42,43',
  },
  {
    name: 'repeated parameters, an allowed Origin',
    target: '/poll?channel=p1&channel=p2',
    headers: `Origin: ${ALLOWED}\r\n`,
    status: 200,
    publish: 'p2',
  },
  { name: 'a 9 KiB URL', target: longTarget('/poll'), status: 414 },
  { name: 'a malformed cursor', target: '/poll?channel=p3&cursor=nonsense', status: 400 },
  { name: 'a cursor for other channels', target: '/poll?channel=p3&channel=p4&cursor=abc-1', status: 400 },
  { name: 'a bad channel name', target: '/poll?channel=bad%20name', status: 400 },
  { name: 'too many channels', target: `/poll?${manyChannels}`, status: 400 },
  {
    name: 'an Origin not allowed',
    target: '/poll?channel=p5',
    headers: 'Origin: http://evil.test\r\n',
    status: 403,
  },
];

function fields(r: RawResponse): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const k of FIELDS) out[k] = r.headers.get(k);
  return out;
}

/** `event channel` for each named event, `message channel data` for each publication. */
function events(body: string): string[] {
  const out: string[] = [];
  for (const block of body.split('\n\n')) {
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (data === undefined) continue;
    const d = JSON.parse(data) as { channel?: string; data?: unknown };
    out.push(`${event ?? 'message'} ${d.channel}${event === undefined ? ` ${JSON.stringify(d.data)}` : ''}`);
  }
  return out;
}

const subscribed = (c: RawConn, n: number) => () => events(c.responses()[0]?.body ?? '').length >= n;

async function run(c: RawConn, k: Case, sse: boolean): Promise<Outcome> {
  c.socket.write(get(k.target, k.headers ?? ''));
  await until(() => c.responses().length === 1, 5000, `the answer to ${k.name}`);
  let r = c.responses()[0]!;
  if (r.status === 200 && sse) {
    const n = k.follows?.length ?? 0;
    await until(subscribed(c, n), 5000, 'subscribed events');
    if (k.publish !== undefined) {
      await s.publish(k.publish, k.name);
      await until(subscribed(c, n + 1), 5000, 'the publication');
    }
    r = c.responses()[0]!;
    return { status: r.status, fields: fields(r), content: events(r.body) };
  }
  if (r.status === 200) return { status: r.status, fields: fields(r), content: null };
  return { status: r.status, fields: fields(r), content: JSON.parse(r.body) };
}

/** A poll is held: publish once it is subscribed, then read the answer. */
async function runPoll(c: RawConn, k: Case): Promise<Outcome> {
  if (k.status !== 200) return run(c, k, false);
  const before = s.server.poll.sessions.size;
  c.socket.write(get(k.target, k.headers ?? ''));
  await until(() => s.server.poll.sessions.size > before, 5000, 'the held poll');
  await until(
    () => s.server.node.channels().some((ch) => ch.channel === k.publish),
    5000,
    'the subscription',
  );
  await s.publish(k.publish!, k.name);
  await until(() => c.responses().length === 1, 5000, `the answer to ${k.name}`);
  const r = c.responses()[0]!;
  const body = JSON.parse(r.body) as { cursor?: string; messages: { channel: string; data: unknown }[] };
  return {
    status: r.status,
    fields: fields(r),
    content: body.messages.map((m) => `${m.channel} ${JSON.stringify(m.data)}`),
  };
}

async function bothWays(k: Case, sse: boolean): Promise<void> {
  const outcomes: Outcome[] = [];
  for (const open of [RawConn.open, RawConn.afterAnother]) {
    const c = await open(s.port);
    try {
      outcomes.push(sse ? await run(c, k, true) : await runPoll(c, k));
    } finally {
      c.destroy();
    }
    await until(() => s.server.node.sessionCount === 0, 5000, 'the session to end');
  }
  const [fast, node] = outcomes as [Outcome, Outcome];
  assert.deepEqual(node, fast, `${k.name}: node:http and the fast path differ`);
  assert.equal(fast.status, k.status, k.name);
  if (sse && k.status === 200) {
    assert.deepEqual(
      (fast.content as string[]).filter((e) => e.startsWith('subscribed ')),
      (k.follows ?? []).map((ch) => `subscribed ${ch}`),
      k.name,
    );
    assert.equal(fast.fields['connection'], 'close', k.name);
    assert.equal(fast.fields['transfer-encoding'], undefined, k.name);
  }
  if (k.publish !== undefined) {
    assert.ok(
      (fast.content as string[]).some((e) => e.endsWith(`${k.publish} ${JSON.stringify(k.name)}`)),
      `${k.name}: the publication to ${k.publish} came`,
    );
  }
}

for (const k of SSE_CASES) {
  test(`SSE, both paths alike: ${k.name} (${k.status})`, () => bothWays(k, true));
}
for (const k of POLL_CASES) {
  test(`long-poll, both paths alike: ${k.name} (${k.status})`, () => bothWays(k, false));
}
