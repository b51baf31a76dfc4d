import {
  type BenchOptions,
  channelName,
  fill,
  isLoopback,
  type Transport,
  transportOf,
  wsBase,
} from './options.js';
import type { WorkerPlan } from './pool.js';

/**
 * Splits the clients over child processes of at most `clientsPerProcess` each, and gives each
 * client its transport, channel and (for loopback targets) a source address from 127.0.0.2
 * up, `connectionsPerAddress` clients per address, so that no address runs out of ports or
 * stalls on TIME_WAIT. Each bound client also gets its own source port (SOURCE_PORT_BASE + its
 * place on the address): bind() with port 0 makes Linux search the port range for a free one,
 * and with 10,000+ sockets on an address that search (inet_bhash2_conflict,
 * inet_bind2_bucket_match_addr_any) took much of the machine's CPU and slowed the ramp to a crawl
 * (docs/BENCHMARKS.md, "Issue 4: WebSocket memory per connection at about 92,000 (new code)",
 * its update).
 * Pure.
 */
export const SOURCE_PORT_BASE = 1024;

export function sourceAddress(index: number): string {
  const n = 2 + index;
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export function planWorkers(o: BenchOptions): WorkerPlan[] {
  const processes = Math.ceil(o.clients / o.clientsPerProcess);
  const per = Math.ceil(o.clients / processes);
  const bind = o.sourceAddresses && isLoopback(o.url);
  const names: string[] = [];
  for (let c = 0; c <= o.channels; c++) names.push(channelName(o, c));
  const base = { url: o.url, ws: wsBase(o.url), key: o.apiKey };
  const plans: WorkerPlan[] = [];
  for (let p = 0; p < processes; p++) {
    const first = p * per;
    const count = Math.min(per, o.clients - first);
    if (count <= 0) break;
    const transports: Transport[] = [];
    const sources: string[] = [];
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const g = first + i;
      transports.push(transportOf(o.transport, g));
      sources.push(bind ? sourceAddress(o.sourceBase + Math.floor(g / o.connectionsPerAddress)) : '');
      ports.push(bind ? SOURCE_PORT_BASE + (g % o.connectionsPerAddress) : 0);
    }
    plans.push({
      firstClient: first,
      count,
      transports,
      channels: o.channels,
      channelNames: names,
      protocol: o.protocol,
      wsUrl: fill(o.wsUrl, base),
      sseUrl: fill(o.sseUrl, base),
      pollUrl: fill(o.pollUrl, base),
      subscribeMessage: o.subscribeMessage,
      sourceAddresses: sources,
      sourcePorts: ports,
      ramp: (o.ramp * count) / o.clients,
      maxConnecting: Math.max(1, Math.floor((o.maxConnecting * count) / o.clients)),
      stallFraction: o.stallFraction,
      stallResume: o.stallResume,
    });
  }
  return plans;
}
