import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type MetricFamily, parsePrometheusText, sumOf } from '../../src/observe/promtext.js';
import { eventually, WsClient } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cluster.js', import.meta.url));

interface Ready {
  id: number;
  pid: number;
  shared: number;
  private: number;
}

async function metricsAt(port: number): Promise<Map<string, MetricFamily>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return parsePrometheusText(await res.text());
}

async function publishAt(port: number, data: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'cluster-key' },
    body: JSON.stringify({ channel: 'news', data }),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}

describe('GET /metrics with two cluster workers', () => {
  let primary: ChildProcess;
  const ready: Ready[] = [];
  const clients: WsClient[] = [];
  let waiters: (() => void)[] = [];

  before(async () => {
    primary = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, HOLDFAST_CLUSTER_FIXTURE: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: primary.stdout! }).on('line', (line) => {
      ready.push(JSON.parse(line) as Ready);
      for (const w of waiters.splice(0)) w();
    });
    await eventually(() => ready.length >= 2, 15_000);
  });

  after(async () => {
    for (const c of clients) await c.close();
    waiters = [];
    const exited = new Promise((resolve) => primary.once('exit', resolve));
    primary.kill('SIGTERM');
    await exited;
  });

  it('sums every worker: connections, publications, deliveries, API requests', async () => {
    const [a, b] = ready as [Ready, Ready];
    assert.equal(a.shared, b.shared);
    assert.notEqual(a.pid, b.pid);
    // two clients on worker a, one on worker b (the memory engine does not cross workers)
    for (const port of [a.private, a.private, b.private]) {
      const c = await WsClient.open(port);
      await c.subscribe('news');
      clients.push(c);
    }
    for (let i = 0; i < 6; i++) await publishAt(a.private, { i });
    for (let i = 0; i < 4; i++) await publishAt(b.private, { i });
    await clients[0]!.until(() => clients[0]!.messages.length === 6);
    await clients[1]!.until(() => clients[1]!.messages.length === 6);
    await clients[2]!.until(() => clients[2]!.messages.length === 4);

    // whichever worker answers (shared port, or either private one), the figures are the sums
    for (const port of [a.shared, a.private, b.private]) {
      const f = await metricsAt(port);
      assert.equal(sumOf(f, 'holdfast_workers'), 2);
      assert.equal(sumOf(f, 'holdfast_publications_in_total'), 10);
      assert.equal(sumOf(f, 'holdfast_messages_delivered_total'), 6 * 2 + 4);
      assert.equal(sumOf(f, 'holdfast_connections', { transport: 'ws' }), 3);
      assert.equal(sumOf(f, 'holdfast_subscriptions'), 3);
      assert.equal(sumOf(f, 'holdfast_channels'), 2);
      assert.equal(sumOf(f, 'holdfast_api_requests_total', { route: '/api/publish', status: '200' }), 10);
      const lat = 'holdfast_delivery_latency_seconds';
      assert.equal(sumOf(f, lat, {}, lat + '_count'), 10);
      // per-worker series stay apart
      const rss = f.get('holdfast_memory_bytes')!.samples.filter((s) => s.labels['kind'] === 'rss');
      assert.deepEqual(rss.map((s) => s.labels['worker']).sort(), [String(a.id), String(b.id)].sort());
      // and the primary's own, apart
      assert.ok(sumOf(f, 'holdfast_primary_memory_bytes', { kind: 'rss' }) > 0);
      assert.equal(sumOf(f, 'holdfast_worker_restarts_total'), 0);
      assert.equal(sumOf(f, 'holdfast_workers_forked'), 2);
    }
  });

  it('feeds the dashboard with the whole cluster', async () => {
    const [a, b] = ready as [Ready, Ready];
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${b.private}/dashboard/stream`, {
      headers: { 'x-api-key': 'cluster-key' },
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = '';
    while (!/event: stats\ndata: .*\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    ac.abort();
    const snap = JSON.parse(/event: stats\ndata: (.*)\n/.exec(text)![1]!) as {
      workers: number;
      connections: { ws: number };
      totals: { publicationsIn: number; delivered: number };
      perWorker: { worker: string }[];
      primary: { rss: number; heapUsed: number } | null;
    };
    assert.equal(snap.workers, 2);
    assert.equal(snap.connections.ws, 3);
    assert.deepEqual(snap.totals.publicationsIn, 10);
    assert.deepEqual(snap.totals.delivered, 16);
    assert.deepEqual(snap.perWorker.map((w) => w.worker).sort(), [String(a.id), String(b.id)].sort());
    assert.ok(snap.primary !== null && snap.primary.rss > 0 && snap.primary.heapUsed > 0);
  });

  it('counts a worker the primary had to restart', async () => {
    const [a, b] = ready as [Ready, Ready];
    process.kill(b.pid, 'SIGKILL');
    await eventually(() => ready.length >= 3, 15_000);
    let f: Map<string, MetricFamily> = new Map();
    await eventually(async () => {
      f = await metricsAt(a.private);
      return sumOf(f, 'holdfast_workers') === 2;
    }, 15_000);
    assert.equal(sumOf(f, 'holdfast_worker_restarts_total', { reason: 'crash' }), 1);
    // worker b's counters went with it; worker a's remain
    assert.equal(sumOf(f, 'holdfast_publications_in_total'), 6);
    assert.equal(sumOf(f, 'holdfast_connections', { transport: 'ws' }), 2);
  });
});
