import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMeminfo, parseNofile, readFacts } from '../../src/doctor/facts.js';
import { fixtureReader, systemReader } from '../../src/doctor/reader.js';
import { limits, machine } from './machines.js';

describe('doctor facts', () => {
  it('parses the open-files row of /proc/self/limits', () => {
    assert.deepEqual(parseNofile(limits(1024, 524288)), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseNofile(limits('unlimited', 'unlimited')), {
      soft: Number.POSITIVE_INFINITY,
      hard: Number.POSITIVE_INFINITY,
    });
    assert.equal(parseNofile('Max processes  10  10  processes\n'), undefined);
    assert.equal(parseNofile(undefined), undefined);
  });

  it('parses /proc/meminfo lines into bytes', () => {
    const text = 'MemTotal:       24684084 kB\nMemAvailable:   23885220 kB\n';
    assert.equal(parseMeminfo(text, 'MemAvailable'), 23885220 * 1024);
    assert.equal(parseMeminfo(text, 'SwapTotal'), undefined);
  });

  it('reads every value of the project machine', () => {
    const f = readFacts(machine());
    assert.deepEqual(f.nofile, { soft: 20000, hard: 20000 });
    assert.equal(f.nrOpen, 1048576);
    assert.equal(f.fileMax, 2466170);
    assert.equal(f.filesAllocated, 778);
    assert.equal(f.somaxconn, 4096);
    assert.equal(f.synBacklog, 2048);
    assert.deepEqual(f.portRange, { low: 32768, high: 60999 });
    assert.equal(f.twReuse, 2);
    assert.deepEqual(f.tcpMem, [287898, 383867, 575796]);
    assert.deepEqual(f.tcpRmem, [4096, 131072, 33554432]);
    assert.deepEqual(f.tcpWmem, [4096, 16384, 4194304]);
    assert.deepEqual(f.conntrack, { max: 262144, count: 0 });
    assert.equal(f.memAvailable, 23885220 * 1024);
    assert.equal(f.cgroupMemory, undefined);
    assert.equal(f.cpuCount, 2);
  });

  it('leaves missing or garbled files undefined', () => {
    const f = readFacts(
      machine({
        '/proc/self/limits': null,
        '/proc/sys/fs/nr_open': 'lots\n',
        '/proc/sys/net/ipv4/tcp_mem': '1 2\n',
        '/proc/sys/net/ipv4/ip_local_port_range': '\n',
        '/proc/sys/net/netfilter/nf_conntrack_max': null,
        '/proc/sys/net/netfilter/nf_conntrack_count': null,
      }),
    );
    assert.equal(f.nofile, undefined);
    assert.equal(f.nrOpen, undefined);
    assert.equal(f.tcpMem, undefined);
    assert.equal(f.portRange, undefined);
    assert.equal(f.conntrack, undefined);
  });

  it('falls back to the older conntrack path', () => {
    const f = readFacts(
      machine({
        '/proc/sys/net/netfilter/nf_conntrack_max': null,
        '/proc/sys/net/netfilter/nf_conntrack_count': null,
        '/proc/sys/net/nf_conntrack_max': '65536\n',
      }),
    );
    assert.deepEqual(f.conntrack, { max: 65536, count: 0 });
  });

  it('reads a cgroup v2 memory limit, and ignores "max"', () => {
    const cg = {
      '/proc/self/cgroup': '0::/system.slice/holdfast.service\n',
      '/sys/fs/cgroup/system.slice/holdfast.service/memory.max': '2147483648\n',
      '/sys/fs/cgroup/system.slice/holdfast.service/memory.current': '104857600\n',
    };
    assert.deepEqual(readFacts(machine(cg)).cgroupMemory, {
      path: '/sys/fs/cgroup/system.slice/holdfast.service/memory.max',
      limit: 2147483648,
      usage: 104857600,
    });
    const unlimited = { ...cg, '/sys/fs/cgroup/system.slice/holdfast.service/memory.max': 'max\n' };
    assert.equal(readFacts(machine(unlimited)).cgroupMemory, undefined);
  });

  it('fixture readers answer only for the files they hold', () => {
    const r = fixtureReader({ '/a': 'x' }, { heapSizeLimit: 1, cpuCount: 3 });
    assert.equal(r.readFile('/a'), 'x');
    assert.equal(r.readFile('/b'), undefined);
    assert.equal(r.readFile('toString'), undefined);
    assert.equal(r.pageSize(), 4096);
  });

  it('the system reader reads nothing for a file that is not there, on any platform', () => {
    const r = systemReader();
    assert.equal(r.readFile('/no/such/file'), undefined);
    readFacts(r);
  });

  const notLinux = process.platform !== 'linux' && `/proc is Linux's (this is ${process.platform})`;
  it('the system reader reads this machine as /proc shows it', { skip: notLinux }, () => {
    const f = readFacts(systemReader());
    assert.deepEqual(f.nofile, parseNofile(readFileSync('/proc/self/limits', 'utf8')));
    assert.ok(f.pageSize >= 4096 && (f.pageSize & (f.pageSize - 1)) === 0, `page size ${f.pageSize}`);
    assert.ok(f.heapSizeLimit > 0);
  });
});
