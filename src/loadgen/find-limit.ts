import type { BenchOptions } from './options.js';
import type { FindLimitStep, Report } from './report.js';

/**
 * Find-limit: runs the bench again and again, multiplying the client count (or the publish
 * rate) by `stepFactor`, until a step breaks an objective (p99 delivery, loss, connect errors)
 * or `maxSteps` ran. The answer is the last step that held.
 */
export type RunOne = (o: BenchOptions, step: number) => Promise<Report>;

export function stepOptions(base: BenchOptions, step: number): BenchOptions {
  const f = base.stepFactor ** step;
  if (base.findLimit === 'rate') return { ...base, rate: Math.round(base.rate * f * 100) / 100 };
  return { ...base, clients: Math.max(1, Math.round(base.clients * f)) };
}

export function stepOf(step: number, o: BenchOptions, r: Report): FindLimitStep {
  return {
    step,
    clients: o.clients,
    rate: o.rate,
    held: r.verdict.held,
    reasons: r.verdict.reasons,
    p99Ms: r.latency.ms.p99,
    lost: r.messages.lost,
    connectErrors: r.clients.connectErrors,
    peak: r.clients.peak,
    deliveriesPerS: r.messages.deliveriesPerS,
  };
}

/** Runs the steps; returns the report of the last step run, with the find-limit table. */
export async function findLimit(base: BenchOptions, runOne: RunOne): Promise<Report> {
  const steps: FindLimitStep[] = [];
  let last: Report | null = null;
  for (let i = 0; i < base.maxSteps; i++) {
    const o = stepOptions(base, i);
    const r = await runOne(o, i);
    steps.push(stepOf(i, o, r));
    last = r;
    if (!r.verdict.held) break;
  }
  const held = steps.filter((s) => s.held);
  last!.findLimit = {
    vary: base.findLimit === 'rate' ? 'rate' : 'clients',
    steps,
    lastHeld: held.length > 0 ? held[held.length - 1]! : null,
  };
  return last!;
}
