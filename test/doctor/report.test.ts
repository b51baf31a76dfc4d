import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDoctor } from '../../src/doctor/doctor.js';
import { formatJson, formatReport } from '../../src/doctor/report.js';
import { limits, machine } from './machines.js';

const DATE = new Date('2026-11-26T06:00:00Z');

describe('doctor output', () => {
  it('prints one row per check and the fixes under warnings and failures only', () => {
    const report = runDoctor({ connections: 100_000, workers: 2 }, machine());
    const text = formatReport(report, DATE);
    const lines = text.split('\n');
    assert.match(
      lines[0]!,
      /^holdfast doctor: 100,000 connections, 2 workers, 2 CPUs, 2026-11-26T06:00:00\.000Z$/,
    );
    assert.match(lines[2]!, /^STATUS\s+CHECK\s+THIS MACHINE\s+NEEDED$/);
    for (const c of report.checks) {
      const row = lines.find((l) => l.startsWith(`${c.status.padEnd(8)}${c.title}  `));
      assert.ok(row, `no row for ${c.id}`);
      assert.ok(row.includes(c.have), c.id);
    }
    assert.ok(lines.includes('        fix: sysctl -w net.ipv4.tcp_max_syn_backlog=4096'), text);
    assert.ok(
      lines.some((l) => l.trim() === 'ulimit -n 51000'),
      text,
    );
    // Passing checks carry no fix lines.
    assert.ok(!text.includes('net.core.somaxconn='), text);
    assert.match(
      text,
      /\n9 ok, 2 warnings, 1 failure: this machine cannot hold the target as configured\.\n$/,
    );
  });

  it('wraps the reasons and keeps the columns aligned', () => {
    const report = runDoctor({ connections: 100_000 }, machine());
    const lines = formatReport(report, DATE).split('\n');
    const header = lines[2]!;
    const haveAt = header.indexOf('THIS MACHINE');
    const needAt = header.indexOf('NEEDED');
    const rows = lines.filter((l) => /^(ok|warn|fail)\s/.test(l));
    assert.equal(rows.length, report.checks.length);
    rows.forEach((row, i) => {
      const c = report.checks[i]!;
      assert.equal(row.slice(haveAt, haveAt + c.have.length), c.have, row);
      assert.equal(row.slice(needAt), c.need, row);
    });
    // A reason runs from its "why:" line to the next "fix:" line.
    const why: string[] = [];
    let inWhy = false;
    for (const l of lines) {
      if (l.includes(' why: ')) inWhy = true;
      else if (l.includes(' fix: ') || !l.startsWith(' ')) inWhy = false;
      if (inWhy) why.push(l);
    }
    assert.ok(why.length > 3);
    for (const l of why) assert.ok(l.length <= 8 + 5 + 100, l);
  });

  it('JSON carries the date, target and every check', () => {
    const report = runDoctor({ connections: 100_000 }, machine({ '/proc/self/limits': limits(1024, 1024) }));
    const json = JSON.parse(formatJson(report, DATE));
    assert.equal(json.date, '2026-11-26T06:00:00.000Z');
    assert.equal(json.connections, 100_000);
    assert.equal(json.workers, null);
    assert.equal(json.workersNeeded, 4167);
    assert.equal(json.status, 'fail');
    assert.equal(json.checks.length, report.checks.length);
    assert.equal(json.facts.nofile.hard, 1024);
    assert.deepEqual(json.facts.tcpMem, [287898, 383867, 575796]);
    const nofile = json.checks.find((c: { id: string }) => c.id === 'nofile');
    assert.equal(nofile.status, 'fail');
    assert.ok(nofile.fix.includes('LimitNOFILE=51000'));
  });
});
