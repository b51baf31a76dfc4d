import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDoctor } from '../../src/doctor/doctor.js';
import { check, machine } from './machines.js';

const N = 100_000;

describe('doctor: listen backlog', () => {
  it('warns below 4096 with the sysctl line, passes at 4096', () => {
    const low = check(
      runDoctor({ connections: N }, machine({ '/proc/sys/net/core/somaxconn': '128\n' })),
      'net.core.somaxconn',
    );
    assert.equal(low.status, 'warn');
    assert.deepEqual(low.fix, ['sysctl -w net.core.somaxconn=4096']);
    assert.equal(check(runDoctor({ connections: N }, machine()), 'net.core.somaxconn').status, 'ok');
  });

  it('warns about the project machine SYN backlog of 2048', () => {
    const c = check(runDoctor({ connections: N }, machine()), 'net.ipv4.tcp_max_syn_backlog');
    assert.equal(c.status, 'warn');
    assert.deepEqual(c.fix, ['sysctl -w net.ipv4.tcp_max_syn_backlog=4096']);
    const raised = machine({ '/proc/sys/net/ipv4/tcp_max_syn_backlog': '8192\n' });
    assert.equal(check(runDoctor({ connections: N }, raised), 'net.ipv4.tcp_max_syn_backlog').status, 'ok');
  });
});

describe('doctor: ephemeral ports', () => {
  it('counts the source addresses a load generator needs', () => {
    const c = check(runDoctor({ connections: N }, machine()), 'net.ipv4.ip_local_port_range');
    assert.equal(c.status, 'warn');
    assert.equal(c.scope, 'loadgen');
    // 28,232 ports per source address: ceil(100,000 / 28,232) = 4.
    assert.match(c.need, /4 source addresses/);
    assert.ok(c.fix.includes('sysctl -w net.ipv4.ip_local_port_range="1024 65535"'));
    const wide = machine({ '/proc/sys/net/ipv4/ip_local_port_range': '1024\t65535\n' });
    assert.match(
      check(runDoctor({ connections: N }, wide), 'net.ipv4.ip_local_port_range').need,
      /2 source addresses/,
    );
  });

  it('passes when one source address has enough ports', () => {
    assert.equal(
      check(runDoctor({ connections: 20_000 }, machine()), 'net.ipv4.ip_local_port_range').status,
      'ok',
    );
  });

  it('warns when TIME_WAIT ports may not be reused', () => {
    const off = check(
      runDoctor({ connections: N }, machine({ '/proc/sys/net/ipv4/tcp_tw_reuse': '0\n' })),
      'net.ipv4.tcp_tw_reuse',
    );
    assert.equal(off.status, 'warn');
    assert.deepEqual(off.fix, ['sysctl -w net.ipv4.tcp_tw_reuse=1']);
    assert.equal(check(runDoctor({ connections: N }, machine()), 'net.ipv4.tcp_tw_reuse').status, 'ok');
  });
});

describe('doctor: TCP memory', () => {
  const tcpMem = (text: string) => machine({ '/proc/sys/net/ipv4/tcp_mem': text });

  it('passes when N pages stay under the pressure threshold', () => {
    const c = check(runDoctor({ connections: N }, machine()), 'net.ipv4.tcp_mem');
    assert.equal(c.status, 'ok');
    assert.match(c.need, /100,000 pages \(390\.6 MiB\)/);
  });

  it('warns between pressure and max, fails past max, and the fix covers N', () => {
    const warn = check(runDoctor({ connections: N }, tcpMem('20000 80000 120000\n')), 'net.ipv4.tcp_mem');
    assert.equal(warn.status, 'warn');
    const fail = check(runDoctor({ connections: N }, tcpMem('20000 40000 60000\n')), 'net.ipv4.tcp_mem');
    assert.equal(fail.status, 'fail');
    const m = /^sysctl -w net\.ipv4\.tcp_mem="(\d+) (\d+) (\d+)"$/.exec(fail.fix[0] ?? '');
    assert.ok(m, fail.fix.join('\n'));
    assert.equal(Number(m[1]), 20000);
    assert.ok(Number(m[2]) >= N && Number(m[3]) > Number(m[2]), fail.fix[0]);
    // Applying the fix makes the check pass.
    const fixed = tcpMem(`${m[1]} ${m[2]} ${m[3]}\n`);
    assert.equal(check(runDoctor({ connections: N }, fixed), 'net.ipv4.tcp_mem').status, 'ok');
  });

  it('counts pages of the machine page size', () => {
    const big = machine({}, { pageSize: 65536 });
    assert.match(check(runDoctor({ connections: N }, big), 'net.ipv4.tcp_mem').need, /6\.1 GiB/);
  });

  it('warns when full send buffers on every connection would exceed tcp_mem', () => {
    const m = machine({ '/proc/sys/net/ipv4/tcp_wmem': '4096\t65536\t4194304\n' });
    const c = check(runDoctor({ connections: N }, m), 'net.ipv4.tcp_rmem/tcp_wmem');
    assert.equal(c.status, 'warn');
    assert.ok(c.fix.includes('sysctl -w net.ipv4.tcp_wmem="4096 16384 4194304"'), c.fix.join('\n'));
    assert.equal(check(runDoctor({ connections: N }, machine()), 'net.ipv4.tcp_rmem/tcp_wmem').status, 'ok');
  });
});

describe('doctor: connection tracking', () => {
  const ct = (max: number, count: number) =>
    machine({
      '/proc/sys/net/netfilter/nf_conntrack_max': `${max}\n`,
      '/proc/sys/net/netfilter/nf_conntrack_count': `${count}\n`,
    });

  it('passes when conntrack is not loaded', () => {
    const m = machine({
      '/proc/sys/net/netfilter/nf_conntrack_max': null,
      '/proc/sys/net/netfilter/nf_conntrack_count': null,
    });
    const c = check(runDoctor({ connections: N }, m), 'net.netfilter.nf_conntrack_max');
    assert.equal(c.status, 'ok');
    assert.equal(c.have, 'not loaded');
  });

  it('fails when the free entries are fewer than N, warns below 2N', () => {
    const fail = check(runDoctor({ connections: N }, ct(65536, 0)), 'net.netfilter.nf_conntrack_max');
    assert.equal(fail.status, 'fail');
    assert.deepEqual(fail.fix, ['sysctl -w net.netfilter.nf_conntrack_max=262144']);
    assert.equal(
      check(runDoctor({ connections: N }, ct(262144, 100_000)), 'net.netfilter.nf_conntrack_max').status,
      'warn',
    );
    assert.equal(
      check(runDoctor({ connections: N }, ct(262144, 0)), 'net.netfilter.nf_conntrack_max').status,
      'ok',
    );
  });
});
