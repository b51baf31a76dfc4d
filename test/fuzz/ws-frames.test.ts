import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Disconnects } from '../../src/contract/codes.js';
import { API_KEY, assertRunClean, LiveServer, WellBehaved } from './live.js';
import { checkClose, checkWsText } from './oracle.js';
import { fuzzLanes, fuzzMillis, fuzzSeed, Rng } from './rng.js';
import { type WsCase, wsCase } from './ws-gen.js';
import { RawWs, text } from './ws-wire.js';

/**
 * Byte-level WebSocket fuzzing against a live two-worker server: random and mutated frames on
 * many raw connections, each of which must get its documented answer (a JSON reply or error
 * with a code from codes.ts, or a close with a documented code) within a deadline, while a
 * well-behaved subscriber receives every publication. Replay: FUZZ_SEED=<seed>; run longer:
 * FUZZ_SECONDS=<s>.
 */
const SEED = fuzzSeed();
/** Long-lived connections the server admits in all (30 per worker): a leaked slot shows. */
const CONNECTION_CAP = 60;
const FUZZ_MS = fuzzMillis(12);
const LANES = fuzzLanes();
const DEADLINE_MS = 5000;
const PROBE = '{"id":"probe","op":"ping"}';

let server: LiveServer;
before(async () => {
  server = await LiveServer.start(['--poll-timeout', '1', '--max-connections-total', String(CONNECTION_CAP)]);
});
after(() => server.stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one case on a fresh connection; returns what is wrong with the server's answer. */
async function runCase(port: number, c: WsCase, rng: Rng): Promise<string[]> {
  let ws: RawWs;
  // Sometimes the frames ride in the same packet as the upgrade request.
  const early = c.frames.length > 0 && rng.bool(0.1) ? Buffer.concat(c.frames) : undefined;
  try {
    ws = await RawWs.open(port, 5000, early);
  } catch (err) {
    return [`handshake: ${(err as Error).message}`];
  }
  const faults: string[] = [];
  try {
    if (early !== undefined) {
      // sent with the handshake
    } else if (rng.bool(0.2)) {
      // The same bytes cut at random points: the server's parser must not care where TCP splits.
      const all = Buffer.concat(c.frames);
      for (let at = 0; at < all.length; ) {
        const n = rng.int(1, 64);
        ws.send(all.subarray(at, at + n));
        at += n;
        if (rng.bool(0.2)) await sleep(1);
      }
    } else {
      for (const f of c.frames) {
        ws.send(f);
        if (rng.bool(0.3)) await sleep(rng.int(1, 10));
      }
    }
    const probed = () => ws.texts.some((t) => t.includes('"id":"probe"') && t.includes('"ok":true'));
    if (c.finish === 'probe') {
      ws.send(text(PROBE));
      if (!(await ws.waitFor(() => probed() || ws.closeCode !== null, DEADLINE_MS))) {
        faults.push(
          ws.ended ? 'connection ended without a close frame' : 'no answer and no close within the deadline',
        );
      }
    } else {
      ws.socket.end();
      if (!(await ws.waitFor(() => ws.ended, DEADLINE_MS)))
        faults.push('server kept a half-closed connection open');
    }
    faults.push(...ws.faults);
    for (const t of ws.texts) {
      const bad = checkWsText(t);
      if (bad !== null) faults.push(bad);
      // The engine is up all along: "unavailable" here would be an exception in disguise.
      if (t.includes('"code":"unavailable"')) faults.push(`unavailable: ${t.slice(0, 120)}`);
    }
    if (ws.closeCode !== null) {
      const bad = checkClose(ws.closeCode, c.echo);
      if (bad !== null) faults.push(`${bad} (${ws.closeReason})`);
    }
    if (c.replies !== undefined && probed()) {
      // Subscriptions are answered after a history read: they may come after the probe's answer.
      const answered = new Map<unknown, number>();
      const count = (): boolean => {
        answered.clear();
        for (const t of ws.texts) {
          const id = (JSON.parse(t) as { id?: unknown }).id;
          if (id !== undefined) answered.set(id, (answered.get(id) ?? 0) + 1);
        }
        return c.replies!.every((id) => answered.has(id));
      };
      await ws.waitFor(count, DEADLINE_MS);
      count();
      const missing = c.replies.filter((id) => answered.get(id) !== 1);
      if (missing.length > 0)
        faults.push(
          `commands without exactly one answer: ${missing.map((id) => `${id}×${answered.get(id) ?? 0}`).join(', ')}`,
        );
    }
    if (c.expectClose !== undefined && ws.closeCode !== c.expectClose)
      faults.push(
        `expected close ${c.expectClose}, got ${ws.closeCode ?? (probed() ? 'a usable connection' : 'none')}`,
      );
  } finally {
    ws.destroy();
  }
  return faults;
}

test(`WebSocket frame fuzzing (seed ${SEED})`, { timeout: FUZZ_MS + 45_000 }, async (t) => {
  t.diagnostic(`FUZZ_SEED=${SEED} FUZZ_SECONDS=${FUZZ_MS / 1000}`);
  const good = new WellBehaved(server, SEED);
  await good.start();
  const failures: string[] = [];
  const counts = new Map<string, number>();
  const end = Date.now() + FUZZ_MS;
  // Publications on the fuzzed connections' channels, so pushes meet bad input.
  const noise = (async () => {
    const rng = new Rng(SEED ^ 0x5eed);
    while (Date.now() < end) {
      await fetch(`${server.base}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ channel: `fz-${rng.int(0, 40)}`, data: { t: Date.now() } }),
        signal: AbortSignal.timeout(5000),
      }).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      await sleep(10);
    }
  })();
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      const rng = new Rng((SEED ^ Math.imul(lane + 1, 0x9e3779b9)) >>> 0);
      for (let i = 0; Date.now() < end; i++) {
        const c = wsCase(rng);
        counts.set(c.name.split(' ')[0]!, (counts.get(c.name.split(' ')[0]!) ?? 0) + 1);
        const faults = await runCase(server.port, c, rng);
        if (faults.length > 0) {
          const bytes = Buffer.concat(c.frames);
          failures.push(
            `lane ${lane} case ${i} (${c.name}): ${faults.join('; ')}\n  sent ${bytes.length} B: ${bytes.subarray(0, 96).toString('hex')}`,
          );
        }
      }
    }),
  );
  await noise;
  const cases = [...counts.values()].reduce((a, b) => a + b, 0);
  t.diagnostic(`${cases} cases: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await assertRunClean(t, { server, good, failures, seed: SEED, connectionCap: CONNECTION_CAP });
  t.diagnostic(
    `well-behaved: WebSocket ${good.received.length} messages (${good.reconnects} reconnects), SSE ${good.sseOffsets.length}, long-poll ${good.pollOffsets.length}`,
  );
  assert.ok(cases > 50, 'the fuzzer ran');
});

test('a flood of frames gets rate_limited errors, then the rate-limited close', async () => {
  const ws = await RawWs.open(server.port);
  const frames = Array.from({ length: 300 }, (_, i) => text(`{"id":${i},"op":"ping"}`));
  ws.send(Buffer.concat(frames));
  assert.ok(await ws.waitFor(() => ws.closeCode !== null, DEADLINE_MS), 'closed');
  assert.equal(ws.closeCode, Disconnects.rateLimited.code);
  const errors = ws.texts.map((x) => JSON.parse(x) as { error?: { code: string } }).filter((m) => m.error);
  assert.ok(errors.length > 0);
  assert.ok(errors.every((m) => m.error!.code === 'rate_limited'));
  for (const x of ws.texts) assert.equal(checkWsText(x), null);
  ws.destroy();
  assert.deepEqual(await server.crashes(), []);
});
