import type { Report, Sample } from './report.js';
import { esc, formatNumber, type Line, linePlot } from './svg.js';

/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts) with the verdict, the
 * summary table and plots over time. Pure: a function of the report.
 */
const MB = 1024 * 1024;

function col(series: Sample[], f: (s: Sample) => number | null): [number, number | null][] {
  return series.map((s) => [s.t, f(s)]);
}

function bands(r: Report): { from: number; to: number; label: string }[] {
  return [{ from: r.publishFromS, to: r.publishToS, label: 'publishing' }];
}

function row(name: string, value: string, note = ''): string {
  return `<tr><th>${esc(name)}</th><td>${esc(value)}</td><td class="n">${esc(note)}</td></tr>`;
}

const n = (v: number): string => v.toLocaleString('en-US');
const ms = (v: number): string => `${v.toLocaleString('en-US', { maximumFractionDigits: 3 })} ms`;
const bytes = (v: number | null): string =>
  v === null ? 'n/a' : v >= MB ? `${(v / MB).toFixed(1)} MiB` : `${(v / 1024).toFixed(2)} KiB`;

export function renderHtml(r: Report): string {
  const s = r.series;
  const b = bands(r);
  const plots: string[] = [];
  plots.push(
    linePlot({
      title: 'Connections',
      unit: '',
      bands: b,
      xMin: 0,
      lines: [
        { name: 'open', color: '#1f77b4', points: col(s, (x) => x.connected) },
        { name: 'connect errors', color: '#d62728', points: col(s, (x) => x.connectErrors) },
      ],
    }),
  );
  plots.push(
    linePlot({
      title: 'Deliveries per second',
      unit: '',
      bands: b,
      xMin: 0,
      lines: [{ name: 'delivered/s', color: '#2ca02c', points: col(s, (x) => x.deliveriesPerS) }],
    }),
  );
  plots.push(
    linePlot({
      title: 'Delivery latency, per second',
      unit: 'ms',
      bands: b,
      xMin: 0,
      lines: [
        { name: 'p50', color: '#1f77b4', points: col(s, (x) => x.p50) },
        { name: 'p90', color: '#ff7f0e', points: col(s, (x) => x.p90) },
        { name: 'p99', color: '#d62728', points: col(s, (x) => x.p99) },
      ],
    }),
  );
  const memLines: Line[] = [
    { name: 'bench RSS', color: '#8c564b', points: col(s, (x) => x.benchRssBytes / MB) },
  ];
  if (r.server.metrics)
    memLines.unshift({
      name: 'server RSS',
      color: '#1f77b4',
      points: col(s, (x) => (x.serverRssBytes === null ? null : x.serverRssBytes / MB)),
    });
  plots.push(linePlot({ title: 'Memory', unit: 'MiB', bands: b, xMin: 0, lines: memLines }));
  if (r.server.metrics) {
    plots.push(
      linePlot({
        title: 'Server event-loop lag',
        unit: 'ms',
        bands: b,
        xMin: 0,
        lines: [{ name: 'lag', color: '#e377c2', points: col(s, (x) => x.serverLagMs) }],
      }),
    );
  }
  plots.push(
    linePlot({
      title: 'Publications per second',
      unit: '',
      bands: b,
      xMin: 0,
      lines: [{ name: 'published/s', color: '#9467bd', points: col(s, (x) => x.publishedPerS) }],
    }),
  );
  plots.push(
    linePlot({
      title: 'Errors (cumulative)',
      unit: '',
      bands: b,
      xMin: 0,
      lines: [{ name: 'errors', color: '#d62728', points: col(s, (x) => x.errors) }],
    }),
  );

  const m = r.messages;
  const c = r.clients;
  const lat = r.latency.ms;
  const con = r.connect.ms;
  const bl = r.latency.broadcastMs;
  const st = m.stalled;
  const stalledRows =
    st.clients === 0
      ? []
      : [
          row(
            'stalled clients (stop reading)',
            n(st.clients),
            `not in the figures above; ${n(st.disconnects)} disconnects, ${n(st.reconnects)} reconnects`,
          ),
          row(
            'stalled: expected / delivered / lost',
            `${n(st.expected)} / ${n(st.delivered)} / ${n(st.lost)}`,
            `${n(st.clientsWithLoss)} clients with loss; ${n(st.duplicated)} duplicated, ${n(st.outOfOrder)} out of order`,
          ),
        ];
  const table = [
    row('clients (target / peak)', `${n(c.target)} / ${n(c.peak)}`, `${r.bench.processes} bench process(es)`),
    row(
      'connect errors',
      n(c.connectErrors),
      `${n(c.disconnects)} disconnects, ${n(c.reconnects)} reconnects`,
    ),
    row(
      'published',
      n(m.published),
      `${n(m.publishedBroadcast)} on the broadcast channel; ${n(m.publishRetries)} sent again after a keep-alive reset; ${n(m.publishFailures)} failed publish requests` +
        (m.publishFailures > 0
          ? ` (${Object.entries(m.publishFailureReasons)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')})`
          : ''),
    ),
    row('expected', n(m.expected), st.clients > 0 ? 'readers only (stalled clients below)' : ''),
    row('delivered', n(m.delivered), `${n(m.deliveriesPerS)} per second while publishing`),
    row('lost', n(m.lost), `${n(m.clientsWithLoss)} clients with loss`),
    row('duplicated', n(m.duplicated), `${n(m.clientsWithDuplicates)} clients`),
    row(
      'out of order',
      n(m.outOfOrder),
      `${n(m.clientsWithOutOfOrder)} clients` +
        (m.outOfOrderFailedPublish > 0
          ? `; ${n(m.outOfOrderFailedPublish)} more were failed publish requests applied late`
          : ''),
    ),
    row(
      'lost across reconnects',
      m.lossAcrossReconnects ? `yes: ${n(m.lostInReconnectedClients)}` : 'no',
      `${n(c.reconnectedClients)} clients reconnected; ${n(m.recoveryFailures)} told recovered: false`,
    ),
    row('delivery latency p50 / p90 / p99', `${ms(lat.p50)} / ${ms(lat.p90)} / ${ms(lat.p99)}`),
    row('delivery latency p99.9 / max', `${ms(lat.p999)} / ${ms(lat.max)}`),
    row(
      'broadcast latency p50 / p99',
      bl.count > 0 ? `${ms(bl.p50)} / ${ms(bl.p99)}` : 'n/a',
      bl.count > 0 ? `max ${ms(bl.max)}; ${n(bl.count)} broadcast deliveries` : 'no broadcast delivered',
    ),
    row('connect latency p50 / p99', `${ms(con.p50)} / ${ms(con.p99)}`, `max ${ms(con.max)}`),
    row('publish request p50 / p99', `${ms(r.publish.ms.p50)} / ${ms(r.publish.ms.p99)}`),
    row('durations', `ramp ${r.rampS} s, publish ${r.durationS} s, total ${r.totalS} s`),
    row(
      'bench memory',
      `peak ${bytes(r.bench.peakRssBytes)}`,
      r.bench.idleRssPerClientBytes === null
        ? ''
        : `${(r.bench.idleRssPerClientBytes / 1000).toFixed(2)} KB per idle client` +
            (c.peak < 5000 ? ' (fixed costs per process weigh in below a few thousand clients)' : ''),
    ),
    row(
      'bench CPU while publishing',
      `${r.bench.cpuSecondsPublishing} s`,
      r.bench.deliveriesPerCpuSecond === null
        ? ''
        : `${n(r.bench.deliveriesPerCpuSecond)} deliveries per CPU second`,
    ),
    row(
      'server',
      r.server.metrics ? `peak RSS ${bytes(r.server.peakRssBytes)}` : 'no /metrics',
      r.server.maxEventLoopLagMs === null ? '' : `max event-loop lag ${ms(r.server.maxEventLoopLagMs)}`,
    ),
    ...stalledRows,
  ].join('');

  const o = r.options;
  const ob = r.verdict.objectives;
  const objectives = `p99 ≤ ${ob.maxP99Ms} ms, ${ob.maxLost === 0 ? 'no loss' : `at most ${ob.maxLost} lost`}, connect errors ≤ ${(ob.maxConnectErrorRatio * 100).toFixed(2)}%`;
  const verdict = r.verdict.held
    ? `<p class="ok">Held every objective (${objectives}).</p>`
    : `<p class="bad">Broke: ${esc(r.verdict.reasons.join('; '))} (objectives: ${objectives}).</p>`;
  let steps = '';
  if (r.findLimit !== undefined) {
    const fl = r.findLimit;
    steps =
      `<h2>Find limit (${esc(fl.vary)})</h2><p>${
        fl.lastHeld === null
          ? 'No step held.'
          : `Last step that held: ${n(fl.lastHeld.clients)} clients at ${formatNumber(fl.lastHeld.rate)} publications/s.`
      }${fl.steps.every((st) => st.held) ? ' Every step held: the limit is above the last step (raise --max-steps).' : ''}</p><table class="steps"><tr><th>step</th><th>clients</th><th>rate/s</th><th>peak</th><th>p99 ms</th><th>lost</th><th>connect errors</th><th>deliveries/s</th><th>result</th></tr>` +
      fl.steps
        .map(
          (st) =>
            `<tr><td>${st.step}</td><td>${n(st.clients)}</td><td>${formatNumber(st.rate)}</td><td>${n(st.peak)}</td><td>${st.p99Ms}</td><td>${n(st.lost)}</td><td>${n(st.connectErrors)}</td><td>${n(st.deliveriesPerS)}</td><td class="${st.held ? 'ok' : 'bad'}">${st.held ? 'held' : esc(st.reasons.join('; '))}</td></tr>`,
        )
        .join('') +
      '</table>';
  }
  const mc = r.machine;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>holdfast bench: ${n(c.target)} ${esc(o.transport)} clients</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}
