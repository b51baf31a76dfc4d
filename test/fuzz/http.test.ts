import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type HttpCase, httpCase, MAX_BODY, ORIGINS } from './http-gen.js';
import { rawHttp } from './http-wire.js';
import { assertRunClean, LiveServer, WellBehaved } from './live.js';
import { checkHttp } from './oracle.js';
import { fuzzLanes, fuzzMillis, fuzzSeed, Rng } from './rng.js';

/**
 * HTTP fuzzing against a live two-worker server: random methods, paths, query strings,
 * headers and bodies, and raw malformed HTTP, each over a fresh TCP connection. Every answer
 * must be a documented status (no 500), API errors `{"error": {"code", "message"}}` with the
 * code's own status, and no body may show a stack trace or a file path; no worker may crash;
 * a well-behaved subscriber alongside receives every publication. Replay: FUZZ_SEED=<seed>.
 */
const SEED = fuzzSeed();
/** Long-lived connections the server admits in all (30 per worker): a leaked slot shows. */
const CONNECTION_CAP = 60;
const FUZZ_MS = fuzzMillis(12);
const LANES = fuzzLanes();

let server: LiveServer;
before(async () => {
  server = await LiveServer.start([
    '--max-body-bytes',
    String(MAX_BODY),
    '--poll-timeout',
    '1',
    '--allowed-origins',
    ORIGINS.join(','),
    '--max-connections-total',
    String(CONNECTION_CAP),
  ]);
});
after(() => server.stop());

const statusCounts = new Map<number, number>();

async function runCase(port: number, c: HttpCase): Promise<string[]> {
  const r = await rawHttp(port, c.bytes, {
    halfClose: c.halfClose,
    heads: c.heads ?? [c.head],
    count: c.count ?? 1,
    timeoutMs: 6000,
  });
  if (r.kind === 'timeout') {
    return [`no answer within the deadline (got ${r.answers.length} answers, then ${r.bytes.length} B)`];
  }
  if (r.kind === 'closed') {
    if (c.mayClose) return [];
    return [
      `closed without an answer${r.bytes.length > 0 ? `: ${r.bytes.toString('latin1').slice(0, 80)}` : ''}`,
    ];
  }
  const faults: string[] = [];
  const heads = c.heads ?? [c.head];
  for (const [i, a] of r.answers.entries()) {
    statusCounts.set(a.status, (statusCounts.get(a.status) ?? 0) + 1);
    // The engine is up all along: "unavailable" here would be an exception in disguise.
    if (a.status === 503 && a.body.includes('"unavailable"'))
      faults.push(`503 unavailable: ${a.body.toString()}`);
    const bad = c.upgrade && a.status === 101 ? null : checkHttp(a, c.path, heads[i] === true);
    if (bad !== null) faults.push(bad);
  }
  const last = r.answers[r.answers.length - 1]!;
  if (
    c.count !== undefined &&
    r.answers.length < c.count &&
    !/close/i.test(last.headers['connection'] ?? '')
  ) {
    faults.push(
      `${r.answers.length} answers to ${c.count} pipelined requests, the last without Connection: close`,
    );
  }
  if (c.expect !== undefined && !c.expect.includes(r.answer.status))
    faults.push(`expected ${c.expect.join('/')}, got ${r.answer.status}`);
  return faults;
}

test(`HTTP fuzzing (seed ${SEED})`, { timeout: FUZZ_MS + 45_000 }, async (t) => {
  t.diagnostic(`FUZZ_SEED=${SEED} FUZZ_SECONDS=${FUZZ_MS / 1000}`);
  const good = new WellBehaved(server, SEED);
  await good.start();
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  const end = Date.now() + FUZZ_MS;
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      const rng = new Rng((SEED ^ Math.imul(lane + 1, 0x9e3779b9)) >>> 0);
      for (let i = 0; Date.now() < end; i++) {
        const c = httpCase(rng);
        const faults = await runCase(server.port, c);
        if (faults.length > 0) {
          failures.push(
            `lane ${lane} case ${i} (${c.name}): ${faults.join('; ')}\n  sent ${c.bytes.length} B: ${JSON.stringify(c.bytes.subarray(0, 300).toString('latin1'))}`,
          );
        }
        statuses.set(c.name.split(' ')[0]!, (statuses.get(c.name.split(' ')[0]!) ?? 0) + 1);
      }
    }),
  );
  const cases = [...statuses.values()].reduce((a, b) => a + b, 0);
  t.diagnostic(`${cases} cases: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await assertRunClean(t, { server, good, failures, seed: SEED, connectionCap: CONNECTION_CAP });
  t.diagnostic(
    `statuses: ${[...statusCounts]
      .sort((a, b) => a[0] - b[0])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  t.diagnostic(
    `well-behaved: WebSocket ${good.received.length} messages (${good.reconnects} reconnects), SSE ${good.sseOffsets.length}, long-poll ${good.pollOffsets.length}`,
  );
  assert.ok(cases > 50, 'the fuzzer ran');
});
