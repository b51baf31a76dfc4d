/**
 * A strict parser for the Prometheus text exposition format (version 0.0.4), enough to read
 * back what /metrics serves: the dashboard feed and `holdfast bench` use it. Throws on any line
 * that is not a comment, a blank line or a well-formed sample.
 */
export interface Sample {
  /** The sample's name as written, e.g. `holdfast_delivery_latency_seconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class PromParseError extends Error {}

/** Families by name, in order of appearance; samples join the family their name belongs to. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const where = `line ${i + 1}`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new PromParseError(`${where}: bad metric name ${name}`);
      const fam = family(families, name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new PromParseError(`${where}: unknown type ${rest}`);
        if (fam.samples.length > 0) throw new PromParseError(`${where}: TYPE after samples of ${name}`);
        fam.type = rest;
      } else {
        fam.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      continue;
    }
    const sample = parseSample(line, where);
    family(families, familyName(families, sample.name)).samples.push(sample);
  }
  return families;
}

function family(families: Map<string, MetricFamily>, name: string): MetricFamily {
  let f = families.get(name);
  if (f === undefined) {
    f = { name, type: 'untyped', help: '', samples: [] };
    families.set(name, f);
  }
  return f;
}

/** `x_bucket`, `x_sum`, `x_count` belong to histogram or summary `x`. */
function familyName(families: Map<string, MetricFamily>, sampleName: string): string {
  const m = /^(.*)_(bucket|sum|count)$/.exec(sampleName);
  if (m !== null) {
    const f = families.get(m[1]!);
    if (f !== undefined && (f.type === 'histogram' || f.type === 'summary')) return m[1]!;
  }
  return sampleName;
}

function parseSample(line: string, where: string): Sample {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new PromParseError(`${where}: bad sample name in ${JSON.stringify(line)}`);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      while (line[i] === ' ') i++;
      if (line[i] === '}') {
        i++;
        break;
      }
      let j = i;
      while (j < line.length && line[j] !== '=') j++;
      const label = line.slice(i, j).trim();
      if (!LABEL.test(label)) throw new PromParseError(`${where}: bad label name ${JSON.stringify(label)}`);
      if (line[j + 1] !== '"') throw new PromParseError(`${where}: label value not quoted`);
      let k = j + 2;
      let value = '';
      for (;;) {
        const c = line[k];
        if (c === undefined) throw new PromParseError(`${where}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const e = line[k + 1];
          value += e === 'n' ? '\n' : (e ?? '');
          k += 2;
          continue;
        }
        value += c;
        k++;
      }
      if (label in labels) throw new PromParseError(`${where}: duplicate label ${label}`);
      labels[label] = value;
      i = k + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new PromParseError(`${where}: expected , or } after a label`);
    }
  }
  if (line[i] !== ' ') throw new PromParseError(`${where}: expected a space before the value`);
  const parts = line
    .slice(i + 1)
    .trim()
    .split(/ +/);
  if (parts.length > 2) throw new PromParseError(`${where}: trailing text`);
  const value = parseValue(parts[0]!);
  if (value === null) throw new PromParseError(`${where}: bad value ${JSON.stringify(parts[0])}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1]))
    throw new PromParseError(`${where}: bad timestamp`);
  return { name, labels, value };
}

function parseValue(s: string): number | null {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (s === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return null;
  return Number(s);
}

/** The sum of a family's samples named `name` whose labels include `match`. */
export function sumOf(
  families: Map<string, MetricFamily>,
  name: string,
  match: Record<string, string> = {},
  sampleName = name,
): number {
  const f = families.get(name);
  if (f === undefined) return 0;
  let total = 0;
  for (const s of f.samples) {
    if (s.name !== sampleName) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** Totals of a family's samples grouped by one label's value. */
export function byLabel(
  families: Map<string, MetricFamily>,
  name: string,
  label: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of families.get(name)?.samples ?? []) {
    const key = s.labels[label];
    if (key !== undefined) out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}
