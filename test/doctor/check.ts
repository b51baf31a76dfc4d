import assert from 'node:assert/strict';
import type { DoctorReport } from '../../src/doctor/doctor.js';
import type { CheckResult } from '../../src/doctor/plan.js';

/** The result of one check in a report, by id. */
export function check(report: DoctorReport, id: string): CheckResult {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id}`);
  return c;
}
