import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import WebSocket from 'ws';
import { spawnServer, workerPids } from '../helpers/proc.js';

test('the supervisor restarts a killed worker', { timeout: 60_000 }, async () => {
  const srv = await spawnServer(['--workers', '2']);
  try {
    const before = await workerPids(srv.base, 2);
    assert.equal(before.size, 2);
    const victim = [...before][0]!;
    process.kill(victim, 'SIGKILL');
    let after = new Set<number>();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      after = await workerPids(srv.base, 2, 40);
      if (after.size === 2 && !after.has(victim)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(after.size, 2, 'two workers again');
    assert.ok(!after.has(victim), 'a new worker replaced the killed one');
    // Every worker, the replacement too, runs with the small young generation (workerSemiSpace).
    for (const pid of after) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes('--max-semi-space-size=2'), `worker ${pid}: ${argv.join(' ')}`);
    }
    assert.equal(srv.child.exitCode, null, 'the server kept running');
    const metrics = await (await fetch(`${srv.base}/metrics`)).text();
    assert.match(metrics, /^holdfast_worker_restarts_total\{reason="signal"\} 1$/m, 'the restart is counted');
  } finally {
    await srv.stop();
  }
});

test('past the restart intensity the server stops with a clear message', { timeout: 60_000 }, async () => {
  const srv = await spawnServer(['--workers', '2', '--max-restarts', '1', '--restart-window', '60']);
  try {
    const first = [...(await workerPids(srv.base, 2))];
    process.kill(first[0]!, 'SIGKILL');
    // Wait for the replacement, then kill again: the second restart is one too many.
    let pids = new Set<number>();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      pids = await workerPids(srv.base, 2, 40);
      if (pids.size === 2 && !pids.has(first[0]!)) break;
    }
    const replacement = [...pids].find((p) => p !== first[1])!;
    process.kill(replacement, 'SIGKILL');
    const code = await srv.exited;
    assert.equal(code, 1);
    assert.match(srv.stderr(), /more than 1 worker restarts within 60 s/);
  } finally {
    await srv.stop();
  }
});

/** A WebSocket client that reconnects and resumes from its last offset. */
function resumingClient(
  url: string,
  channel: string,
  offsets: number[],
  state: { stop: boolean; reconnects: number },
) {
  let since: { epoch: string; offset: number } | undefined;
  const connect = (): void => {
    const ws = new WebSocket(url);
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel, since })));
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.id === 1 && m.ok) {
        if (since !== undefined) assert.equal(m.recovered, true);
        since = { epoch: m.epoch, offset: since?.offset ?? m.offset };
      } else if (m.op === 'message') {
        offsets.push(m.offset);
        since = { epoch: since!.epoch, offset: m.offset };
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (state.stop) return;
      state.reconnects++;
      setTimeout(connect, 20 + Math.random() * 100);
    });
  };
  connect();
}

test('a worker SIGKILLed during a stream: its clients resume on other workers with nothing lost', {
  timeout: 90_000,
}, async () => {
  const srv = await spawnServer(['--workers', '2']);
  const state = { stop: false, reconnects: 0 };
  try {
    const clients: number[][] = [];
    for (let i = 0; i < 20; i++) {
      const offsets: number[] = [];
      clients.push(offsets);
      resumingClient(`ws://127.0.0.1:${srv.port}/ws`, 'live', offsets, state);
    }
    // Every wait is bounded and fails with the server's output: a failed run must not leave
    // the test body looping (and the clients reconnecting) after the test's own time-out.
    const failWith = (what: string): never => {
      throw new Error(`${what}\nserver stdout:\n${srv.stdout()}\nserver stderr:\n${srv.stderr()}`);
    };
    const channels = async () =>
      (
        (await (
          await fetch(`${srv.base}/api/channels`, {
            headers: { 'x-api-key': 'test-key' },
            signal: AbortSignal.timeout(5000),
          })
        ).json()) as {
          channels: { channel: string; subscribers: number }[];
        }
      ).channels;
    const subscribed = Date.now() + 20_000;
    while ((await channels()).find((c) => c.channel === 'live')?.subscribers !== 20) {
      if (Date.now() > subscribed) failWith('the 20 clients did not all subscribe within 20 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const victim = [...(await workerPids(srv.base, 2))][0]!;
    let top = 0;
    for (let i = 1; i <= 600; i++) {
      if (i === 200) process.kill(victim, 'SIGKILL');
      const accepted = Date.now() + 15_000;
      for (;;) {
        if (Date.now() > accepted) failWith(`publication ${i} not accepted within 15 s`);
        try {
          const r = await fetch(`${srv.base}/api/publish`, {
            method: 'POST',
            headers: { 'x-api-key': 'test-key', 'content-type': 'application/json' },
            body: JSON.stringify({ channel: 'live', data: i }),
            signal: AbortSignal.timeout(5000),
          });
          if (r.status === 200) {
            top = Math.max(top, ((await r.json()) as { offset: number }).offset);
            break;
          }
        } catch {
          // The worker that took this request died; another takes the retry.
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    const deadline = Date.now() + 30_000;
    while (clients.some((c) => c.length < top) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const expected = Array.from({ length: top }, (_, k) => k + 1);
    for (const [i, c] of clients.entries()) assert.deepEqual(c, expected, `client ${i}`);
    assert.ok(state.reconnects >= 1, 'some clients were on the killed worker and reconnected');
  } finally {
    state.stop = true;
    await srv.stop();
  }
});
