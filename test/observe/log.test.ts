import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createLogger, LogLimiter, prettyLine } from '../../src/observe/log.js';
import { parsePrometheusText, sumOf } from '../../src/observe/promtext.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { API_KEY, WsClient } from './helpers.js';

/** A destination that keeps the lines pino writes. */
function capture(): { lines: Record<string, unknown>[]; raw: string[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    write(s: string) {
      raw.push(s);
      try {
        lines.push(JSON.parse(s) as Record<string, unknown>);
      } catch {
        // pretty lines are not JSON
      }
    },
  };
}

describe('LogLimiter', () => {
  it('logs the first lines of a key per interval, then one summary with the count suppressed', () => {
    const out = capture();
    const limiter = new LogLimiter(createLogger('info', {}, 'json', out), {
      perInterval: 3,
      intervalMs: 60_000,
    });
    let logged = 0;
    for (let i = 0; i < 1000; i++) if (limiter.log('warn', 'bad_frame', { i }, 'bad frame')) logged++;
    limiter.log('error', 'other_thing', {}, 'something else');
    assert.equal(logged, 3);
    assert.equal(out.lines.length, 4);
    assert.deepEqual(
      out.lines.slice(0, 3).map((l) => [l['key'], l['i'], l['level']]),
      [
        ['bad_frame', 0, 40],
        ['bad_frame', 1, 40],
        ['bad_frame', 2, 40],
      ],
    );
    limiter.flush();
    const summaries = out.lines.filter((l) => l['suppressed'] !== undefined);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]!['key'], 'bad_frame');
    assert.equal(summaries[0]!['suppressed'], 997);
    // a new interval logs again
    assert.equal(limiter.log('warn', 'bad_frame', {}, 'bad frame'), true);
    limiter.close();
  });

  it('bounds the keys it tracks and skips levels that are off', () => {
    const out = capture();
    const limiter = new LogLimiter(createLogger('warn', {}, 'json', out), {
      perInterval: 1,
      intervalMs: 60_000,
      maxKeys: 10,
    });
    for (let i = 0; i < 500; i++) limiter.log('warn', `key${i}`, {}, 'x');
    assert.equal(limiter.log('info', 'quiet', {}, 'not logged at warn'), false);
    // 10 keys, then everything shares "other", which logs once
    assert.equal(out.lines.length, 11);
    assert.equal(out.lines[10]!['key'], 'other');
    limiter.flush();
    assert.equal(out.lines.at(-1)!['suppressed'], 489);
    limiter.close();
  });
});

describe('pretty log lines', () => {
  it('prints time, level, message and fields on one line', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
        pid: 1,
        msg: 'bad frame',
        code: 'invalid_json',
        n: 2,
      }),
      false,
    );
    assert.equal(line, '03:04:05.006 WARN  bad frame code=invalid_json n=2\n');
    assert.equal(prettyLine('not json'), 'not json');
    const out = capture();
    createLogger('info', {}, 'pretty', out).info({ port: 8080 }, 'ready');
    assert.match(out.raw[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}ready port=8080\n$/);
  });
});

describe('a flood of bad frames', () => {
  it('is counted in full but logged only up to the limit', async () => {
    // No frame rate limit here: this test is about log limiting, not frame limiting.
    const config = loadConfig({
      flags: { apiKey: API_KEY, host: '127.0.0.1', port: 0, logLevel: 'info', maxClientFramesPerSecond: 0 },
    });
    const out = capture();
    const server = new HoldfastServer(config, createEngine(config), {
      log: createLogger('info', {}, 'json', out),
    });
    const port = await server.listen();
    const c = await WsClient.open(port);
    for (let i = 0; i < 200; i++) c.ws.send('{{not json');
    await c.until(() => c.replies.length === 200);
    const f = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
    assert.equal(sumOf(f, 'holdfast_bad_frames_total'), 200);
    const badFrameLines = out.lines.filter((l) => l['key'] === 'ws_bad_frame');
    assert.equal(badFrameLines.length, 10);
    await c.close();
    await server.close(); // flushes the limiter
    const summary = out.lines.find((l) => l['key'] === 'ws_bad_frame' && l['suppressed'] !== undefined);
    assert.equal(summary?.['suppressed'], 190);
  });
});
