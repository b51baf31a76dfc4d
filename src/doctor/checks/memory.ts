import { KERNEL_BYTES_PER_SOCKET, USER_BYTES_PER_CONNECTION, WORKER_BASELINE_BYTES } from '../budget.js';
import { type Facts, PATHS } from '../facts.js';
import { type CheckResult, type Plan, unknown } from '../plan.js';
import { bytes, count, roundUp } from '../units.js';

const MiB = 1024 * 1024;

/** Share of available memory the target may take before the doctor warns. */
const MEMORY_WARN_SHARE = 0.75;

/** MemAvailable (and a cgroup v2 memory.max) against N × the per-connection budget. */
export function checkMemory(facts: Facts, plan: Plan): CheckResult {
  const id = 'memory';
  const title = 'memory';
  if (facts.memAvailable === undefined) return unknown(id, title, 'server', PATHS.meminfo);
  const perConnection = USER_BYTES_PER_CONNECTION + KERNEL_BYTES_PER_SOCKET;
  const need = plan.connections * perConnection + plan.workers * WORKER_BASELINE_BYTES;
  const cg = facts.cgroupMemory;
  const cgFree = cg === undefined ? Number.POSITIVE_INFINITY : Math.max(0, cg.limit - cg.usage);
  const available = Math.min(facts.memAvailable, cgFree);
  const result = {
    id,
    title,
    scope: 'server' as const,
    have:
      `MemAvailable ${bytes(facts.memAvailable)}` +
      (cg === undefined ? '' : `; cgroup memory.max ${bytes(cg.limit)}, ${bytes(cg.usage)} used`),
    need:
      `${count(plan.connections)} × ${bytes(perConnection)} + ${plan.workers} worker${plan.workers === 1 ? '' : 's'} × ` +
      `${bytes(WORKER_BASELINE_BYTES)} = ${bytes(need)}`,
    why:
      `Budget per connection: ${bytes(USER_BYTES_PER_CONNECTION)} in the process (SSE, the costliest ` +
      `transport measured) + ${bytes(KERNEL_BYTES_PER_SOCKET)} in the kernel; a load generator on this ` +
      'machine needs about as much again. Message queues, history and bursts come on top.',
  };
  if (need <= available * MEMORY_WARN_SHARE) return { ...result, status: 'ok', fix: [] };
  const cgroupBinds = cgFree < facts.memAvailable;
  const fix = cgroupBinds
    ? [
        '# the cgroup limit binds; in the systemd unit, [Service] section:',
        `MemoryMax=${roundUp((cg!.usage + need / MEMORY_WARN_SHARE) / MiB, 256)}M`,
      ]
    : [`# free or add memory, lower the target, or spread the clients over more machines (--engine redis)`];
  return { ...result, status: need > available ? 'fail' : 'warn', fix };
}

/** Node's heap limit against the connections one worker holds. */
export function checkHeap(facts: Facts, plan: Plan): CheckResult {
  const id = 'heap_size_limit';
  const title = 'Node heap per worker';
  const limit = facts.heapSizeLimit;
  const need = plan.perWorker * USER_BYTES_PER_CONNECTION;
  const result = {
    id,
    title,
    scope: 'server' as const,
    have: bytes(limit),
    need: `${count(plan.perWorker)} connections × ${bytes(USER_BYTES_PER_CONNECTION)} = ${bytes(need)}`,
    why:
      'V8 stops the process ("JavaScript heap out of memory") at heap_size_limit and collects ' +
      'garbage ever more often as it gets close; keep the live heap under half of it. The budget ' +
      'counts all user-space memory as heap, which overstates it a little.',
  };
  if (need <= limit / 2) return { ...result, status: 'ok', fix: [] };
  const mb = roundUp((2 * need) / MiB, 512);
  const fix = [
    `NODE_OPTIONS=--max-old-space-size=${mb} holdfast serve --workers ${plan.workers}`,
    `# or spread the connections over more workers (${count(Math.ceil((2 * plan.connections * USER_BYTES_PER_CONNECTION) / limit))} at this heap limit)`,
  ];
  return { ...result, status: need > limit ? 'fail' : 'warn', fix };
}
