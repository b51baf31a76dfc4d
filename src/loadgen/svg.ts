/**
 * Inline SVG line plots for report.html: no scripts, no CDN, readable as printed. Pure.
 */
export interface Line {
  name: string;
  color: string;
  points: [number, number | null][];
}

export interface PlotSpec {
  title: string;
  unit: string;
  lines: Line[];
  /** Shaded time ranges, e.g. the publishing phase. */
  bands?: { from: number; to: number; label: string }[];
  width?: number;
  height?: number;
  /** Start of the time axis (default: the first point). */
  xMin?: number;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A "nice" step (1, 2 or 5 times a power of ten) giving about `count` ticks over `span`. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return trim(v / 1e9) + 'G';
  if (a >= 1e6) return trim(v / 1e6) + 'M';
  if (a >= 1e4) return trim(v / 1e3) + 'k';
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toFixed(2)));
}

export function linePlot(spec: PlotSpec): string {
  const W = spec.width ?? 560;
  const H = spec.height ?? 220;
  const L = 58;
  const R = 12;
  const T = 28;
  const B = 30;
  let xMin = spec.xMin ?? Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMax = 0;
  for (const l of spec.lines) {
    for (const [x, y] of l.points) {
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y !== null && y > yMax) yMax = y;
    }
  }
  const title = `<text x="${L}" y="17" class="t">${esc(spec.title)}${spec.unit ? ` (${esc(spec.unit)})` : ''}</text>`;
  if (!Number.isFinite(xMin)) {
    return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${title}<text x="${W / 2}" y="${H / 2}" class="e" text-anchor="middle">no data</text></svg>`;
  }
  if (xMax === xMin) xMax = xMin + 1;
  const yStep = niceStep(yMax > 0 ? yMax : 1, 4);
  const yTop = Math.max(yStep, Math.ceil((yMax > 0 ? yMax : 1) / yStep) * yStep);
  const sx = (x: number): number => L + ((x - xMin) / (xMax - xMin)) * (W - L - R);
  const sy = (y: number): number => T + (1 - y / yTop) * (H - T - B);
  const parts: string[] = [title];
  for (const b of spec.bands ?? []) {
    const x1 = sx(Math.max(b.from, xMin));
    const x2 = sx(Math.min(b.to, xMax));
    if (x2 > x1) {
      parts.push(
        `<rect x="${x1.toFixed(1)}" y="${T}" width="${(x2 - x1).toFixed(1)}" height="${H - T - B}" class="band"/>`,
      );
    }
  }
  for (let y = 0; y <= yTop + yStep / 2; y += yStep) {
    const py = sy(y).toFixed(1);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${py}" y2="${py}" class="g"/>`);
    parts.push(`<text x="${L - 6}" y="${py}" dy="4" text-anchor="end" class="a">${formatNumber(y)}</text>`);
  }
  const xStep = niceStep(xMax - xMin, 6);
  for (let x = Math.ceil(xMin / xStep) * xStep; x <= xMax + 1e-9; x += xStep) {
    const px = sx(x).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${H - B}" y2="${H - B + 4}" class="g"/>`);
    parts.push(`<text x="${px}" y="${H - B + 16}" text-anchor="middle" class="a">${formatNumber(x)}s</text>`);
  }
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="ax"/>`);
  let lx = W - R;
  for (let i = spec.lines.length - 1; i >= 0; i--) {
    const l = spec.lines[i]!;
    const w = 18 + l.name.length * 6.5;
    lx -= w;
    parts.push(
      `<rect x="${lx.toFixed(1)}" y="9" width="10" height="4" fill="${l.color}"/><text x="${(lx + 13).toFixed(1)}" y="15" class="a">${esc(l.name)}</text>`,
    );
  }
  for (const l of spec.lines) {
    let d = '';
    let pen = false;
    for (const [x, y] of l.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = true;
    }
    if (d !== '')
      parts.push(
        `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="1.8" stroke-linejoin="round"/>`,
      );
  }
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(spec.title)}">${parts.join('')}</svg>`;
}
