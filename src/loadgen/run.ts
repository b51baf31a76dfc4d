import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mergeEncoded, newHistogram, summarize } from './histogram.js';
import type { Final, FromChild, StalledFinal, Tick, ToChild } from './messages.js';
import { type ServerSample, scrape } from './metrics.js';
import type { BenchOptions } from './options.js';
import { planWorkers } from './plan.js';
import { Publisher } from './publisher.js';
import { judge, machine, type Report, type Sample } from './report.js';

/**
 * The orchestrator: forks the children, ramps the connections, publishes for the set time,
 * drains, collects every child's accounting and builds the report. Phases: ramp (connect
 * everyone, no publications), publish (`duration` seconds), drain (last deliveries).
 */
export interface RunHooks {
  /** Called once a second with the latest sample (live progress). */
  onSample?: (s: Sample, r: { target: number; dup: number; ooo: number }) => void;
  /** Extra CLI words recorded in the report. */
  command?: string[];
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

class Child {
  readonly proc: ChildProcess;
  readyRss = 0;
  tick: Tick | null = null;
  final: Final | null = null;
  measured: { rss: number; connected: number } | null = null;
  exited = false;
  #waiters: (() => void)[] = [];

  constructor(onTick: (c: Child, t: Tick) => void) {
    this.proc = fork(WORKER, [], {
      // --expose-gc: the idle-memory measurement collects first. A small young generation (the semi-space flag) keeps
      // the fixed cost per child small, at a small cost in deliveries per CPU second (both
      // measured: docs/BENCHMARKS.md, "The bench's own memory per idle client").
      execArgv: ['--expose-gc', '--max-semi-space-size=2'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: FromChild) => {
      switch (m.type) {
        case 'ready':
          this.readyRss = m.rss;
          break;
        case 'tick':
          this.tick = m.tick;
          onTick(this, m.tick);
          break;
        case 'measured':
          this.measured = { rss: m.rss, connected: m.connected };
          break;
        case 'final':
          this.final = m.final;
          onTick(this, m.final);
          break;
      }
      this.#wake();
    });
    this.proc.on('exit', () => {
      this.exited = true;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send(m: ToChild): void {
    if (!this.exited && this.proc.connected) this.proc.send(m);
  }

  /** Waits until `cond` holds or the child exits or `ms` pass. */
  async until(cond: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (this.exited) return false;
      const left = end - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runBench(o: BenchOptions, hooks: RunHooks = {}): Promise<Report> {
  const startedAt = new Date();
  const t0 = performance.now();
  const plans = planWorkers(o);
  const latencyTotal = newHistogram();
  const connectTotal = newHistogram();
  const broadcastTotal = newHistogram();
  let interval = newHistogram();
  const onTick = (_c: Child, t: Tick): void => {
    mergeEncoded(latencyTotal, t.latency);
    mergeEncoded(broadcastTotal, t.broadcastLatency);
    mergeEncoded(connectTotal, t.connect);
    mergeEncoded(interval, t.latency);
  };
  const children = plans.map(() => new Child(onTick));
  const killAll = (): void => {
    for (const c of children) c.kill();
  };
  process.once('exit', killAll);
  let sampler: NodeJS.Timeout | null = null;
  try {
    for (const c of children) {
      if (!(await c.until(() => c.readyRss > 0, 20_000))) throw new Error('a bench process did not start');
    }
    for (let i = 0; i < children.length; i++) children[i]!.send({ type: 'start', plan: plans[i]! });

    const publisher = new Publisher(o);
    const series: Sample[] = [];
    let phase: Sample['phase'] = 'ramp';
    let lastDeliveries = 0;
    let lastPublished = 0;
    let serverMetrics = false;
    let metricsFailures = 0;
    let lastServer: ServerSample | null = null;
    const sum = (f: (t: Tick) => number): number =>
      children.reduce((a, c) => a + (c.tick === null ? 0 : f(c.tick)), 0);

    let samples = 0;
    const takeSample = async (): Promise<void> => {
      samples++;
      // After 5 failed scrapes in a row (a server too busy to answer, or none), try once every
      // 10 s instead of giving up, so a server that recovers is plotted again.
      if (o.metricsUrl !== '' && (metricsFailures < 5 || samples % 10 === 0)) {
        const s = await scrape(o.metricsUrl.replace('{url}', o.url));
        if (s === null) metricsFailures++;
        else {
          metricsFailures = 0;
          serverMetrics = true;
        }
        lastServer = s;
      }
      const deliveries = sum((t) => t.deliveries);
      const iv = summarize(interval);
      interval.destroy();
      interval = newHistogram();
      const sample: Sample = {
        t: Math.round((performance.now() - t0) / 100) / 10,
        phase,
        connected: sum((t) => t.connected),
        connectErrors: sum((t) => t.connectErrors),
        deliveriesPerS: deliveries - lastDeliveries,
        publishedPerS: publisher.published - lastPublished,
        p50: iv.count > 0 ? iv.p50 : null,
        p90: iv.count > 0 ? iv.p90 : null,
        p99: iv.count > 0 ? iv.p99 : null,
        max: iv.count > 0 ? iv.max : null,
        errors: sum((t) => t.errors) + publisher.failures,
        benchRssBytes: sum((t) => t.rss) + process.memoryUsage.rss(),
        serverRssBytes: lastServer?.rssBytes ?? null,
        serverLagMs: lastServer?.eventLoopLagMs ?? null,
      };
      lastDeliveries = deliveries;
      lastPublished = publisher.published;
      series.push(sample);
      hooks.onSample?.(sample, {
        target: o.clients,
        dup: sum((t) => t.duplicated),
        ooo: sum((t) => t.outOfOrder),
      });
    };
    sampler = setInterval(() => void takeSample(), 1000);

    // Ramp: every client started and none still connecting (or a generous time-out).
    // The time-out is extended while connections keep opening (a server that accepts slower
    // than --ramp), up to four times the planned ramp plus a minute.
    const planned = (o.clients / o.ramp) * 1000;
    const hardEnd = Date.now() + planned * 4 + 60_000;
    let rampEnd = Date.now() + planned + 30_000;
    let lastConnected = 0;
    let allStartedAt = 0;
    while (Date.now() < rampEnd) {
      await sleep(100);
      if (children.some((c) => c.exited)) throw new Error('a bench process exited during the ramp');
      const connected = sum((t) => t.connected);
      if (connected >= o.clients) break;
      if (connected > lastConnected) {
        lastConnected = connected;
        rampEnd = Math.min(hardEnd, Math.max(rampEnd, Date.now() + 15_000));
      }
      if (sum((t) => t.started) < o.clients) continue;
      // Everyone started; some failed and wait to retry. Give them 10 s, then go on.
      if (allStartedAt === 0) allStartedAt = Date.now();
      else if (Date.now() - allStartedAt > 10_000 && sum((t) => t.connecting) === 0) break;
    }
    const rampS = (performance.now() - t0) / 1000;

    // Idle memory of the bench itself, after a GC in every child.
    for (const c of children) c.send({ type: 'measure' });
    for (const c of children) await c.until(() => c.measured !== null, 10_000);
    const idleRss = children.reduce((a, c) => a + (c.measured?.rss ?? 0) - c.readyRss, 0);
    const idleClients = children.reduce((a, c) => a + (c.measured?.connected ?? 0), 0);

    // Publish.
    phase = 'publish';
    const cpu0 = sum((t) => t.cpuUs);
    const del0 = sum((t) => t.deliveries);
    const p0 = performance.now();
    publisher.start();
    const pubEnd = p0 + o.duration * 1000;
    while (performance.now() < pubEnd && !publisher.limitDone) await sleep(50);
    await publisher.stop();
    const durationS = (performance.now() - p0) / 1000;
    const publishFromS = (p0 - t0) / 1000;
    const publishToS = publishFromS + durationS;

    // Drain.
    phase = 'drain';
    await sleep(o.drain * 1000);
    clearInterval(sampler);
    sampler = null;
    await takeSample();

    const log = publisher.log();
    for (const c of children) c.send({ type: 'finish', log });
    for (const c of children) await c.until(() => c.final !== null, 60_000);
    const finals = children.map((c) => c.final);
    if (finals.some((f) => f === null)) throw new Error('a bench process gave no final report');
    const f = finals as Final[];
    const add = (k: keyof Final): number => f.reduce((a, x) => a + (x[k] as number), 0);
    const addStalled = (k: keyof StalledFinal): number => f.reduce((a, x) => a + x.stalled[k], 0);
    const cpuS = (add('cpuUs') - cpu0) / 1e6;
    const deliveredPublishing = add('deliveries') - del0;

    const report: Report = {
      version: 1,
      startedAt: startedAt.toISOString(),
      command: hooks.command ?? process.argv.slice(1),
      machine: machine(),
      options: stripSecrets(o),
      durationS: round(durationS),
      rampS: round(rampS),
      publishFromS: round(publishFromS),
      publishToS: round(publishToS),
      totalS: round((performance.now() - t0) / 1000),
      clients: {
        target: o.clients,
        peak: Math.max(add('connected'), ...series.map((s) => s.connected)),
        connectErrors: add('connectErrors'),
        portFallbacks: add('portFallbacks'),
        disconnects: add('disconnects'),
        reconnects: add('reconnects'),
        reconnectedClients: add('reconnectedClients'),
        unconfirmedSubscriptions: add('unconfirmed'),
      },
      messages: {
        published: publisher.published,
        publishedBroadcast: publisher.broadcasts,
        publishFailures: publisher.failures,
        publishRetries: publisher.retries,
        publishFailureReasons: publisher.failureReasons,
        expected: add('expected'),
        delivered: add('delivered'),
        lost: add('lost'),
        duplicated: add('duplicated'),
        outOfOrder: add('outOfOrder'),
        misrouted: add('misrouted'),
        clientsWithLoss: add('clientsWithLoss'),
        clientsWithDuplicates: add('clientsWithDuplicates'),
        clientsWithOutOfOrder: add('clientsWithOutOfOrder'),
        outOfOrderFailedPublish: add('outOfOrderFailedPublish'),
        lostInReconnectedClients: add('lostInReconnectedClients'),
        lossAcrossReconnects: add('lostInReconnectedClients') > 0,
        recoveryFailures: add('recoveryFailures'),
        deliveriesPerS: durationS > 0 ? Math.round(deliveredPublishing / durationS) : 0,
        stalled: {
          clients: addStalled('clients'),
          expected: addStalled('expected'),
          delivered: addStalled('delivered'),
          lost: addStalled('lost'),
          duplicated: addStalled('duplicated'),
          outOfOrder: addStalled('outOfOrder'),
          clientsWithLoss: addStalled('clientsWithLoss'),
          disconnects: add('stalledDisconnects'),
          reconnects: add('stalledReconnects'),
        },
      },
      latency: { ms: summarize(latencyTotal), broadcastMs: summarize(broadcastTotal) },
      connect: { ms: summarize(connectTotal) },
      publish: { ms: summarize(publisher.apiHist) },
      errors: add('errors') + publisher.failures,
      bench: {
        processes: children.length,
        peakRssBytes: Math.max(0, ...series.map((s) => s.benchRssBytes)),
        idleRssPerClientBytes: idleClients > 0 ? Math.round(idleRss / idleClients) : null,
        cpuSecondsPublishing: round(cpuS),
        deliveriesPerCpuSecond: cpuS > 0 ? Math.round(deliveredPublishing / cpuS) : null,
      },
      server: {
        metrics: serverMetrics,
        peakRssBytes: maxOf(series.map((s) => s.serverRssBytes)),
        maxEventLoopLagMs: maxOf(series.map((s) => s.serverLagMs)),
      },
      verdict: { held: false, reasons: [], objectives: objectives(o) },
      series,
    };
    const v = judge(report, report.verdict.objectives);
    report.verdict.held = v.held;
    report.verdict.reasons = v.reasons;
    return report;
  } finally {
    if (sampler !== null) clearInterval(sampler);
    for (const c of children) await c.until(() => c.exited, 2000);
    killAll();
    process.off('exit', killAll);
  }
}

function objectives(o: BenchOptions): Report['verdict']['objectives'] {
  return { maxP99Ms: o.maxP99Ms, maxLost: o.maxLost, maxConnectErrorRatio: o.maxConnectErrorRatio };
}

function stripSecrets(o: BenchOptions): Report['options'] {
  const { apiKey: _k, publishHeaders: _h, ...rest } = o;
  return rest;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function maxOf(xs: (number | null)[]): number | null {
  let m: number | null = null;
  for (const x of xs) if (x !== null && (m === null || x > m)) m = x;
  return m;
}
