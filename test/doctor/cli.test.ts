import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function doctor(...args: string[]) {
  return spawnSync(process.execPath, [MAIN, 'doctor', ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('holdfast doctor (CLI, on this machine)', () => {
  it('--json prints the report, and the exit code follows its status', () => {
    const r = doctor('--connections', '1000', '--workers', '1', '--json');
    const json = JSON.parse(r.stdout);
    assert.equal(json.connections, 1000);
    assert.equal(json.workers, 1);
    assert.equal(json.checks.length, 12);
    assert.equal(r.status, json.status === 'fail' ? 1 : 0, r.stderr);
  });

  it('fails with exit 1 for a target no open-files limit here allows in one worker', () => {
    // 2^31 connections in one process exceeds any RLIMIT_NOFILE Linux accepts (fs.nr_open ≤ 2^31 − 1).
    const r = doctor('--connections', '2147483648', '--workers', '1');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^fail\s+open files per process/m);
    assert.match(r.stdout, /failure/);
  });

  it('rejects a connection count that is not a whole number', () => {
    const r = doctor('--connections', 'lots');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--connections.*whole number/);
  });
});
