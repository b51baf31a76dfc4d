import { RESERVE_FDS } from '../budget.js';
import { type Facts, PATHS } from '../facts.js';
import { type CheckResult, type Plan, unknown } from '../plan.js';
import { count, roundUp } from '../units.js';

/** The lines that give every process started by a shell or a systemd unit `limit` open files. */
export function raiseNofile(limit: number, nrOpen: number | undefined): string[] {
  const lines: string[] = [];
  if (nrOpen !== undefined && limit > nrOpen) lines.push(`sysctl -w fs.nr_open=${roundUp(limit, 1024)}`);
  lines.push(
    '# in the shell that starts holdfast (raising the hard limit needs root):',
    `ulimit -n ${limit}`,
    '# or in its systemd unit, [Service] section:',
    `LimitNOFILE=${limit}`,
  );
  return lines;
}

/** RLIMIT_NOFILE: every connection is a file descriptor, and a process stops at its hard limit. */
export function checkNofile(facts: Facts, plan: Plan): CheckResult {
  const id = 'nofile';
  const title = 'open files per process';
  if (facts.nofile === undefined) return unknown(id, title, 'server', PATHS.limits);
  const { soft, hard } = facts.nofile;
  const n = plan.connections;
  const have = `soft ${count(soft)}, hard ${count(hard)}`;
  const base =
    `Each connection is one file descriptor; past the hard limit accept() fails with EMFILE. ` +
    `Node raises its soft limit to the hard one at start${soft < hard ? ' (so the soft value here does not bind)' : ''}. ` +
    `${count(RESERVE_FDS)} descriptors per process are kept for listeners, IPC, brokers and API requests.`;
  const result = { id, title, scope: 'server' as const, have };

  if (plan.workersGiven !== undefined) {
    const w = plan.workersGiven;
    const perProcess = plan.perWorker + RESERVE_FDS;
    const need = `${count(plan.perWorker)} per worker × ${w} + ${count(RESERVE_FDS)} reserve = ${count(perProcess)} per process`;
    if (perProcess <= hard) return { ...result, status: 'ok', need, why: base, fix: [] };
    const fix = raiseNofile(perProcess, facts.nrOpen);
    if (plan.workersNeeded <= plan.maxWorkers) {
      fix.push(
        `# or keep the limit and run ${plan.workersNeeded} workers:`,
        `holdfast serve --workers ${plan.workersNeeded}`,
      );
    }
    return {
      ...result,
      status: 'fail',
      need,
      why: `${w} workers cannot hold ${count(n)} connections under a hard limit of ${count(hard)}: that needs ${workersText(plan)}. ${base}`,
      fix,
    };
  }

  if (plan.workersNeeded <= 1) {
    const need = `${count(n)} + ${count(RESERVE_FDS)} reserve in one process`;
    return { ...result, status: 'ok', need, why: base, fix: [] };
  }
  if (plan.workersNeeded <= plan.maxWorkers) {
    const alt = Math.ceil(n / facts.cpuCount) + RESERVE_FDS;
    return {
      ...result,
      status: 'warn',
      need: `${plan.workersNeeded} workers (${count(plan.perProcessCapacity)} connections each at this limit)`,
      why: `One process holds at most ${count(plan.perProcessCapacity)} connections here, so ${count(n)} need ${workersText(plan)}. ${base}`,
      fix: [
        `holdfast serve --workers ${plan.workersNeeded}`,
        `# or raise the limit to ${count(alt)} and run one worker per CPU (${facts.cpuCount}):`,
        ...raiseNofile(alt, facts.nrOpen),
        `holdfast serve --workers ${facts.cpuCount}`,
      ],
    };
  }
  const perProcess = Math.ceil(n / facts.cpuCount) + RESERVE_FDS;
  return {
    ...result,
    status: 'fail',
    need: `${workersText(plan)} at this limit; ${count(perProcess)} per process with ${facts.cpuCount} workers`,
    why:
      `A hard limit of ${count(hard)} would need ${workersText(plan)} for ${count(n)} connections, ` +
      `more than ${plan.maxWorkers} (the most the doctor suggests for ${facts.cpuCount} CPUs). ${base}`,
    fix: [...raiseNofile(perProcess, facts.nrOpen), `holdfast serve --workers ${facts.cpuCount}`],
  };
}

function workersText(plan: Plan): string {
  if (!Number.isFinite(plan.workersNeeded)) return 'more workers than any machine has';
  return `${count(plan.workersNeeded)} workers (ceil(${count(plan.connections)} / ${count(plan.perProcessCapacity)}))`;
}

/** fs.nr_open: no process's open-files limit can be raised above it. */
export function checkNrOpen(facts: Facts, plan: Plan): CheckResult {
  const id = 'fs.nr_open';
  const title = 'open-files ceiling';
  if (facts.nrOpen === undefined) return unknown(id, title, 'server', PATHS.nrOpen);
  const workers = plan.workersGiven ?? facts.cpuCount;
  const perProcess = Math.ceil(plan.connections / workers) + RESERVE_FDS;
  const need = `${count(perProcess)} to hold ${count(plan.connections)} in ${workers} worker${workers === 1 ? '' : 's'}`;
  const why =
    'The largest value LimitNOFILE or ulimit -n may take. Below it, the only way to more ' +
    'connections is more processes.';
  const result = { id, title, scope: 'server' as const, have: count(facts.nrOpen), need, why };
  if (facts.nrOpen >= perProcess) return { ...result, status: 'ok', fix: [] };
  return { ...result, status: 'warn', fix: [`sysctl -w fs.nr_open=${roundUp(perProcess, 1024)}`] };
}

/** fs.file-max: open files of all processes together, compared with what is allocated now. */
export function checkFileMax(facts: Facts, plan: Plan): CheckResult {
  const id = 'fs.file-max';
  const title = 'open files, whole system';
  if (facts.fileMax === undefined) return unknown(id, title, 'server', PATHS.fileMax);
  const used = facts.filesAllocated ?? 0;
  const free = facts.fileMax - used;
  const server = plan.connections + plan.workers * RESERVE_FDS;
  const withLoadgen = server + plan.connections;
  const result = {
    id,
    title,
    scope: 'server' as const,
    have: `${count(facts.fileMax)} (${count(used)} in use)`,
    need: `${count(server)} for the server; ${count(withLoadgen)} with a load generator here`,
  };
  const fix = [`sysctl -w fs.file-max=${roundUp(used + withLoadgen, 65536)}`];
  if (free < server) {
    return {
      ...result,
      status: 'fail',
      why: 'Past fs.file-max every process on the machine gets ENFILE when it opens a file or socket.',
      fix,
    };
  }
  if (free < withLoadgen) {
    return {
      ...result,
      status: 'warn',
      why: 'Enough for the server, but a load generator on this machine holds the other end of every connection.',
      fix,
    };
  }
  return {
    ...result,
    status: 'ok',
    why: 'Open files of all processes together; fs.file-nr says how many are in use.',
    fix: [],
  };
}
