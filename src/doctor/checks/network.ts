import { NODE_DEFAULT_BACKLOG, RECOMMENDED_BACKLOG, TCP_PAGES_PER_BUSY_CONNECTION } from '../budget.js';
import { type Facts, PATHS } from '../facts.js';
import { type CheckResult, type Plan, unknown } from '../plan.js';
import { bytes, count, roundUp } from '../units.js';

/** net.core.somaxconn caps every listen backlog. */
export function checkSomaxconn(facts: Facts): CheckResult {
  const id = 'net.core.somaxconn';
  const title = 'listen backlog';
  if (facts.somaxconn === undefined) return unknown(id, title, 'server', PATHS.somaxconn);
  const ok = facts.somaxconn >= RECOMMENDED_BACKLOG;
  return {
    id,
    title,
    scope: 'server',
    status: ok ? 'ok' : 'warn',
    have: count(facts.somaxconn),
    need: `≥ ${count(RECOMMENDED_BACKLOG)}`,
    why:
      'Connections that completed the handshake wait here until accept(); the kernel caps any ' +
      `backlog at somaxconn (Node asks for ${NODE_DEFAULT_BACKLOG} unless told). When many clients ` +
      'reconnect at once (a restart, a network blip) a full queue drops them into SYN retries of 1 s, 3 s, 7 s...',
    fix: ok ? [] : [`sysctl -w net.core.somaxconn=${RECOMMENDED_BACKLOG}`],
  };
}

/** net.ipv4.tcp_max_syn_backlog: half-open connections waiting for the client's ACK. */
export function checkSynBacklog(facts: Facts): CheckResult {
  const id = 'net.ipv4.tcp_max_syn_backlog';
  const title = 'SYN backlog';
  if (facts.synBacklog === undefined) return unknown(id, title, 'server', PATHS.synBacklog);
  const ok = facts.synBacklog >= RECOMMENDED_BACKLOG;
  return {
    id,
    title,
    scope: 'server',
    status: ok ? 'ok' : 'warn',
    have: count(facts.synBacklog),
    need: `≥ ${count(RECOMMENDED_BACKLOG)}`,
    why:
      'Half-open connections during a reconnection storm. Past it the kernel answers with SYN ' +
      'cookies (if net.ipv4.tcp_syncookies is on) or drops the SYN, and logs "possible SYN flooding".',
    fix: ok ? [] : [`sysctl -w net.ipv4.tcp_max_syn_backlog=${RECOMMENDED_BACKLOG}`],
  };
}

/** net.ipv4.ip_local_port_range: local ports for outgoing connections, per source address. */
export function checkPortRange(facts: Facts, plan: Plan): CheckResult {
  const id = 'net.ipv4.ip_local_port_range';
  const title = 'ephemeral ports';
  if (facts.portRange === undefined) return unknown(id, title, 'loadgen', PATHS.portRange);
  const { low, high } = facts.portRange;
  const ports = Math.max(0, high - low + 1);
  const addresses = ports === 0 ? Number.POSITIVE_INFINITY : Math.ceil(plan.connections / ports);
  const result = {
    id,
    title,
    scope: 'loadgen' as const,
    have: `${low}-${high} (${count(ports)} ports)`,
    need: `${count(plan.connections)} client connections: ${count(addresses)} source address${addresses === 1 ? '' : 'es'}`,
    why:
      'Each connection a load generator (or the server, to a broker) opens to one address and port ' +
      'takes a local port of its source address, for its life and, if it closed first, 60 s of TIME_WAIT.',
  };
  if (addresses <= 1) return { ...result, status: 'ok', fix: [] };
  return {
    ...result,
    status: 'warn',
    fix: [
      `# give the load generator ${count(addresses)} source addresses in 127.0.0.0/8 (${count(ports)} clients each), or widen the range:`,
      'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
    ],
  };
}

/** net.ipv4.tcp_tw_reuse: whether new outgoing connections may take ports held in TIME_WAIT. */
export function checkTwReuse(facts: Facts): CheckResult {
  const id = 'net.ipv4.tcp_tw_reuse';
  const title = 'TIME_WAIT reuse';
  if (facts.twReuse === undefined) return unknown(id, title, 'loadgen', PATHS.twReuse);
  const ok = facts.twReuse !== 0;
  const meaning = facts.twReuse === 2 ? ' (loopback only)' : facts.twReuse === 1 ? ' (all)' : ' (off)';
  return {
    id,
    title,
    scope: 'loadgen',
    status: ok ? 'ok' : 'warn',
    have: `${facts.twReuse}${meaning}`,
    need: '1, or 2 for loopback load tests',
    why:
      'The side that closes first keeps the port in TIME_WAIT for 60 s. A load generator that ' +
      'reconnects many clients runs out of ports unless they may be reused.',
    fix: ok ? [] : ['sysctl -w net.ipv4.tcp_tw_reuse=1'],
  };
}

