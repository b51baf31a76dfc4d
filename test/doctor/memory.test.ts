import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDoctor } from '../../src/doctor/doctor.js';
import { check, GiB, MiB, machine } from './machines.js';

const meminfo = (availableKiB: number) => ({
  '/proc/meminfo': `MemTotal:       24684084 kB\nMemAvailable:   ${availableKiB} kB\n`,
});

describe('doctor: memory', () => {
  it('passes 100,000 connections in 6 workers on the project machine', () => {
    const c = check(runDoctor({ connections: 100_000, workers: 6 }, machine()), 'memory');
    assert.equal(c.status, 'ok');
    // 100,000 × (10 KiB + 4.7 KiB) + 6 × 64 MiB.
    assert.match(c.need, /= 1\.8 GiB$/);
  });

  it('fails when the budget exceeds MemAvailable and warns when it takes most of it', () => {
    const fail = check(
      runDoctor({ connections: 100_000, workers: 6 }, machine(meminfo(1024 * 1024))),
      'memory',
    );
    assert.equal(fail.status, 'fail');
    const warn = check(
      runDoctor({ connections: 100_000, workers: 6 }, machine(meminfo(2 * 1024 * 1024))),
      'memory',
    );
    assert.equal(warn.status, 'warn');
  });

  it('counts a cgroup v2 memory.max, and fixes it with MemoryMax=', () => {
    const m = machine({
      '/proc/self/cgroup': '0::/holdfast\n',
      '/sys/fs/cgroup/holdfast/memory.max': `${GiB}\n`,
      '/sys/fs/cgroup/holdfast/memory.current': `${100 * MiB}\n`,
    });
    const c = check(runDoctor({ connections: 100_000, workers: 6 }, m), 'memory');
    assert.equal(c.status, 'fail');
    assert.match(c.have, /cgroup memory\.max 1\.0 GiB/);
    const line = c.fix.find((l) => l.startsWith('MemoryMax='));
    assert.ok(line, c.fix.join('\n'));
    const raised = Number(/^MemoryMax=(\d+)M$/.exec(line)?.[1]) * MiB;
    const fixed = machine({
      '/proc/self/cgroup': '0::/holdfast\n',
      '/sys/fs/cgroup/holdfast/memory.max': `${raised}\n`,
      '/sys/fs/cgroup/holdfast/memory.current': `${100 * MiB}\n`,
    });
    assert.equal(check(runDoctor({ connections: 100_000, workers: 6 }, fixed), 'memory').status, 'ok');
  });
});

describe('doctor: Node heap', () => {
  it('checks the connections of one worker against heap_size_limit', () => {
    const small = machine({}, { heapSizeLimit: 512 * MiB });
    // One worker with 100,000 × 10 KiB = 977 MiB: past the limit.
    const one = check(runDoctor({ connections: 100_000, workers: 1 }, small), 'heap_size_limit');
    assert.equal(one.status, 'fail');
    assert.ok(
      one.fix.some((l) => l.startsWith('NODE_OPTIONS=--max-old-space-size=2048 ')),
      one.fix.join('\n'),
    );
    // Two workers: 488 MiB each, near the limit.
    assert.equal(
      check(runDoctor({ connections: 100_000, workers: 2 }, small), 'heap_size_limit').status,
      'warn',
    );
    // Six workers: 163 MiB each.
    assert.equal(
      check(runDoctor({ connections: 100_000, workers: 6 }, small), 'heap_size_limit').status,
      'ok',
    );
  });
});
