import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import WebSocket from 'ws';
import { isEmptyEpoch } from '../../src/engines/empty.js';
import { type ServerProcess, spawnServer, workerPids } from '../helpers/proc.js';
import { parseAnswer } from './http-wire.js';
import type { HttpAnswer } from './oracle.js';

export const API_KEY = 'fuzz-key';

/**
 * The live server a fuzz test runs against: `holdfast serve` with two workers as a child
 * process, so a worker crash is observable (pids through /health, the primary's log, and
 * holdfast_worker_restarts_total).
 */
export class LiveServer {
  private constructor(
    readonly proc: ServerProcess,
    readonly pids: Set<number>,
    readonly engine: string,
    readonly prefix: string,
  ) {}

  /** FUZZ_ENGINE (e.g. redis://127.0.0.1:6379 or nats://127.0.0.1:4222) runs against a broker. */
  static async start(extraArgs: string[] = []): Promise<LiveServer> {
    const engine = process.env['FUZZ_ENGINE'] ?? '';
    const prefix = `fuzz-${process.pid}-${Date.now().toString(36)}`;
    const engineArgs = engine === '' ? [] : ['--engine', engine, '--engine-prefix', prefix];
    // The oracle judges each request alone; throttling wrong keys per address (which makes every
    // later answer to this one client a 429) has its own tests (test/e2e/key-throttle.test.ts).
    const proc = await spawnServer(
      ['--workers', '2', '--key-failures-per-minute', '0', ...engineArgs, ...extraArgs],
      API_KEY,
    );
    const pids = await workerPids(proc.base, 2);
    const server = new LiveServer(proc, pids, engine, prefix);
    if (pids.size !== 2) {
      await server.stop();
      throw new Error(`expected 2 workers, saw ${pids.size}`);
    }
    return server;
  }

  get port(): number {
    return this.proc.port;
  }

  get base(): string {
    return this.proc.base;
  }

  /** Worker restarts counted by the primary (null when the series is absent). */
  restarts(): Promise<number | null> {
    return this.metric('holdfast_worker_restarts_total');
  }

