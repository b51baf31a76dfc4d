import { MAX_WORKERS_PER_CPU, RESERVE_FDS } from './budget.js';
import type { Facts } from './facts.js';

export type Status = 'ok' | 'warn' | 'fail';

/** Who a check concerns: the server, or a load generator run on this machine. */
export type Scope = 'server' | 'loadgen';

export interface CheckResult {
  /** Stable name, usually the sysctl or limit it reads. */
  id: string;
  title: string;
  status: Status;
  scope: Scope;
  /** What this machine has. */
  have: string;
  /** What the target needs. */
  need: string;
  /** Why it matters, and what happens when it is short. */
  why: string;
  /** Exact lines to apply; lines starting with '#' say where or offer an alternative. */
  fix: string[];
}

export interface Target {
  connections: number;
  /** Worker processes the operator plans to run; undefined: the doctor says how many are needed. */
  workers?: number;
}

/** The figures every check shares, derived once from the target and the open-files limit. */
export interface Plan {
  connections: number;
  workersGiven: number | undefined;
  /** Connections one process can hold under its hard open-files limit (after the reserve). */
  perProcessCapacity: number;
  /** ceil(N / perProcessCapacity); Infinity when one process cannot hold any; 1 when unknown. */
  workersNeeded: number;
  /** Beyond this many workers the doctor asks for a higher limit instead. */
  maxWorkers: number;
  /** Workers the other checks assume: as given, else as needed, else one per CPU. */
  workers: number;
  /** Connections per worker: ceil(N / workers). */
  perWorker: number;
}

export function makePlan(facts: Facts, target: Target): Plan {
  const n = target.connections;
  const hard = facts.nofile?.hard;
  const perProcessCapacity = hard === undefined ? Number.POSITIVE_INFINITY : Math.max(0, hard - RESERVE_FDS);
  const workersNeeded =
    n === 0 ? 1 : perProcessCapacity === 0 ? Number.POSITIVE_INFINITY : Math.ceil(n / perProcessCapacity);
  const maxWorkers = MAX_WORKERS_PER_CPU * facts.cpuCount;
  const workers =
    target.workers ?? (workersNeeded <= maxWorkers ? Math.max(1, workersNeeded) : facts.cpuCount);
  return {
    connections: n,
    workersGiven: target.workers,
    perProcessCapacity,
    workersNeeded: Math.max(1, workersNeeded),
    maxWorkers,
    workers,
    perWorker: Math.ceil(n / workers),
  };
}

/** A check whose input could not be read: a warning, never a pass. */
export function unknown(id: string, title: string, scope: Scope, path: string): CheckResult {
  return {
    id,
    title,
    status: 'warn',
    scope,
    have: 'unknown',
    need: '-',
    why: `could not read ${path} (not Linux, or hidden in this container)`,
    fix: [],
  };
}
