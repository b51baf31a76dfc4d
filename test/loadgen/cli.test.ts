import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/config.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `holdfast bench` from the command line: options, report files, find-limit, exit code. */
describe('holdfast bench (CLI)', () => {
  let server: HoldfastServer;
  let url = '';
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-'));
  before(async () => {
    const config = loadConfig({ flags: { port: 0, apiKey: 'k', logLevel: 'silent' } });
    server = new HoldfastServer(config, createEngine(config));
    url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes report.json with the contract fields and a report.html', async () => {
    const out = join(dir, 'one');
    const { stdout, stderr } = await run(
      process.execPath,
      [
        MAIN,
        'bench',
        '--url',
        url,
        '--clients',
        '30',
        '--transport',
        'mix',
        '--channels',
        '3',
        '--rate',
        '20',
        '--duration',
        '1.5',
        '--drain',
        '1',
        '--out',
        out,
        '--no-metrics',
      ],
      { env: { ...process.env, HOLDFAST_API_KEY: 'k' } },
    );
    assert.match(stdout, /lost 0/);
    assert.match(stderr, /conn \d+\/30/);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(r.clients.target, 30);
    assert.equal(r.clients.peak, 30);
    assert.equal(r.clients.connectErrors, 0);
    for (const k of ['published', 'expected', 'delivered', 'lost', 'duplicated', 'outOfOrder']) {
      assert.equal(typeof r.messages[k], 'number', k);
    }
    assert.equal(r.messages.lost, 0);
    assert.equal(r.messages.delivered, r.messages.expected);
    for (const k of ['p50', 'p90', 'p99', 'max']) assert.equal(typeof r.latency.ms[k], 'number', k);
    for (const k of ['p50', 'p99']) assert.equal(typeof r.connect.ms[k], 'number', k);
    assert.equal(typeof r.durationS, 'number');
    assert.ok(r.command.includes('--clients'));
    assert.ok(r.machine.cores >= 1 && r.machine.memoryBytes > 0 && r.machine.node.startsWith('v'));
    assert.equal(JSON.stringify(r).includes('"k"'), false, 'the API key is not in the report');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<svg /);
  });

  it("plots the server's memory and event-loop lag from its metrics endpoint", async () => {
    const metrics = createServer((_req, res) => {
      res.end(
        'process_resident_memory_bytes 123456789\nnodejs_eventloop_lag_p99_seconds{worker="1"} 0.0125\n',
      );
    });
    await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
    const port = (metrics.address() as AddressInfo).port;
    const out = join(dir, 'metrics');
    try {
      await run(process.execPath, [
        MAIN,
        'bench',
        '--url',
        url,
        '--api-key',
        'k',
        '--clients',
        '10',
        '--duration',
        '1.5',
        '--drain',
        '0.5',
        '--metrics',
        `http://127.0.0.1:${port}/metrics`,
        '--out',
        out,
        '--no-progress',
      ]);
    } finally {
      metrics.closeAllConnections();
      await new Promise<void>((r) => metrics.close(() => r()));
    }
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(r.server.metrics, true);
    assert.equal(r.server.peakRssBytes, 123456789);
    assert.equal(r.server.maxEventLoopLagMs, 12.5);
    assert.ok(r.series.some((s: { serverRssBytes: number | null }) => s.serverRssBytes === 123456789));
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /Server event-loop lag/);
  });

  it('finds the limit: steps until an objective breaks', async () => {
    const out = join(dir, 'limit');
    // A p99 objective of 0 ms breaks at once: the first step is the last one.
    await run(process.execPath, [
      MAIN,
      'bench',
      '--url',
      url,
      '--api-key',
      'k',
      '--clients',
      '10',
      '--rate',
      '20',
      '--duration',
      '1',
      '--drain',
      '0.5',
      '--find-limit',
      '--max-steps',
      '3',
      '--max-p99',
      '0',
      '--out',
      out,
      '--no-metrics',
      '--no-progress',
    ]);
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(r.findLimit.vary, 'clients');
    assert.equal(r.findLimit.steps.length, 1);
    assert.equal(r.findLimit.lastHeld, null);
    assert.match(r.findLimit.steps[0].reasons[0], /p99/);
    JSON.parse(readFileSync(join(out, 'step-0', 'report.json'), 'utf8'));
  });

  it('exits 2 with a message on a bad option', async () => {
    await assert.rejects(
      run(process.execPath, [MAIN, 'bench', '--transport', 'carrier-pigeon']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /--transport/);
        return true;
      },
    );
  });
});
