import type { DoctorReport } from './doctor.js';
import { count } from './units.js';

const HEADERS = ['STATUS', 'CHECK', 'THIS MACHINE', 'NEEDED'] as const;

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - s.length));
}

/** Wraps text at spaces to lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * The human report: one table row per check; under each warning or failure, why it matters and
 * the exact lines that fix it.
 */
export function formatReport(report: DoctorReport, date: Date = new Date()): string {
  const workers =
    report.workers !== null
      ? `${report.workers} workers`
      : `workers not given (${report.workersNeeded === null ? 'no number suffices' : `${report.workersNeeded} needed`})`;
  const out = [
    `holdfast doctor: ${count(report.connections)} connections, ${workers}, ${report.cpus} CPUs, ${date.toISOString()}`,
    '',
  ];
  const rows = report.checks.map((c) => [c.status, c.title, c.have, c.need] as const);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // The last column is not padded; the first three are, with two spaces between columns.
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : pad(cell, widths[i]!))).join('  ');
  const indent = ' '.repeat(widths[0]! + 2);
  out.push(line(HEADERS));
  report.checks.forEach((c, i) => {
    out.push(line(rows[i]!));
    if (c.status === 'ok') return;
    const [first, ...rest] = wrap(`${c.id}: ${c.why}`, 100);
    out.push(`${indent}why: ${first}`, ...rest.map((l) => `${indent}     ${l}`));
    c.fix.forEach((f, j) => {
      out.push(`${indent}${j === 0 ? 'fix: ' : '     '}${f}`);
    });
  });
  const n = (s: string) => report.checks.filter((c) => c.status === s).length;
  out.push(
    '',
    `${n('ok')} ok, ${n('warn')} warning${n('warn') === 1 ? '' : 's'}, ${n('fail')} failure${n('fail') === 1 ? '' : 's'}` +
      (report.status === 'fail' ? ': this machine cannot hold the target as configured.' : '.'),
  );
  return out.join('\n') + '\n';
}

export function formatJson(report: DoctorReport, date: Date = new Date()): string {
  return JSON.stringify({ date: date.toISOString(), ...report }, null, 2) + '\n';
}