.meta{color:#555;margin:0 0 10px}.ok{color:#17692a;font-weight:600}.bad{color:#b3121b;font-weight:600}
table{border-collapse:collapse;margin:6px 0}th,td{padding:4px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
table.sum th{font-weight:500;color:#444;white-space:nowrap}table.sum td{font-variant-numeric:tabular-nums;font-weight:600;white-space:nowrap}
td.n{color:#666;font-weight:400!important}table.sum td.n{white-space:normal;min-width:240px}table.steps td{font-variant-numeric:tabular-nums}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:10px}
svg{background:#fff;border:1px solid #e4e4e4;border-radius:4px;max-width:100%;height:auto}
svg .t{font:600 13px system-ui,sans-serif;fill:#222}svg .a{font:11px system-ui,sans-serif;fill:#555}
svg .e{font:13px system-ui,sans-serif;fill:#999}svg .g{stroke:#eee}svg .ax{stroke:#999}svg .band{fill:#f3f7ff}
code{background:#f4f4f4;padding:1px 4px;border-radius:3px;word-break:break-all}
</style></head><body>
<h1>holdfast bench: ${n(c.target)} clients over ${esc(o.transport)}, ${n(o.channels)} channels</h1>
<p class="meta">${esc(r.startedAt)} · target ${esc(o.url)} (${esc(o.protocol)}) · ${formatNumber(o.rate)} publications/s + ${formatNumber(o.broadcastRate)}/s broadcast · ${n(o.size)} B payload · ramp ${formatNumber(o.ramp)}/s<br>
machine: ${mc.cores} cores, ${(mc.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Node ${esc(mc.node)}, ${esc(mc.platform)}</p>
${verdict}
<table class="sum">${table}</table>
${steps}
<h2>Over time <span class="n" style="font-weight:400;font-size:13px;color:#666">(shaded: publishing)</span></h2>
<div class="plots">${plots.join('\n')}</div>
<h2>Command</h2><p><code>${esc(r.command.join(' '))}</code></p>
</body></html>
`;
}
