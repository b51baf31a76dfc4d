import { firstExpected } from './checker.js';
import { PollClient } from './clients/poll.js';
import { SseClient } from './clients/sse.js';
import { WsClient } from './clients/ws.js';
import { encode, newHistogram } from './histogram.js';
import type { Final, FromChild, PublicationLog, StalledFinal, Tick, ToChild } from './messages.js';
import { type BenchClient, Pool, type WorkerPlan } from './pool.js';

/**
 * A child process of `holdfast bench`: runs its share of the clients (at most ~15,000 sockets,
 * under the 20,000 open files one process may hold), reports counters every second, and at
 * the end counts losses against the publisher's log.
 */
function send(msg: FromChild): void {
  process.send?.(msg);
}

let pool: Pool | null = null;
let ticker: NodeJS.Timeout | null = null;
let ramper: NodeJS.Timeout | null = null;

function start(plan: WorkerPlan): void {
  const p = new Pool(plan);
  pool = p;
  for (let i = 0; i < plan.count; i++) {
    const channel = p.channelOf(i);
    const source = plan.sourceAddresses[i] ?? '';
    const t = plan.transports[i]!;
    const c: BenchClient =
      t === 'ws'
        ? new WsClient(p, i, channel, source)
        : t === 'sse'
          ? new SseClient(p, i, channel, source)
          : new PollClient(p, i, channel, source);
    p.clients.push(c);
  }
  const began = performance.now();
  ramper = setInterval(() => {
    const due = Math.min(plan.count, Math.ceil(((performance.now() - began) / 1000) * plan.ramp));
    while (p.started < due && p.connecting < plan.maxConnecting) p.clients[p.started++]!.connect();
    if (p.started >= plan.count && ramper !== null) {
      clearInterval(ramper);
      ramper = null;
    }
  }, 10);
  if (plan.stallResume > 0) {
    setTimeout(() => {
      p.stallOver = true;
      for (const c of p.clients) c.unstall();
    }, plan.stallResume * 1000).unref();
  }
  // Four ticks a second, so that the orchestrator's once-a-second samples never miss one.
  ticker = setInterval(() => send({ type: 'tick', tick: tick(p) }), 250);
}

function tick(p: Pool): Tick {
  let duplicated = 0;
  let outOfOrder = 0;
  const ck = p.checker;
  for (let s = 0; s < ck.size; s++) {
    duplicated += ck.duplicated[s]!;
    outOfOrder += ck.outOfOrder[s]!;
  }
  p.latencyHist.add(p.broadcastHist);
  const latency = encode(p.latencyHist);
  const connect = encode(p.connectHist);
  const broadcastLatency = encode(p.broadcastHist);
  p.latencyHist.destroy();
  p.connectHist.destroy();
  p.broadcastHist.destroy();
  p.latencyHist = newHistogram();
  p.connectHist = newHistogram();
  p.broadcastHist = newHistogram();
  const cpu = process.cpuUsage();
  return {
    started: p.started,
    connecting: p.connecting,
    connected: p.connected,
    peak: p.peak,
    connectErrors: p.connectErrors,
    portFallbacks: p.portFallbacks,
    disconnects: p.disconnects,
    reconnects: p.reconnects,
    deliveries: p.deliveries,
    duplicated,
    outOfOrder,
    misrouted: p.misrouted,
    errors: p.errors,
    recoveryFailures: p.recoveryFailures,
    latency,
    connect,
    broadcastLatency,
    paused: p.paused,
    stalledDisconnects: p.stalledDisconnects,
    stalledReconnects: p.stalledReconnects,
    rss: process.memoryUsage.rss(),
    cpuUs: cpu.user + cpu.system,
  };
}

/** Stops every client, then counts expected, delivered and lost per subscription. */
export function finalize(p: Pool, log: PublicationLog): Final {
  p.running = false;
  if (ramper !== null) clearInterval(ramper);
  if (ticker !== null) clearInterval(ticker);
  const base = tick(p);
  for (const c of p.clients) c.stop();
  const ck = p.checker;
  const failedSets = log.failed.map((f) => (f.length > 0 ? new Set(f) : undefined));
  let expected = 0;
  let delivered = 0;
  let lost = 0;
  let clientsWithLoss = 0;
  let clientsWithDuplicates = 0;
  let clientsWithOutOfOrder = 0;
  let reconnectedClients = 0;
  let lostInReconnectedClients = 0;
  let unconfirmed = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let outOfOrderFailedPublish = 0;
  const stalled: StalledFinal = {
    clients: 0,
    expected: 0,
    delivered: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    clientsWithLoss: 0,
  };
  const plan = p.plan;
  for (let i = 0; i < plan.count; i++) {
    let clientLost = 0;
    let clientDelivered = 0;
    let dup = 0;
    let ooo = 0;
    let oooPublisher = 0;
    for (let k = 0; k < 2; k++) {
      const sub = i * 2 + k;
      const channel = k === 0 ? p.channelOf(i) : plan.channels;
      const sent = log.sentAt[channel]!;
      const count = sent.length;
      const confirmedAt = p.confirmedAt[sub]!;
      if (confirmedAt === Number.POSITIVE_INFINITY) unconfirmed++;
      const start = firstExpected(sent, count, confirmedAt);
      clientLost += ck.lost(sub, start, count, failedSets[channel]);
      clientDelivered += ck.delivered[sub]!;
      dup += ck.duplicated[sub]!;
      const byPublisher = ck.lateAfterFailedPublish(sub, failedSets[channel]);
      oooPublisher += byPublisher;
      ooo += ck.outOfOrder[sub]! - byPublisher;
    }
    if (p.clients[i]?.stalls === true) {
      // A client that stopped reading is counted apart: its loss is not the readers'.
      stalled.clients++;
      stalled.expected += clientDelivered + clientLost;
      stalled.delivered += clientDelivered;
      stalled.lost += clientLost;
      stalled.duplicated += dup;
      stalled.outOfOrder += ooo;
      if (clientLost > 0) stalled.clientsWithLoss++;
      continue;
    }
    lost += clientLost;
    delivered += clientDelivered;
    duplicated += dup;
    outOfOrder += ooo;
    outOfOrderFailedPublish += oooPublisher;
    if (clientLost > 0) clientsWithLoss++;
    if (dup > 0) clientsWithDuplicates++;
    if (ooo > 0) clientsWithOutOfOrder++;
    if (p.reconnectsPerClient[i]! > 0) {
      reconnectedClients++;
      lostInReconnectedClients += clientLost;
    }
  }
  expected = delivered + lost;
  return {
    ...base,
    duplicated,
    outOfOrder,
    stalled,
    expected,
    delivered,
    lost,
    clientsWithLoss,
    clientsWithDuplicates,
    clientsWithOutOfOrder,
    outOfOrderFailedPublish,
    reconnectedClients,
    lostInReconnectedClients,
    unconfirmed,
  };
}

function onMessage(msg: ToChild): void {
  switch (msg.type) {
    case 'start':
      start(msg.plan);
      return;
    case 'measure': {
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'measured', rss: process.memoryUsage.rss(), connected: pool?.connected ?? 0 });
      return;
    }
    case 'finish': {
      const final = pool === null ? null : finalize(pool, msg.log);
      if (final !== null) send({ type: 'final', final });
      // Let the IPC message leave before exiting.
      setTimeout(() => process.exit(0), 100);
      return;
    }
  }
}

if (process.send !== undefined) {
  process.on('message', onMessage);
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', rss: process.memoryUsage.rss() });
}
