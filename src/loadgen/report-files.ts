import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './report.js';
import { renderHtml } from './report-html.js';

/** Writes report.json and report.html into `dir`; returns their paths. */
export function writeReport(dir: string, report: Report): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(html, renderHtml(report));
  return { json, html };
}
