import type { Sample } from './report.js';

/** One line of live progress per second (stderr), e.g. for a human watching the run. */
export function progressLine(s: Sample, r: { target: number; dup: number; ooo: number }): string {
  const lat = s.p50 === null ? 'p50 -    p99 -   ' : `p50 ${fmt(s.p50)} p99 ${fmt(s.p99 ?? 0)}`;
  const srv =
    s.serverRssBytes === null
      ? ''
      : ` | server ${(s.serverRssBytes / 1048576).toFixed(0)} MiB` +
        (s.serverLagMs === null ? '' : ` lag ${fmt(s.serverLagMs)}`);
  return (
    `[${s.t.toFixed(0).padStart(4)}s ${s.phase.padEnd(7)}] conn ${s.connected}/${r.target}` +
    ` (conn err ${s.connectErrors}) | pub ${s.publishedPerS}/s deliv ${s.deliveriesPerS}/s | ${lat}` +
    ` | dup ${r.dup} ooo ${r.ooo} | errors ${s.errors}${srv}`
  );
}

function fmt(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)}ms` : `${ms.toFixed(1)}ms`;
}