/** The tcp_mem line that raises pressure and max to at least the given pages. */
function tcpMemLine(tcpMem: readonly [number, number, number], pressure: number, max: number): string {
  const p = Math.max(tcpMem[1], roundUp(pressure, 1024));
  const m = Math.max(tcpMem[2], roundUp(max, 1024), p);
  return `sysctl -w net.ipv4.tcp_mem="${tcpMem[0]} ${p} ${m}"`;
}

/** net.ipv4.tcp_mem: pages all TCP sockets together may hold in their queues. */
export function checkTcpMem(facts: Facts, plan: Plan): CheckResult {
  const id = 'net.ipv4.tcp_mem';
  const title = 'TCP memory, whole system';
  if (facts.tcpMem === undefined) return unknown(id, title, 'server', PATHS.tcpMem);
  const [min, pressure, max] = facts.tcpMem;
  const page = facts.pageSize;
  const pages = plan.connections * TCP_PAGES_PER_BUSY_CONNECTION;
  const result = {
    id,
    title,
    scope: 'server' as const,
    have: `${count(min)} / ${count(pressure)} / ${count(max)} pages (max ${bytes(max * page)})`,
    need: `${count(pages)} pages (${bytes(pages * page)}) with a message in flight on every connection`,
  };
  const why =
    'Counted in pages of socket queues. Idle connections hold none; a broadcast puts about one page ' +
    'in every subscriber\'s queue at once (twice that with a load generator here). Past "pressure" ' +
    'the kernel shrinks buffers; past "max" it refuses memory: writes stall and packets drop.';
  if (pages <= pressure) return { ...result, status: 'ok', why, fix: [] };
  const fix = [tcpMemLine(facts.tcpMem, pages * 1.25, pages * 1.25 * 1.5)];
  return { ...result, status: pages <= max ? 'warn' : 'fail', why, fix };
}

/** net.ipv4.tcp_rmem / tcp_wmem: per-socket buffer sizes (min, default, autotuning max). */
export function checkSocketBuffers(facts: Facts, plan: Plan): CheckResult {
  const id = 'net.ipv4.tcp_rmem/tcp_wmem';
  const title = 'socket buffers';
  if (facts.tcpWmem === undefined) return unknown(id, title, 'server', PATHS.tcpWmem);
  const w = facts.tcpWmem;
  const r = facts.tcpRmem;
  const worst = plan.connections * w[1];
  const maxBytes = facts.tcpMem === undefined ? Number.POSITIVE_INFINITY : facts.tcpMem[2] * facts.pageSize;
  const result = {
    id,
    title,
    scope: 'server' as const,
    have: `wmem ${w.join(' ')}; rmem ${r === undefined ? 'unknown' : r.join(' ')}`,
    need: `${bytes(worst)} if every send buffer fills to its default`,
    why:
      `A client that stops reading lets up to tcp_wmem's default (${bytes(w[1])}), growing to its max ` +
      `(${bytes(w[2])}), wait in the kernel before Node sees back-pressure; Holdfast's own queue ` +
      '(maxQueuedBytes) comes on top. tcp_mem caps all of it together.',
  };
  if (worst <= maxBytes || facts.tcpMem === undefined) return { ...result, status: 'ok', fix: [] };
  const fix = [tcpMemLine(facts.tcpMem, facts.tcpMem[1], worst / facts.pageSize)];
  if (w[1] > 16384) {
    fix.push(
      '# or start each socket with a smaller send buffer:',
      `sysctl -w net.ipv4.tcp_wmem="${w[0]} 16384 ${w[2]}"`,
    );
  }
  return { ...result, status: 'warn', fix };
}

/** nf_conntrack_max: when connection tracking is loaded, every connection is an entry. */
export function checkConntrack(facts: Facts, plan: Plan): CheckResult {
  const id = 'net.netfilter.nf_conntrack_max';
  const title = 'connection tracking';
  const n = plan.connections;
  if (facts.conntrack === undefined) {
    return {
      id,
      title,
      scope: 'server',
      status: 'ok',
      have: 'not loaded',
      need: '-',
      why: 'nf_conntrack is not loaded, so connections are not tracked and have no table to fill.',
      fix: [],
    };
  }
  const { max, count: tracked } = facts.conntrack;
  const free = max - tracked;
  const result = {
    id,
    title,
    scope: 'server' as const,
    have: `${count(max)} (${count(tracked)} tracked)`,
    need: `${count(n)} entries, ${count(2 * n)} while a reconnection's old entries linger`,
    why:
      'With netfilter connection tracking on, each connection is an entry (loopback too, unless ' +
      'exempted with NOTRACK) and closed ones linger for minutes. A full table drops new ' +
      'connections: "nf_conntrack: table full, dropping packet" in dmesg.',
  };
  if (free >= 2 * n) return { ...result, status: 'ok', fix: [] };
  const fix = [`sysctl -w net.netfilter.nf_conntrack_max=${roundUp(tracked + 2 * n, 65536)}`];
  return { ...result, status: free < n ? 'fail' : 'warn', fix };
}
