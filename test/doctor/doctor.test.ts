import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDoctor, startupWarnings } from '../../src/doctor/doctor.js';
import { fixtureReader } from '../../src/doctor/reader.js';
import { check, limits, machine } from './machines.js';

describe('doctor report', () => {
  it('on the project machine: 100,000 connections need 6 workers, nothing fails', () => {
    const report = runDoctor({ connections: 100_000 }, machine());
    assert.equal(report.workersNeeded, 6);
    assert.equal(report.workers, null);
    assert.equal(report.cpus, 2);
    assert.equal(report.status, 'warn');
    assert.deepEqual(
      report.checks.filter((c) => c.status !== 'ok').map((c) => c.id),
      ['nofile', 'net.ipv4.tcp_max_syn_backlog', 'net.ipv4.ip_local_port_range'],
    );
  });

  it('is ok overall when every check is', () => {
    const m = machine({
      '/proc/sys/net/ipv4/tcp_max_syn_backlog': '4096\n',
      '/proc/sys/net/ipv4/ip_local_port_range': '1024\t65535\n',
    });
    const report = runDoctor({ connections: 50_000, workers: 3 }, m);
    assert.equal(report.status, 'ok', JSON.stringify(report.checks.filter((c) => c.status !== 'ok')));
  });

  it('fails overall when one check fails', () => {
    const report = runDoctor({ connections: 100_000, workers: 2 }, machine());
    assert.equal(report.status, 'fail');
    assert.equal(check(report, 'nofile').status, 'fail');
  });

  it('on a machine with nothing readable, every check warns or passes and none throws', () => {
    const report = runDoctor(
      { connections: 100_000 },
      fixtureReader({}, { heapSizeLimit: 4 * 1024 ** 3, cpuCount: 2 }),
    );
    assert.equal(report.status, 'warn');
    for (const c of report.checks) assert.notEqual(c.status, 'fail', c.id);
    assert.equal(check(report, 'nofile').have, 'unknown');
    assert.equal(check(report, 'net.netfilter.nf_conntrack_max').have, 'not loaded');
    assert.equal(report.workersNeeded, 1);
  });
});

describe('startupWarnings', () => {
  it('returns a line per failing or warning server check, with its fix', () => {
    const lines = startupWarnings({ connections: 100_000, workers: 2 }, machine());
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^fail nofile \(open files per process\): .*for 100,000 connections; fix: .*ulimit -n 51000/,
    );
    assert.match(lines[0]!, /holdfast serve --workers 6/);
    assert.match(lines[1]!, /^warn net\.ipv4\.tcp_max_syn_backlog/);
    // Load-generator checks (ephemeral ports, TIME_WAIT) are not the server's business.
    assert.ok(!lines.some((l) => l.includes('ip_local_port_range')));
  });

  it('is empty when the machine holds the target', () => {
    const m = machine({ '/proc/sys/net/ipv4/tcp_max_syn_backlog': '4096\n' });
    assert.deepEqual(startupWarnings({ connections: 100_000, workers: 6 }, m), []);
  });

  it('without a target, checks the other limits against what the open-files limit allows', () => {
    const m = machine({
      '/proc/sys/net/ipv4/tcp_max_syn_backlog': '4096\n',
      '/proc/self/limits': limits(65536, 65536),
      '/proc/sys/net/netfilter/nf_conntrack_max': '131072\n',
    });
    // 2 workers × (65,536 − 1,000) = 129,072 connections: conntrack holds them, not twice over.
    const lines = startupWarnings({ workers: 2 }, m);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^warn net\.netfilter\.nf_conntrack_max .*for 129,072 connections/);
  });
});
