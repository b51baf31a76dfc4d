import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Disconnects } from '../../src/contract/codes.js';
import { type Running, startServer } from '../helpers/server.js';

/**
 * 1,000 publications on one channel while a client on each transport is disconnected several
 * times (by the server and by itself): each must end with every message exactly once, in order.
 */
const TOTAL = 1000;
const CHANNEL = 'stream';
let s: Running;
before(async () => {
  s = await startServer({ historySize: 2000, pollTimeout: 2 });
});
after(() => s.close());

/** A WebSocket client that resubscribes from its last position after every close. */
function wsClient(url: string, got: number[], stop: { done: boolean }): { reconnects: number } {
  const state = { reconnects: 0 };
  let epoch = '';
  let offset = 0;
  const connect = (): void => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      const since = epoch === '' ? undefined : { epoch, offset };
      ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel: CHANNEL, since }));
    });
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.id === 1) {
        assert.equal(m.ok, true);
        if (epoch !== '') assert.equal(m.recovered, true, 'history covers the gap');
        if (epoch === '') offset = m.offset;
        epoch = m.epoch;
      } else if (m.op === 'message') {
        got.push(m.data);
        offset = m.offset;
        // The client also drops its own connection now and then.
        if (got.length % 170 === 0) ws.terminate();
      }
    });
    ws.on('close', () => {
      if (stop.done) return;
      state.reconnects++;
      setTimeout(connect, 5 + Math.random() * 20);
    });
    ws.on('error', () => undefined);
  };
  connect();
  return state;
}

/** A long-poll client that loops on its cursor and sometimes aborts a held request. */
async function pollClient(
  base: string,
  got: number[],
  stop: { done: boolean },
  seen: { aborts: number },
): Promise<number> {
  let aborts = 0;
  let requests = 0;
  const first = (await (
    await fetch(`${base}/api/history?channel=${CHANNEL}`, { headers: { 'x-api-key': 'test-key' } })
  ).json()) as {
    epoch: string;
    offset: number;
  };
  let cursor = `${first.epoch}-${first.offset}`;
  while (!stop.done) {
    const ac = new AbortController();
    // The first request is held (nothing is published before every client is connected), so
    // aborting it always cuts a held poll; later ones are cut now and then.
    const abortSoon = requests++ === 0 || Math.random() < 0.1;
    if (abortSoon) setTimeout(() => ac.abort(), 5);
    try {
      const r = (await (
        await fetch(`${base}/poll?channel=${CHANNEL}&cursor=${cursor}`, { signal: ac.signal })
      ).json()) as {
        cursor: string;
        messages: { data: number }[];
        recovered?: boolean;
      };
      assert.notEqual(r.recovered, false);
      for (const m of r.messages) got.push(m.data);
      cursor = r.cursor;
    } catch {
      aborts++;
      seen.aborts = aborts;
    }
  }
  return aborts;
}

test('1,000 messages, every transport reconnecting: each gets all, once, in order', async () => {
  const stop = { done: false };
  const wsGot: number[] = [];
  const sseGot: number[] = [];
  const pollGot: number[] = [];
  const ws = wsClient(s.wsUrl, wsGot, stop);
  const es = new EventSource(`${s.base}/sse?channel=${CHANNEL}`);
  let sseOpens = 0;
  es.addEventListener('subscribed', () => sseOpens++);
  es.addEventListener('message', (e) => sseGot.push(JSON.parse(e.data).data));
  const pollSeen = { aborts: 0 };
  const poll = pollClient(s.base, pollGot, stop, pollSeen);
  // Publishing starts once every client is in and the first (held) long-poll was cut.
  while (sseOpens === 0 || s.server.ws.sessions.size === 0 || pollSeen.aborts === 0) {
    await new Promise((r) => setTimeout(r, 10));
  }

  for (let i = 1; i <= TOTAL; i++) {
    await s.publish(CHANNEL, i);
    if (i % 250 === 0) {
      // The server drops every SSE and WebSocket client: they must come back and resume.
      for (const session of s.server.sse.sessions) session.close(Disconnects.shutdown);
      for (const session of s.server.ws.sessions) session.close(Disconnects.shutdown);
    }
    if (i % 250 === 125) {
      // Publishing went on while they were away; wait until both are back before the next cut.
      while (s.server.sse.sessions.size === 0 || s.server.ws.sessions.size === 0) {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
  const deadline = Date.now() + 30_000;
  while ((wsGot.length < TOTAL || sseGot.length < TOTAL || pollGot.length < TOTAL) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  stop.done = true;
  es.close();
  for (const session of s.server.ws.sessions) session.close(Disconnects.shutdown);
  const aborts = await poll;

  const expected = Array.from({ length: TOTAL }, (_, i) => i + 1);
  assert.deepEqual(wsGot, expected, 'WebSocket');
  assert.deepEqual(sseGot, expected, 'SSE');
  assert.deepEqual(pollGot, expected, 'long-poll');
  assert.ok(ws.reconnects >= 4, `WebSocket reconnected ${ws.reconnects} times`);
  assert.ok(sseOpens >= 4, `SSE connected ${sseOpens} times`);
  assert.ok(aborts >= 1, 'long-poll requests were cut and resumed');
});
