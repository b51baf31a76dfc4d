import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { encode, mergeEncoded, newHistogram, recordMs, summarize } from '../../src/loadgen/histogram.js';

const run = promisify(execFile);
const MODULE = new URL('../../src/loadgen/histogram.js', import.meta.url).href;

/** Records values (ms) in a separate Node process and returns its encoded histogram. */
async function encodeInChild(values: number[]): Promise<string> {
  const script = `import { encode, newHistogram, recordMs } from ${JSON.stringify(MODULE)};
const h = newHistogram();
for (const v of ${JSON.stringify(values)}) recordMs(h, v);
process.stdout.write(encode(h));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout;
}

describe('histograms', () => {
  it('merges histograms recorded in other processes like one histogram of all values', async () => {
    const a = Array.from({ length: 500 }, (_, i) => 0.5 + i * 0.37);
    const b = Array.from({ length: 300 }, (_, i) => 200 + i * 3.1);
    const c = [5000, 12000.5, 0.001];
    const merged = newHistogram();
    for (const enc of await Promise.all([encodeInChild(a), encodeInChild(b), encodeInChild(c)])) {
      mergeEncoded(merged, enc);
    }
    const direct = newHistogram();
    for (const v of [...a, ...b, ...c]) recordMs(direct, v);
    assert.equal(merged.totalCount, a.length + b.length + c.length);
    assert.deepEqual(summarize(merged), summarize(direct));
    for (const p of [1, 25, 50, 75, 90, 99, 99.9, 100]) {
      assert.equal(merged.getValueAtPercentile(p), direct.getValueAtPercentile(p), `p${p}`);
    }
  });

  it('reports percentiles in milliseconds within the histogram precision', () => {
    const h = newHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i);
    const s = summarize(h);
    assert.equal(s.count, 1000);
    assert.ok(Math.abs(s.p50 - 500) <= 0.5, `p50 ${s.p50}`);
    assert.ok(Math.abs(s.p99 - 990) <= 1, `p99 ${s.p99}`);
    assert.ok(Math.abs(s.max - 1000) <= 1, `max ${s.max}`);
  });

  it('merges an empty interval as nothing', () => {
    const h = newHistogram();
    mergeEncoded(h, encode(newHistogram()));
    mergeEncoded(h, '');
    assert.equal(h.totalCount, 0);
    assert.equal(summarize(h).p99, 0);
  });
});
