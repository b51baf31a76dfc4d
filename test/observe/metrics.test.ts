import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { Disconnect } from '../../src/contract/codes.js';
import type { Encoded } from '../../src/core/encode.js';
import { Session, type Transport } from '../../src/core/session.js';
import { parsePrometheusText, sumOf } from '../../src/observe/promtext.js';
import type { HoldfastServer } from '../../src/server/server.js';
import { API_KEY, eventually, publish, startServer, WsClient } from './helpers.js';

/** A client whose socket never drains: the first write puts it over any queue limit. */
class StuckTransport implements Transport {
  written = 0;
  closedWith: Disconnect | null = null;
  write(bytes: Buffer): void {
    this.written += bytes.length;
  }
  queuedBytes(): number {
    return this.written * 1_000_000;
  }
  close(reason: Disconnect): void {
    this.closedWith = reason;
  }
}

class StuckSession extends Session {
  constructor(t: StuckTransport) {
    super(t, 1024);
  }
  protected emit(enc: Encoded): void {
    this.write(enc.ws);
  }
}

async function scrape(base: string): Promise<{ text: string; type: string | null }> {
  const res = await fetch(base + '/metrics');
  assert.equal(res.status, 200);
  return { text: await res.text(), type: res.headers.get('content-type') };
}

describe('GET /metrics (one process)', () => {
  let server: HoldfastServer;
  let base: string;
  let port: number;
  const clients: WsClient[] = [];

  before(async () => {
    ({ server, base, port } = await startServer());
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server.close();
  });

  it('counts 10 publications and 30 deliveries to 3 clients', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await WsClient.open(port);
      await c.subscribe('news');
      clients.push(c);
    }
    let payloadBytes = 0;
    for (let i = 0; i < 10; i++) {
      const res = await publish(base, 'news', { n: i, text: 'hello' });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    for (const c of clients) await c.until(() => c.messages.length === 10);
    for (const c of clients) for (const m of c.messages) payloadBytes += Buffer.byteLength(JSON.stringify(m));

    const { text, type } = await scrape(base);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    const f = parsePrometheusText(text);
    assert.equal(f.get('holdfast_publications_in_total')?.type, 'counter');
    assert.equal(sumOf(f, 'holdfast_publications_in_total'), 10);
    assert.equal(sumOf(f, 'holdfast_messages_delivered_total'), 30);
    assert.equal(sumOf(f, 'holdfast_connections', { transport: 'ws' }), 3);
    assert.equal(sumOf(f, 'holdfast_connections', { transport: 'sse' }), 0);
    assert.equal(sumOf(f, 'holdfast_subscriptions'), 3);
    assert.equal(sumOf(f, 'holdfast_channels'), 1);
    assert.equal(sumOf(f, 'holdfast_api_requests_total', { route: '/api/publish', status: '200' }), 10);
    // one histogram observation per publication
    const latency = 'holdfast_delivery_latency_seconds';
    assert.equal(f.get(latency)?.type, 'histogram');
    assert.equal(sumOf(f, latency, {}, latency + '_count'), 10);
    assert.equal(sumOf(f, latency, { le: '+Inf' }, latency + '_bucket'), 10);
    // bytes out covers at least the 30 message frames (replies come on top)
    assert.ok(sumOf(f, 'holdfast_bytes_out_total') >= payloadBytes);
    assert.equal(sumOf(f, 'holdfast_workers'), 1);
    assert.ok(sumOf(f, 'holdfast_memory_bytes', { kind: 'rss' }) > 0);
    assert.ok(f.has('holdfast_event_loop_lag_seconds'));
  });

  it('counts disconnect reasons, rejected connections, bad frames and API errors', async () => {
    // a client leaving
    const leaving = clients.pop()!;
    await leaving.close();
    // a WebSocket upgrade on an unknown path
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/nope`);
      ws.on('error', () => resolve());
    });
    // two bad frames
    const c = clients[0]!;
    c.ws.send('not json');
    c.ws.send(JSON.stringify({ id: 1, op: 'dance' }));
    await c.until(() => c.replies.filter((r) => 'error' in r).length === 2);
    // a wrong API key
    const res = await fetch(base + '/api/publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY + 'x' },
      body: '{}',
    });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    // a slow consumer
    const stuck = new StuckTransport();
    const session = new StuckSession(stuck);
    server.node.attach(session);
    await server.node.subscribe(session, 'news', undefined, () => undefined);
    (await publish(base, 'news', 'one more')).body?.cancel();
    await eventually(() => stuck.closedWith !== null);

    let f = parsePrometheusText((await scrape(base)).text);
    await eventually(async () => {
      f = parsePrometheusText((await scrape(base)).text);
      return sumOf(f, 'holdfast_disconnects_total', { reason: 'normal' }) === 1;
    });
    assert.equal(sumOf(f, 'holdfast_disconnects_total', { reason: 'slow' }), 1);
    assert.equal(sumOf(f, 'holdfast_disconnects_total'), 2);
    assert.equal(sumOf(f, 'holdfast_rejected_connections_total', { reason: 'not_found' }), 1);
    assert.equal(sumOf(f, 'holdfast_bad_frames_total'), 2);
    assert.equal(sumOf(f, 'holdfast_api_requests_total', { route: '/api/publish', status: '401' }), 1);
    assert.equal(sumOf(f, 'holdfast_publications_in_total'), 11);
    assert.equal(sumOf(f, 'holdfast_connections', { transport: 'ws' }), 2);
  });

  it('counts SSE and long-poll connections and their bytes', async () => {
    const before = parsePrometheusText((await scrape(base)).text);
    const ac = new AbortController();
    const sse = await fetch(base + '/sse?channel=scores', { signal: ac.signal });
    const reader = sse.body!.getReader();
    await reader.read(); // retry line: the stream is open
    const poll = fetch(base + '/poll?channel=scores');
    let f = before;
    await eventually(async () => {
      f = parsePrometheusText((await scrape(base)).text);
      return (
        sumOf(f, 'holdfast_connections', { transport: 'poll' }) === 1 &&
        sumOf(f, 'holdfast_connections', { transport: 'sse' }) === 1 &&
        sumOf(f, 'holdfast_subscriptions') === 4
      );
    });
    (await publish(base, 'scores', { goal: 1 })).body?.cancel();
    const answer = (await (await poll).json()) as { messages: unknown[] };
    assert.equal(answer.messages.length, 1);
    ac.abort();
    await reader.cancel().catch(() => undefined);
    await eventually(async () => {
      f = parsePrometheusText((await scrape(base)).text);
      return sumOf(f, 'holdfast_connections', { transport: 'sse' }) === 0;
    });
    assert.equal(sumOf(f, 'holdfast_connections', { transport: 'poll' }), 0);
    assert.equal(
      sumOf(f, 'holdfast_messages_delivered_total') - sumOf(before, 'holdfast_messages_delivered_total'),
      2,
    );
    assert.ok(
      sumOf(f, 'holdfast_bytes_out_total') - sumOf(before, 'holdfast_bytes_out_total') >
        2 * Buffer.byteLength('{"goal":1}'),
    );
  });
});
