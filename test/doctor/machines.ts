import assert from 'node:assert/strict';
import type { DoctorReport } from '../../src/doctor/doctor.js';
import type { CheckResult } from '../../src/doctor/plan.js';
import { fixtureReader, type SystemReader } from '../../src/doctor/reader.js';

/** /proc/self/limits as Linux prints it, with the given open-files limits. */
export function limits(soft: number | 'unlimited', hard: number | 'unlimited'): string {
  const row = (name: string, s: string, h: string, unit: string) =>
    `${name.padEnd(26)}${s.padEnd(21)}${h.padEnd(21)}${unit}\n`;
  return (
    row('Limit', 'Soft Limit', 'Hard Limit', 'Units     ') +
    row('Max cpu time', 'unlimited', 'unlimited', 'seconds   ') +
    row('Max processes', '96365', '96365', 'processes ') +
    row('Max open files', String(soft), String(hard), 'files     ') +
    row('Max locked memory', '8388608', '8388608', 'bytes     ')
  );
}

/** The project machine's files as read on 2026-11-26 (2 CPUs, 24 GiB, Linux 6.18). */
export const PROJECT_MACHINE: Record<string, string> = {
  '/proc/self/limits': limits(20000, 20000),
  '/proc/sys/fs/nr_open': '1048576\n',
  '/proc/sys/fs/file-max': '2466170\n',
  '/proc/sys/fs/file-nr': '778\t0\t2466170\n',
  '/proc/sys/net/core/somaxconn': '4096\n',
  '/proc/sys/net/ipv4/tcp_max_syn_backlog': '2048\n',
  '/proc/sys/net/ipv4/ip_local_port_range': '32768\t60999\n',
  '/proc/sys/net/ipv4/tcp_tw_reuse': '2\n',
  '/proc/sys/net/ipv4/tcp_mem': '287898\t383867\t575796\n',
  '/proc/sys/net/ipv4/tcp_rmem': '4096\t131072\t33554432\n',
  '/proc/sys/net/ipv4/tcp_wmem': '4096\t16384\t4194304\n',
  '/proc/sys/net/netfilter/nf_conntrack_max': '262144\n',
  '/proc/sys/net/netfilter/nf_conntrack_count': '0\n',
  '/proc/meminfo':
    'MemTotal:       24684084 kB\nMemFree:        20000000 kB\nMemAvailable:   23885220 kB\nBuffers:          100000 kB\n',
  '/proc/self/cgroup': '0::/\n',
};

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

/** The project machine with some files replaced (a value of null removes the file). */
export function machine(
  overrides: Record<string, string | null> = {},
  values: { heapSizeLimit?: number; cpuCount?: number; pageSize?: number } = {},
): SystemReader {
  const files: Record<string, string> = { ...PROJECT_MACHINE };
  for (const [path, text] of Object.entries(overrides)) {
    if (text === null) delete files[path];
    else files[path] = text;
  }
  return fixtureReader(files, {
    heapSizeLimit: values.heapSizeLimit ?? 4345298944,
    cpuCount: values.cpuCount ?? 2,
    pageSize: values.pageSize ?? 4096,
  });
}

/** The result of one check in a report, by id. */
export function check(report: DoctorReport, id: string): CheckResult {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
}
