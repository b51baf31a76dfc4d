import { RESERVE_FDS } from './budget.js';
import { checkFileMax, checkNofile, checkNrOpen } from './checks/files.js';
import { checkHeap, checkMemory } from './checks/memory.js';
import {
  checkConntrack,
  checkPortRange,
  checkSocketBuffers,
  checkSomaxconn,
  checkSynBacklog,
  checkTcpMem,
  checkTwReuse,
} from './checks/network.js';
import { type Facts, readFacts } from './facts.js';
import { type CheckResult, makePlan, type Status, type Target } from './plan.js';
import { type SystemReader, systemReader } from './reader.js';

export interface DoctorReport {
  connections: number;
  /** As given; null when the doctor was left to say how many are needed. */
  workers: number | null;
  /** Workers the open-files limit asks for: ceil(N / (hard limit - reserve)); null if impossible. */
  workersNeeded: number | null;
  cpus: number;
  /** Worst status of all checks. */
  status: Status;
  checks: CheckResult[];
  /** The numbers read from the machine (for tools that keep them, such as a bench report). */
  facts: Facts;
}

const RANK: Record<Status, number> = { ok: 0, warn: 1, fail: 2 };

/** Runs every check for the target against the machine the reader describes. */
export function runDoctor(target: Target, reader: SystemReader = systemReader()): DoctorReport {
  return diagnose(readFacts(reader), target);
}

function diagnose(facts: Facts, target: Target): DoctorReport {
  const plan = makePlan(facts, target);
  const checks = [
    checkNofile(facts, plan),
    checkNrOpen(facts, plan),
    checkFileMax(facts, plan),
    checkSomaxconn(facts),
    checkSynBacklog(facts),
    checkTcpMem(facts, plan),
    checkSocketBuffers(facts, plan),
    checkConntrack(facts, plan),
    checkMemory(facts, plan),
    checkHeap(facts, plan),
    checkPortRange(facts, plan),
    checkTwReuse(facts),
  ];
  const status = checks.reduce<Status>((w, c) => (RANK[c.status] > RANK[w] ? c.status : w), 'ok');
  return {
    connections: target.connections,
    workers: target.workers ?? null,
    workersNeeded: Number.isFinite(plan.workersNeeded) ? plan.workersNeeded : null,
    cpus: facts.cpuCount,
    status,
    checks,
    facts,
  };
}

export interface StartupTarget {
  /** Connections the server is meant to hold; without it, as many as the open-files limit allows. */
  connections?: number;
  /** Worker processes the server will run. */
  workers: number;
}

/**
 * One line per server-side check that warns or fails, for the server to log at start. Without a
 * connection target, the target is what the workers' open-files limit lets them hold, so the
 * other limits (memory, conntrack, tcp_mem...) are checked against it.
 */
export function startupWarnings(target: StartupTarget, reader: SystemReader = systemReader()): string[] {
  const facts = readFacts(reader);
  let connections = target.connections;
  if (connections === undefined) {
    const hard = facts.nofile?.hard;
    connections =
      hard === undefined || !Number.isFinite(hard) ? 0 : target.workers * Math.max(0, hard - RESERVE_FDS);
  }
  const report = diagnose(facts, { connections, workers: target.workers });
  return report.checks
    .filter((c) => c.scope === 'server' && c.status !== 'ok')
    .map((c) => {
      const fix = c.fix.filter((l) => !l.startsWith('#'));
      return (
        `${c.status} ${c.id} (${c.title}): have ${c.have}, need ${c.need} for ${connections.toLocaleString('en-US')} connections` +
        (fix.length > 0 ? `; fix: ${fix.join(' ; ')}` : '')
      );
    });
}
