import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RESERVE_FDS } from '../../src/doctor/budget.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { check, limits, machine } from './machines.js';

describe('doctor: open files per process', () => {
  it('nofile 1024 fails for 100,000 connections and says ulimit -n, LimitNOFILE and the workers', () => {
    const report = runDoctor({ connections: 100_000 }, machine({ '/proc/self/limits': limits(1024, 1024) }));
    const c = check(report, 'nofile');
    assert.equal(c.status, 'fail');
    assert.equal(report.status, 'fail');
    // 24 connections per process after the reserve: ceil(100,000 / 24) workers.
    assert.equal(report.workersNeeded, 4167);
    assert.match(c.need, /4,167 workers/);
    // The fix: one worker per CPU (2) with ceil(100,000 / 2) + 1,000 open files each.
    assert.ok(c.fix.includes('ulimit -n 51000'), c.fix.join('\n'));
    assert.ok(c.fix.includes('LimitNOFILE=51000'), c.fix.join('\n'));
    assert.ok(c.fix.includes('holdfast serve --workers 2'), c.fix.join('\n'));
  });

  it('a hard limit of 20,000 passes 100,000 connections only with at least 6 workers', () => {
    const m = machine();
    assert.equal(check(runDoctor({ connections: 100_000, workers: 6 }, m), 'nofile').status, 'ok');
    assert.equal(check(runDoctor({ connections: 100_000, workers: 12 }, m), 'nofile').status, 'ok');
    const five = check(runDoctor({ connections: 100_000, workers: 5 }, m), 'nofile');
    assert.equal(five.status, 'fail');
    assert.ok(five.fix.includes('holdfast serve --workers 6'), five.fix.join('\n'));
    assert.ok(five.fix.includes('ulimit -n 21000'), five.fix.join('\n'));
    assert.ok(five.fix.includes('LimitNOFILE=21000'), five.fix.join('\n'));
    // Left to the doctor, it warns (no failure) and names the worker count.
    const open = runDoctor({ connections: 100_000 }, m);
    assert.equal(open.workersNeeded, 6);
    assert.equal(check(open, 'nofile').status, 'warn');
    assert.equal(check(open, 'nofile').fix[0], 'holdfast serve --workers 6');
  });

  it('one process is enough when its limit leaves room for the target', () => {
    const report = runDoctor({ connections: 15_000 }, machine());
    assert.equal(report.workersNeeded, 1);
    assert.equal(check(report, 'nofile').status, 'ok');
  });

  it('judges by the hard limit, since Node raises the soft one to it', () => {
    const c = check(
      runDoctor({ connections: 50_000, workers: 1 }, machine({ '/proc/self/limits': limits(1024, 65536) })),
      'nofile',
    );
    assert.equal(c.status, 'ok');
    assert.match(c.have, /soft 1,024, hard 65,536/);
  });

  it('asks to raise fs.nr_open first when the needed limit is above it', () => {
    const m = machine({ '/proc/self/limits': limits(1024, 1024), '/proc/sys/fs/nr_open': '40000\n' });
    const report = runDoctor({ connections: 100_000, workers: 1 }, m);
    const nofile = check(report, 'nofile');
    assert.equal(nofile.status, 'fail');
    assert.equal(nofile.fix[0], 'sysctl -w fs.nr_open=101376');
    assert.ok(nofile.fix.includes('ulimit -n 101000'));
    const nrOpen = check(report, 'fs.nr_open');
    assert.equal(nrOpen.status, 'warn');
    assert.deepEqual(nrOpen.fix, ['sysctl -w fs.nr_open=101376']);
  });

  it('warns, without failing, when /proc/self/limits cannot be read', () => {
    const report = runDoctor({ connections: 100_000 }, machine({ '/proc/self/limits': null }));
    const c = check(report, 'nofile');
    assert.equal(c.status, 'warn');
    assert.equal(c.have, 'unknown');
    assert.match(c.why, /\/proc\/self\/limits/);
  });

  it('with --workers, ok exactly when ceil(N / W) + reserve fits the hard limit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1024, max: 1_048_576 }),
        (n, w, hard) => {
          const m = machine({ '/proc/self/limits': limits(hard, hard) });
          const report = runDoctor({ connections: n, workers: w }, m);
          const fits = Math.ceil(n / w) + RESERVE_FDS <= hard;
          assert.equal(check(report, 'nofile').status, fits ? 'ok' : 'fail');
          // The worker count the doctor names always fits.
          const needed = report.workersNeeded;
          if (needed !== null && needed <= 64) {
            const again = runDoctor({ connections: n, workers: needed }, m);
            assert.equal(check(again, 'nofile').status, 'ok');
            if (needed > 1) {
              const fewer = runDoctor({ connections: n, workers: needed - 1 }, m);
              assert.equal(check(fewer, 'nofile').status, 'fail');
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('doctor: system-wide open files', () => {
  const fileMax = (max: number, used: number) =>
    machine({ '/proc/sys/fs/file-max': `${max}\n`, '/proc/sys/fs/file-nr': `${used}\t0\t${max}\n` });

  it('fails when the server alone does not fit, counting files in use', () => {
    const c = check(runDoctor({ connections: 100_000, workers: 6 }, fileMax(150_000, 50_000)), 'fs.file-max');
    assert.equal(c.status, 'fail');
    // 100,000 + 6 × 1,000 for the server, again 100,000 for a load generator, 50,000 in use.
    assert.deepEqual(c.fix, ['sysctl -w fs.file-max=262144']);
  });

  it('warns when only a load generator on the same machine would not fit', () => {
    const c = check(runDoctor({ connections: 100_000, workers: 6 }, fileMax(200_000, 1000)), 'fs.file-max');
    assert.equal(c.status, 'warn');
  });

  it('passes on the project machine', () => {
    assert.equal(check(runDoctor({ connections: 100_000 }, machine()), 'fs.file-max').status, 'ok');
  });
});
