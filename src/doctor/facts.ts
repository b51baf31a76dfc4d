import type { SystemReader } from './reader.js';

/** Where each fact lives. Sysctl `a.b.c` is the file /proc/sys/a/b/c. */
export const PATHS = {
  limits: '/proc/self/limits',
  nrOpen: '/proc/sys/fs/nr_open',
  fileMax: '/proc/sys/fs/file-max',
  fileNr: '/proc/sys/fs/file-nr',
  somaxconn: '/proc/sys/net/core/somaxconn',
  synBacklog: '/proc/sys/net/ipv4/tcp_max_syn_backlog',
  portRange: '/proc/sys/net/ipv4/ip_local_port_range',
  twReuse: '/proc/sys/net/ipv4/tcp_tw_reuse',
  tcpMem: '/proc/sys/net/ipv4/tcp_mem',
  tcpRmem: '/proc/sys/net/ipv4/tcp_rmem',
  tcpWmem: '/proc/sys/net/ipv4/tcp_wmem',
  conntrackMax: '/proc/sys/net/netfilter/nf_conntrack_max',
  /** Older kernels' name for the same value. */
  conntrackMaxLegacy: '/proc/sys/net/nf_conntrack_max',
  conntrackCount: '/proc/sys/net/netfilter/nf_conntrack_count',
  meminfo: '/proc/meminfo',
  cgroup: '/proc/self/cgroup',
} as const;

export type Triple = readonly [number, number, number];

/** What the doctor read; a field is undefined when its file is missing or unparsable. */
export interface Facts {
  /** RLIMIT_NOFILE of this process; Infinity for "unlimited". */
  nofile: { soft: number; hard: number } | undefined;
  nrOpen: number | undefined;
  fileMax: number | undefined;
  /** fs.file-nr: file handles allocated now. */
  filesAllocated: number | undefined;
  somaxconn: number | undefined;
  synBacklog: number | undefined;
  portRange: { low: number; high: number } | undefined;
  twReuse: number | undefined;
  /** Pages: min, pressure, max. */
  tcpMem: Triple | undefined;
  /** Bytes per socket: min, default, max. */
  tcpRmem: Triple | undefined;
  tcpWmem: Triple | undefined;
  /** undefined when nf_conntrack is not loaded (nothing is tracked). */
  conntrack: { max: number; count: number } | undefined;
  /** Bytes. */
  memAvailable: number | undefined;
  /** A cgroup v2 memory.max of this process, when one is set. */
  cgroupMemory: { path: string; limit: number; usage: number } | undefined;
  heapSizeLimit: number;
  cpuCount: number;
  pageSize: number;
}

function numbers(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '') return undefined;
  const out = parts.map(Number);
  return out.every(Number.isFinite) ? out : undefined;
}

function one(text: string | undefined): number | undefined {
  const n = numbers(text);
  return n?.length === 1 ? n[0] : undefined;
}

function triple(text: string | undefined): Triple | undefined {
  const n = numbers(text);
  return n?.length === 3 ? [n[0]!, n[1]!, n[2]!] : undefined;
}

function limitValue(s: string): number {
  return s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s);
}

/** The "Max open files" line of /proc/<pid>/limits. */
export function parseNofile(limits: string | undefined): { soft: number; hard: number } | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s+files/m.exec(limits ?? '');
  return m ? { soft: limitValue(m[1]!), hard: limitValue(m[2]!) } : undefined;
}

/** A "Key:   123 kB" line of /proc/meminfo, in bytes. */
export function parseMeminfo(meminfo: string | undefined, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(meminfo ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
}

function cgroupMemory(r: SystemReader): Facts['cgroupMemory'] {
  // cgroup v2 only: the "0::<path>" line. A v1 hierarchy is left to the operator.
  const m = /^0::(\/.*)$/m.exec(r.readFile(PATHS.cgroup) ?? '');
  if (!m) return undefined;
  const dir = '/sys/fs/cgroup' + (m[1] === '/' ? '' : m[1]);
  const max = r.readFile(`${dir}/memory.max`)?.trim();
  if (max === undefined || max === 'max') return undefined;
  const limit = Number(max);
  const usage = one(r.readFile(`${dir}/memory.current`)) ?? 0;
  return Number.isFinite(limit) ? { path: `${dir}/memory.max`, limit, usage } : undefined;
}

export function readFacts(r: SystemReader): Facts {
  const fileNr = numbers(r.readFile(PATHS.fileNr));
  const ctMax = one(r.readFile(PATHS.conntrackMax)) ?? one(r.readFile(PATHS.conntrackMaxLegacy));
  const range = numbers(r.readFile(PATHS.portRange));
  return {
    nofile: parseNofile(r.readFile(PATHS.limits)),
    nrOpen: one(r.readFile(PATHS.nrOpen)),
    fileMax: one(r.readFile(PATHS.fileMax)),
    filesAllocated: fileNr?.length === 3 ? fileNr[0] : undefined,
    somaxconn: one(r.readFile(PATHS.somaxconn)),
    synBacklog: one(r.readFile(PATHS.synBacklog)),
    portRange: range?.length === 2 ? { low: range[0]!, high: range[1]! } : undefined,
    twReuse: one(r.readFile(PATHS.twReuse)),
    tcpMem: triple(r.readFile(PATHS.tcpMem)),
    tcpRmem: triple(r.readFile(PATHS.tcpRmem)),
    tcpWmem: triple(r.readFile(PATHS.tcpWmem)),
    conntrack:
      ctMax === undefined ? undefined : { max: ctMax, count: one(r.readFile(PATHS.conntrackCount)) ?? 0 },
    memAvailable: parseMeminfo(r.readFile(PATHS.meminfo), 'MemAvailable'),
    cgroupMemory: cgroupMemory(r),
    heapSizeLimit: r.heapSizeLimit(),
    cpuCount: Math.max(1, r.cpuCount()),
    pageSize: r.pageSize(),
  };
}
