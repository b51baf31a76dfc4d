import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findLimit, stepOptions } from '../../src/loadgen/find-limit.js';
import { parseOptions } from '../../src/loadgen/options.js';
import { judge, type Report, type Sample } from '../../src/loadgen/report.js';
import { renderHtml } from '../../src/loadgen/report-html.js';
import { linePlot, niceStep } from '../../src/loadgen/svg.js';

function sample(t: number, phase: Sample['phase'], extra: Partial<Sample> = {}): Sample {
  return {
    t,
    phase,
    connected: 100,
    connectErrors: 0,
    deliveriesPerS: 1000,
    publishedPerS: 10,
    p50: 2,
    p90: 5,
    p99: 9,
    max: 12,
    errors: 0,
    benchRssBytes: 80e6,
    serverRssBytes: 120e6,
    serverLagMs: 3,
    ...extra,
  };
}

const lat = { count: 10, p50: 2, p90: 5, p99: 9, p999: 11, max: 12, mean: 3 };

function report(over: Partial<Report> = {}): Report {
  const o = parseOptions({ prefix: 'p.' });
  const { apiKey: _a, publishHeaders: _h, ...options } = o;
  return {
    version: 1,
    startedAt: '2026-11-26T05:00:00.000Z',
    command: ['holdfast', 'bench', '--clients', '100', '--url', 'http://h/?a=<b>'],
    machine: { cores: 2, memoryBytes: 24 * 1024 ** 3, node: 'v20', platform: 'linux', cpu: 'x' },
    options,
    durationS: 10,
    rampS: 1,
    totalS: 13,
    publishFromS: 1.5,
    publishToS: 2.5,
    clients: {
      target: 100,
      peak: 100,
      connectErrors: 0,
      portFallbacks: 0,
      disconnects: 0,
      reconnects: 0,
      reconnectedClients: 0,
      unconfirmedSubscriptions: 0,
    },
    messages: {
      published: 100,
      publishedBroadcast: 10,
      publishFailures: 0,
      publishRetries: 0,
      publishFailureReasons: {},
      expected: 2000,
      delivered: 2000,
      lost: 0,
      duplicated: 0,
      outOfOrder: 0,
      misrouted: 0,
      clientsWithLoss: 0,
      clientsWithDuplicates: 0,
      clientsWithOutOfOrder: 0,
      outOfOrderFailedPublish: 0,
      lostInReconnectedClients: 0,
      lossAcrossReconnects: false,
      recoveryFailures: 0,
      deliveriesPerS: 200,
      stalled: {
        clients: 0,
        expected: 0,
        delivered: 0,
        lost: 0,
        duplicated: 0,
        outOfOrder: 0,
        clientsWithLoss: 0,
        disconnects: 0,
        reconnects: 0,
      },
    },
    latency: { ms: lat, broadcastMs: lat },
    connect: { ms: lat },
    publish: { ms: lat },
    errors: 0,
    bench: {
      processes: 1,
      peakRssBytes: 80e6,
      idleRssPerClientBytes: 5000,
      cpuSecondsPublishing: 1,
      deliveriesPerCpuSecond: 2000,
    },
    server: { metrics: true, peakRssBytes: 120e6, maxEventLoopLagMs: 3 },
    verdict: {
      held: true,
      reasons: [],
      objectives: { maxP99Ms: 1000, maxLost: 0, maxConnectErrorRatio: 0.001 },
    },
    series: [
      sample(1, 'ramp', { p50: null, p90: null, p99: null, max: null }),
      sample(2, 'publish'),
      sample(3, 'drain'),
    ],
    ...over,
  };
}

describe('report', () => {
  it('judges the objectives', () => {
    const r = report();
    assert.deepEqual(judge(r, r.verdict.objectives), { held: true, reasons: [] });
    const bad = report({
      latency: { ms: { ...lat, p99: 1500 }, broadcastMs: lat },
      clients: { ...r.clients, connectErrors: 1 },
      messages: { ...r.messages, lost: 3 },
    });
    const v = judge(bad, { maxP99Ms: 1000, maxLost: 0, maxConnectErrorRatio: 0.001 });
    assert.equal(v.held, false);
    assert.equal(v.reasons.length, 3);
    const failed = report({ messages: { ...r.messages, publishFailures: 2 } });
    assert.deepEqual(judge(failed, r.verdict.objectives).reasons, ['2 publish requests failed']);
  });

  it('renders a self-contained page with the summary, plots and escaped command', () => {
    const html = renderHtml(report());
    assert.match(html, /^<!doctype html>/);
    // Nothing loaded from elsewhere: no scripts, links, images or CSS urls.
    assert.doesNotMatch(html, /<script|<link|<img|src=|href=|url\(/);
    assert.match(html, /Held every objective/);
    assert.equal((html.match(/<svg /g) ?? []).length, 7);
    assert.match(html, /Server event-loop lag/);
    assert.match(html, /class="band"/);
    assert.match(html, /http:\/\/h\/\?a=&#60;b&#62;/);
    const noMetrics = renderHtml(
      report({ server: { metrics: false, peakRssBytes: null, maxEventLoopLagMs: null } }),
    );
    assert.doesNotMatch(noMetrics, /event-loop lag \(ms\)/);
    assert.match(noMetrics, /no \/metrics/);
  });

  it('draws lines with gaps for missing values, and says when there is no data', () => {
    const svg = linePlot({
      title: 'x',
      unit: 'ms',
      lines: [
        {
          name: 'a',
          color: '#000',
          points: [
            [0, 1],
            [1, null],
            [2, 3],
          ],
        },
      ],
    });
    assert.equal((svg.match(/M/g) ?? []).length, 2);
    assert.match(linePlot({ title: 'y', unit: '', lines: [] }), /no data/);
    assert.equal(niceStep(100, 4), 50);
    assert.equal(niceStep(7, 4), 2);
  });
});

describe('find-limit', () => {
  it('steps clients up until an objective breaks and reports the last step that held', async () => {
    const base = parseOptions({
      clients: 1000,
      findLimit: 'clients',
      stepFactor: 2,
      maxSteps: 6,
      prefix: 'p.',
    });
    const seen: number[] = [];
    const r = await findLimit(base, async (o) => {
      seen.push(o.clients);
      const p99 = o.clients >= 8000 ? 2000 : 10;
      const rep = report({
        latency: { ms: { ...lat, p99 }, broadcastMs: lat },
        clients: { ...report().clients, target: o.clients },
      });
      const v = judge(rep, rep.verdict.objectives);
      rep.verdict = { ...rep.verdict, ...v };
      return rep;
    });
    assert.deepEqual(seen, [1000, 2000, 4000, 8000]);
    assert.equal(r.findLimit?.lastHeld?.clients, 4000);
    assert.equal(r.findLimit?.steps.length, 4);
    assert.equal(r.findLimit?.steps[3]?.held, false);
  });

  it('steps the rate when asked', () => {
    const base = parseOptions({ rate: 100, findLimit: 'rate', stepFactor: 1.5, prefix: 'p.' });
    assert.equal(stepOptions(base, 2).rate, 225);
    assert.equal(stepOptions(base, 2).clients, base.clients);
  });
});
