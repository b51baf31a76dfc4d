// The dashboard page's script: plain browser JavaScript, no build step. It follows
// /dashboard/stream (one `stats` event a second, a Snapshot from src/observe/snapshot.ts) and
// draws the last five minutes with uPlot (served by Holdfast at /dashboard/uplot.js).

(() => {
  const KEEP = 300;
  const COLORS = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#bc8cff', '#39c5cf', '#ff7b72', '#a5d6ff'];
  const AXIS = {
    stroke: '#8b98a5',
    grid: { stroke: '#2a3542', width: 1 },
    ticks: { stroke: '#2a3542', width: 1 },
  };

  const fig = (name) => document.querySelector(`[data-figure="${name}"]`);
  const set = (name, text) => {
    const el = fig(name);
    if (el !== null && el.textContent !== text) el.textContent = text;
  };

  const int = (n) => Math.round(n).toLocaleString('en-US');
  const num = (n) => (n >= 100 ? int(n) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const ms = (n) => (n >= 100 ? int(n) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + ' ms';
  /** Short axis labels: 0.25, 12, 1.5k, 2M. */
  const tick = (v) => {
    if (v === null || v === undefined) return '';
    const a = Math.abs(v);
    if (a >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return +(v / 1e3).toFixed(0) + 'k';
    if (a >= 1e3) return +(v / 1e3).toFixed(1) + 'k';
    return String(+v.toFixed(2));
  };
  const clock = (t) => new Date(t * 1000).toLocaleTimeString('en-GB', { hour12: false });
  const bytes = (n) => {
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? int(n) : num(n)) + ' ' + units[i];
  };

  /** A time chart whose series can appear as they are seen (e.g. a new worker). */
  class Chart {
    constructor(el, format) {
      this.el = el;
      this.format = format;
      this.times = [];
      this.series = new Map();
      this.plot = null;
      new ResizeObserver(() => this.resize()).observe(el);
    }

    size() {
      const width = Math.max(200, this.el.clientWidth);
      return { width, height: window.innerWidth < 520 ? 170 : 210 };
    }

    resize() {
      if (this.plot !== null) this.plot.setSize(this.size());
    }

    /** values: Map of series name to number (or null for a gap). */
    push(t, values) {
      let changed = false;
      for (const name of values.keys()) {
        if (!this.series.has(name)) {
          this.series.set(
            name,
            this.times.map(() => null),
          );
          changed = true;
        }
      }
      this.times.push(t);
      for (const [name, arr] of this.series) arr.push(values.has(name) ? values.get(name) : null);
      if (this.times.length > KEEP) {
        this.times.shift();
        for (const arr of this.series.values()) arr.shift();
      }
      const data = [this.times, ...this.series.values()];
      if (changed || this.plot === null) this.build(data);
      else this.plot.setData(data);
      // Without a pointer over the chart, the legend shows the newest values.
      if (this.plot.cursor.idx === null || this.plot.cursor.idx === undefined) {
        this.plot.setLegend({ idx: this.times.length - 1 });
      }
    }

    build(data) {
      if (this.plot !== null) this.plot.destroy();
      const format = this.format;
      const series = [{ value: (_u, v) => (v === null || v === undefined ? '' : clock(v)) }];
      let i = 0;
      for (const name of this.series.keys()) {
        const color = COLORS[i++ % COLORS.length];
        series.push({
          label: name,
          stroke: color,
          width: 2,
          spanGaps: false,
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '–' : format(v)),
        });
      }
      this.plot = new uPlot(
        {
          ...this.size(),
          series,
          cursor: { drag: { x: false, y: false } },
          legend: { live: true },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
          axes: [
            {
              ...AXIS,
              space: 80,
              incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300],
              values: (_u, ticks) => ticks.map(clock),
            },
            { ...AXIS, size: 48, values: (_u, ticks) => ticks.map(tick) },
          ],
        },
        data,
        this.el,
      );
    }
  }

  const charts = {
    connections: new Chart(document.getElementById('chart-connections'), int),
    rates: new Chart(document.getElementById('chart-rates'), num),
    // Publications carry their accept time in whole milliseconds: below 1 ms, say so.
    latency: new Chart(document.getElementById('chart-latency'), (v) => (v <= 1 ? '≤ 1 ms' : ms(v))),
    lag: new Chart(document.getElementById('chart-lag'), (v) => ms(v)),
    memory: new Chart(document.getElementById('chart-memory'), (v) => num(v)),
    bytes: new Chart(document.getElementById('chart-bytes'), (v) => bytes(v) + '/s'),
  };

  function table(id, rows, empty) {
    const body = document.getElementById(id);
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.className = 'muted';
      td.textContent = empty;
      tr.append(td);
      body.append(tr);
      return;
    }
    for (const cells of rows) {
      const tr = document.createElement('tr');
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.append(td);
      }
      body.append(tr);
    }
  }

  const counts = (obj) =>
    Object.entries(obj)
      .filter(([, n]) => n > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => [k, int(n)]);

  function show(s) {
    const t = s.time / 1000;
    const c = s.connections;
    set('connections', int(c.total));
    set('connections-split', `ws ${int(c.ws)} · sse ${int(c.sse)} · poll ${int(c.poll)}`);
    set('rate-in', s.rates === null ? '–' : num(s.rates.in));
    set('total-in', `${int(s.totals.publicationsIn)} published`);
    set('rate-out', s.rates === null ? '–' : num(s.rates.out));
    set('total-out', `${int(s.totals.delivered)} delivered`);
    set('rate-bytes', s.rates === null ? '–' : bytes(s.rates.bytesOut));
    set('total-bytes', `${bytes(s.totals.bytesOut)} total`);
    if (s.latency === null) {
      set('latency', '–');
      set('latency-sub', 'no deliveries this second');
    } else {
      const lat = (v) => (v <= 1 ? '≤ 1' : num(v));
      set('latency', lat(s.latency.p99) + ' ms');
      set(
        'latency-sub',
        `p50 ${lat(s.latency.p50)} · p90 ${lat(s.latency.p90)} · ${int(s.latency.count)} pubs`,
      );
    }
    set('subscriptions', int(s.subscriptions));
    set('channels', `${int(s.channels)} channels`);
    set('workers', int(s.workers));
    set('restarts', `${int(s.totals.restarts)} restarts`);
    const disc = Object.values(s.disconnects).reduce((a, b) => a + b, 0);
    set('disconnects', int(disc));
    set('slow', `${int(s.disconnects.slow ?? 0)} slow consumers`);

    charts.connections.push(
      t,
      new Map([
        ['total', c.total],
        ['ws', c.ws],
        ['sse', c.sse],
        ['poll', c.poll],
      ]),
    );
    charts.rates.push(
      t,
      new Map([
        ['in', s.rates === null ? null : s.rates.in],
        ['out', s.rates === null ? null : s.rates.out],
      ]),
    );
    const l = s.latency;
    charts.latency.push(
      t,
      new Map([
        ['p50', l === null ? null : l.p50],
        ['p90', l === null ? null : l.p90],
        ['p99', l === null ? null : l.p99],
      ]),
    );
    charts.lag.push(t, new Map(s.perWorker.map((w) => [`worker ${w.worker}`, w.lagP99])));
    const memory = new Map(s.perWorker.map((w) => [`worker ${w.worker}`, w.rss / 1048576]));
    if (s.primary) memory.set('primary', s.primary.rss / 1048576);
    charts.memory.push(t, memory);

    charts.bytes.push(t, new Map([['out', s.rates === null ? null : s.rates.bytesOut]]));
    const rows = s.perWorker.map((w) => [
      w.worker,
      bytes(w.rss),
      bytes(w.heapUsed),
      ms(w.lagP50),
      ms(w.lagP99),
      ms(w.lagMax),
    ]);
    if (s.primary) rows.push(['primary', bytes(s.primary.rss), bytes(s.primary.heapUsed), '', '', '']);
    table('workers', rows, 'no workers');
    table('disconnects', counts(s.disconnects), 'none yet');
    table('rejected', counts(s.rejected), 'none yet');
    // Shown once the server reports presence (a namespace keeps it); kept through a missed frame.
    if (s.presence !== null) {
      document.getElementById('presence-figure').hidden = false;
      table(
        'presence',
        s.presence.map((p) => [p.channel, int(p.clients)]),
        'no members yet',
      );
    }
    set('updated', 'updated ' + new Date(s.time).toLocaleTimeString());
  }

  const status = document.getElementById('status');
  function setStatus(kind, text) {
    status.className = 'status ' + kind;
    status.textContent = text;
  }

  const source = new EventSource('/dashboard/stream');
  source.addEventListener('open', () => setStatus('live', 'live'));
  source.addEventListener('stats', (e) => {
    setStatus('live', 'live');
    show(JSON.parse(e.data));
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setStatus('down', 'disconnected: reload to log in again');
    else setStatus('wait', 'reconnecting…');
  });
})();
