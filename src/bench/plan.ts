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
 * stalls on TIME_WAIT. Pure.
 */
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
    for (let i = 0; i < count; i++) {
      transports.push(transportOf(o.transport, first + i));
      sources.push(
        bind ? sourceAddress(o.sourceBase + Math.floor((first + i) / o.connectionsPerAddress)) : '',
      );
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
      ramp: (o.ramp * count) / o.clients,
      maxConnecting: Math.max(1, Math.floor((o.maxConnecting * count) / o.clients)),
      stallFraction: o.stallFraction,
      stallResume: o.stallResume,
    });
  }
  return plans;
}
