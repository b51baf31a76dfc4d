import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runPrefix, startNats, startRedis } from '../engines/brokers.js';
import { Client } from '../engines/holdfast-servers.js';

/** `holdfast serve --engine <broker>`: two server processes share one broker. */
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const KEY = 'cli-engine-key';
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

async function serve(
  engine: string,
  prefix: string,
  workers: string,
): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--engine',
      engine,
      '--engine-prefix',
      prefix,
      '--workers',
      workers,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--api-key',
      KEY,
      '--log-level',
      'silent',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; output: ${out}`)), 15_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /holdfast listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { base, child };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

for (const [name, start] of [
  ['redis', startRedis],
  ['nats', startNats],
] as const) {
  const started = await start();
  after(async () => {
    if ('dispose' in started) await started.dispose();
  });
  describe(`holdfast serve --engine ${name}://`, { skip: 'skip' in started ? started.skip : false }, () => {
    for (const workers of ['1', '2']) {
      it(`two servers of ${workers} worker(s) each share channels through the broker`, async () => {
        if (!('broker' in started)) return;
        const prefix = runPrefix(`cli-${name}`);
        const a = await serve(started.broker.url, prefix, workers);
        const b = await serve(started.broker.url, prefix, workers);
        const client = await Client.open(`${b.base.replace('http', 'ws')}/ws`);
        try {
          assert.equal((await fetch(`${a.base}/ready`)).status, 200);
          assert.equal((await client.subscribe(1, 'cli'))['ok'], true);
          for (const i of [1, 2, 3]) {
            const res = await fetch(`${a.base}/api/publish`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-api-key': KEY },
              body: JSON.stringify({ channel: 'cli', data: { i } }),
            });
            assert.equal(res.status, 200);
            assert.equal(((await res.json()) as { offset: number }).offset, i);
          }
          const got = await client.count('cli', 3);
          assert.deepEqual(
            got.map((m) => m['data']),
            [{ i: 1 }, { i: 2 }, { i: 3 }],
          );
        } finally {
          client.close();
          assert.equal(await stop(a.child), 0);
          assert.equal(await stop(b.child), 0);
        }
      });
    }
  });
}

describe('holdfast serve with an unreachable broker', () => {
  it('retries until --engine-connect-timeout, then stops with an error naming the broker', async () => {
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'serve',
        '--engine',
        'redis://127.0.0.1:1',
        '--engine-connect-timeout',
        '1',
        '--port',
        '0',
        '--api-key',
        KEY,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOLDFAST_LOG_LEVEL: 'silent' },
      },
    );
    children.push(child);
    let err = '';
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.notEqual(code, 0);
    assert.match(err, /holdfast: cannot start: redis engine: cannot reach redis:\/\/127\.0\.0\.1:1/);
  });
});