  /** A metric summed over its series (and workers), or null when absent. */
  async metric(name: string): Promise<number | null> {
    const r = await fetch(`${this.base}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    let sum: number | null = null;
    for (const line of text.split('\n')) {
      if (line === name || line.startsWith(`${name} `) || line.startsWith(`${name}{`))
        sum = (sum ?? 0) + Number(line.split(' ').pop());
    }
    return sum;
  }

  /**
   * Once every client has gone, the server must hold no connection and no subscription: what
   * is left after `timeoutMs` leaked.
   */
  async leftovers(timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const conns = await this.metric('holdfast_connections');
      const subs = await this.metric('holdfast_subscriptions');
      if ((conns ?? 0) === 0 && (subs ?? 0) === 0) return [];
      if (Date.now() > deadline) return [`left open: ${conns} connections, ${subs} subscriptions`];
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Opens SSE streams and holds them until the server refuses `refusals` of them; returns how
   * many it admitted and what was wrong with the refusals. With `--max-connections-total`,
   * every slot must be free again once the fuzzing is over: fewer admitted means a leak.
   */
  async admitted(refusals = 10, attempts = 200): Promise<{ admitted: number; faults: string[] }> {
    const held: Socket[] = [];
    const faults: string[] = [];
    let refused = 0;
    try {
      for (let i = 0; i < attempts && refused < refusals; i++) {
        const socket = netConnect({ port: this.port, host: '127.0.0.1' });
        socket.on('error', () => {});
        socket.write(`GET /sse?channel=admission HTTP/1.1\r\nHost: x\r\n\r\n`);
        const answer = await new Promise<HttpAnswer | null>((resolve) => {
          let buf = Buffer.alloc(0);
          const t = setTimeout(() => resolve(null), 5000);
          socket.on('data', (d: Buffer) => {
            buf = Buffer.concat([buf, d]);
            const r = parseAnswer(buf, false, false);
            if (r !== null) {
              clearTimeout(t);
              resolve(r.answer);
            }
          });
          socket.on('close', () => resolve(parseAnswer(buf, false, true)?.answer ?? null));
        });
        if (answer?.status === 200) {
          held.push(socket);
          continue;
        }
        socket.destroy();
        refused++;
        if (answer === null) faults.push('no answer');
        else if (
          answer.status !== 503 ||
          !answer.body.includes('"overloaded"') ||
          !answer.headers['retry-after']
        )
          faults.push(`refusal: ${answer.status} ${answer.body.toString().slice(0, 100)}`);
      }
      return { admitted: held.length, faults };
    } finally {
      for (const s of held) s.destroy();
    }
  }

  /** What shows that a worker died: empty when none did. */
  async crashes(): Promise<string[]> {
    const out: string[] = [];
    if (this.proc.child.exitCode !== null) out.push(`the server exited with ${this.proc.child.exitCode}`);
    const logs = this.proc.stdout() + this.proc.stderr();
    for (const line of logs.split('\n')) {
      if (/worker exited|uncaught|unhandled|giving up/i.test(line)) out.push(`log: ${line.slice(0, 300)}`);
    }
    const now = await workerPids(this.base, 2);
    if (now.size !== 2 || [...now].some((p) => !this.pids.has(p)))
      out.push(`worker pids changed: ${[...this.pids].join(',')} -> ${[...now].join(',')}`);
    const restarts = await this.restarts();
    if (restarts !== null && restarts > 0) out.push(`holdfast_worker_restarts_total = ${restarts}`);
    return out;
  }

  /** Stops the server and removes what it left in a shared broker (keys, the history stream). */
  async stop(): Promise<void> {
    await this.proc.stop();
    if (this.engine.startsWith('redis')) {
      const redis = new Redis(this.engine, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      await redis.quit();
    } else if (this.engine.startsWith('nats')) {
      const nc = await connect({ servers: this.engine.replace(/^nats:\/\//, '') });
      const jsm = await nc.jetstreamManager();
      for await (const si of jsm.streams.list()) {
        if (si.config.name.startsWith(this.prefix)) await jsm.streams.delete(si.config.name);
      }
      await nc.close();
    }
  }
}

/**
 * The well-behaved pair that runs alongside the fuzzer: a publisher sending a numbered message
 * every ~20 ms over the API, and a `ws` subscriber that reconnects with `since` when closed.
 * At the end the subscriber must hold every publication exactly once, in order.
 */
export class WellBehaved {
  readonly channel: string;
  readonly received: { offset: number; n: number }[] = [];
  readonly problems: string[] = [];
  published = 0;
  lastOffset = 0;
  reconnects = 0;
  #epoch = '';
  #offset = 0;
  #ws: WebSocket | null = null;
  #stopped = false;
  #publisher: Promise<void> | null = null;
  #subscribed!: Promise<void>;
  /** Offsets received by an SSE follower (EventSource resumes through Last-Event-ID) and a long-poll follower. */
  readonly sseOffsets: number[] = [];
  readonly pollOffsets: number[] = [];
  #sse: EventSource | null = null;
  #poller: Promise<void> | null = null;
  #dropper: NodeJS.Timeout | null = null;
  /** Set at the very end: no more reconnecting. */
  #done = false;

  constructor(
    readonly server: LiveServer,
    seed: number,
  ) {
    this.channel = `good-stream-${seed.toString(36)}`;
  }

  async start(): Promise<void> {
    this.#subscribed = new Promise((resolve) => this.#connect(resolve));
    await this.#subscribed;
    await Promise.all([this.#startSse(), this.#startPoll()]);
    this.#publisher = this.#publishLoop();
    // The network misbehaves too: the connection drops every couple of seconds, and the
    // subscriber must resume from where it was without a gap or a duplicate.
    this.#dropper = setInterval(() => this.#ws?.terminate(), 2000);
  }

  #connect(onSubscribed?: () => void): void {
    const ws = new WebSocket(`ws://127.0.0.1:${this.server.port}/ws`);
    this.#ws = ws;
    ws.on('open', () => {
      const cmd: Record<string, unknown> = { id: 1, op: 'subscribe', channel: this.channel };
      if (this.#epoch !== '') cmd['since'] = { epoch: this.#epoch, offset: this.#offset };
      ws.send(JSON.stringify(cmd));
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      if (m['id'] === 1) {
        if (m['ok'] !== true) this.problems.push(`subscribe failed: ${data.toString()}`);
        else {
          // An epoch taken before the channel's first publication (engines/empty.ts) gives way
          // to the epoch that publication began; any other change means history was lost.
          if (this.#epoch !== '' && m['epoch'] !== this.#epoch && !isEmptyEpoch(this.#epoch)) {
            this.problems.push('epoch changed');
          }
          if (this.#epoch !== '' && m['recovered'] !== true) this.problems.push('not recovered');
          this.#epoch = m['epoch'] as string;
          if (this.received.length === 0) this.#offset = m['offset'] as number;
        }
        onSubscribed?.();
        return;
      }
      if (m['op'] === 'message' && m['channel'] === this.channel) {
        const offset = m['offset'] as number;
        this.received.push({ offset, n: (m['data'] as { n: number }).n });
        this.#offset = Math.max(this.#offset, offset);
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.#done) return;
      this.reconnects++;
      setTimeout(() => this.#connect(), 100);
    });
  }

  async #startSse(): Promise<void> {
    const es = new EventSource(`${this.server.base}/sse?channel=${this.channel}`);
    this.#sse = es;
    es.onmessage = (e) => {
      const m = JSON.parse(e.data) as { channel: string; offset: number };
      if (m.channel === this.channel) this.sseOffsets.push(m.offset);
    };
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('SSE follower: no subscribed event')), 10_000);
      es.addEventListener('subscribed', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  async #startPoll(): Promise<void> {
    // The first poll (before anything is published) is held until the poll time-out and
    // answers with the cursor at the current offset; each answer's cursor resumes the next.
    let cursor = '';
    let started!: () => void;
    const ready = new Promise<void>((r) => {
      started = r;
    });
    this.#poller = (async () => {
      while (!this.#done) {
        const q = `channel=${this.channel}${cursor === '' ? '' : `&cursor=${cursor}`}`;
        try {
          const r = await fetch(`${this.server.base}/poll?${q}`, { signal: AbortSignal.timeout(30_000) });
          const body = (await r.json()) as { cursor?: string; messages?: { offset: number }[] };
          if (r.status !== 200 || body.cursor === undefined) {
            this.problems.push(`poll: ${r.status} ${JSON.stringify(body)}`);
            await new Promise((res) => setTimeout(res, 200));
            continue;
          }
          for (const m of body.messages ?? []) this.pollOffsets.push(m.offset);
          cursor = body.cursor;
          started();
        } catch (err) {
          this.problems.push(`poll: ${(err as Error).message}`);
        }
      }
    })();
    await ready;
  }

  async #publishLoop(): Promise<void> {
    while (!this.#stopped) {
      const n = this.published + 1;
      try {
        const r = await fetch(`${this.server.base}/api/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
          body: JSON.stringify({ channel: this.channel, data: { n } }),
          signal: AbortSignal.timeout(5000),
        });
        const body = (await r.json()) as { offset?: number };
        if (r.status !== 200 || typeof body.offset !== 'number') {
          this.problems.push(`publish ${n}: ${r.status} ${JSON.stringify(body)}`);
        } else {
          this.published = n;
          this.lastOffset = body.offset;
        }
      } catch (err) {
        this.problems.push(`publish ${n}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops publishing, waits for the subscriber to catch up, closes; returns what is wrong. */
  async finish(timeoutMs = 10_000): Promise<string[]> {
    this.#stopped = true;
    if (this.#dropper !== null) clearInterval(this.#dropper);
    await this.#publisher;
    const deadline = Date.now() + timeoutMs;
    while (this.#offset < this.lastOffset && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const caughtUp = (): boolean =>
      (this.sseOffsets.at(-1) ?? 0) >= this.lastOffset && (this.pollOffsets.at(-1) ?? 0) >= this.lastOffset;
    while (!caughtUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.#done = true;
    this.#ws?.close();
    this.#sse?.close();
    await this.#poller;
    const out = [...this.problems];
    if (this.published === 0) out.push('nothing was published');
    const first = this.lastOffset - this.published + 1;
    const offsets = this.received.map((r) => r.offset);
    const want = Array.from({ length: this.published }, (_, i) => first + i);
    if (offsets.length !== want.length || offsets.some((o, i) => o !== want[i])) {
      out.push(
        `subscriber got ${offsets.length} of ${want.length} publications (${first}..${this.lastOffset}); ` +
          `first mismatch at index ${offsets.findIndex((o, i) => o !== want[i])}`,
      );
    }
    if (this.received.some((r, i) => r.n !== i + 1)) out.push('payloads out of order');
    for (const [name, got] of [
      ['SSE', this.sseOffsets],
      ['long-poll', this.pollOffsets],
    ] as const) {
      if (got.length !== want.length || got.some((o, i) => o !== want[i]))
        out.push(
          `${name} follower got ${got.length} of ${want.length} publications (${first}..${this.lastOffset})`,
        );
    }
    return out;
  }
}

/**
 * The verdict every fuzz run ends with: no bad answer, no worker crash, no leaked connection,
 * every connection slot free again, and the well-behaved clients got everything.
 */
export async function assertRunClean(
  t: TestContext,
  run: { server: LiveServer; good: WellBehaved; failures: string[]; seed: number; connectionCap: number },
): Promise<void> {
  const { server, good, failures } = run;
  const behaved = await good.finish();
  const crashes = await server.crashes();
  const leaks = await server.leftovers();
  const admission = await server.admitted();
  const replay = `replay with FUZZ_SEED=${run.seed}`;
  if (failures.length > 0) for (const line of summarize(failures)) t.diagnostic(line);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} bad answers; ${replay}`);
  assert.deepEqual(crashes, [], `a worker crashed; ${replay}`);
  assert.deepEqual(leaks, [], `connections leaked; ${replay}`);
  assert.deepEqual(admission.faults, [], `refusals at the connection cap; ${replay}`);
  assert.equal(admission.admitted, run.connectionCap, `every connection slot is free again; ${replay}`);
  assert.deepEqual(behaved, [], `the well-behaved client missed something; ${replay}`);
}

/** Failures grouped by case and fault, numbers blurred, with counts. */
function summarize(failures: string[]): string[] {
  const groups = new Map<string, number>();
  for (const f of failures) {
    const key = (f.split('\n')[0] ?? '').replace(/^lane \d+ case \d+ /, '').replace(/\d{4,}/g, 'N');
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n} x ${k}`);
}
