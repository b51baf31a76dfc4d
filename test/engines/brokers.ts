import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from 'nats';

/**
 * Real brokers for the engine tests: a redis-server / nats-server of our own on a free loopback
 * port (so a test can stop and restart it), else the one named by REDIS_URL / NATS_URL, else
 * nothing, and the tests skip saying which Debian package to install.
 */
export interface Broker {
  url: string;
  /** True when this process started the broker (it can then be stopped and restarted). */
  owned: boolean;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function findBinary(names: string[]): string | null {
  for (const n of names) if (existsSync(n)) return n;
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    for (const n of names) {
      const base = n.slice(n.lastIndexOf('/') + 1);
      if (dir !== '' && existsSync(join(dir, base))) return join(dir, base);
    }
  }
  return null;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`broker did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

class OwnedBroker implements Broker {
  readonly owned = true;
  readonly url: string;
  #child: ChildProcess | null = null;

  constructor(
    readonly scheme: string,
    readonly port: number,
    readonly command: string,
    readonly args: string[],
    readonly onStop: () => void = () => undefined,
  ) {
    this.url = `${scheme}://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: 'ignore' });
    this.#child = child;
    await waitForPort(this.port, 10_000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.onStop();
  }
}

class ExternalBroker implements Broker {
  readonly owned = false;
  constructor(readonly url: string) {}
  async stop(): Promise<void> {}
  async restart(): Promise<void> {
    throw new Error('cannot restart a broker this test did not start');
  }
}

export type Started = { broker: Broker; dispose(): Promise<void> } | { skip: string };

export async function startRedis(): Promise<Started> {
  const bin = findBinary(['/usr/bin/redis-server']);
  if (bin !== null) {
    const port = await freePort();
    const b = new OwnedBroker('redis', port, bin, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    await b.start();
    return { broker: b, dispose: () => b.dispose() };
  }
  const url = process.env['REDIS_URL'];
  if (url !== undefined && url !== '') return { broker: new ExternalBroker(url), dispose: async () => {} };
  return { skip: 'no Redis: install the Debian package redis-server, or set REDIS_URL' };
}

/** A nats-server with JetStream (its store in a temporary directory), or without (`jetstream: false`). */
export async function startNats(opts: { jetstream?: boolean } = {}): Promise<Started> {
  const bin = findBinary(['/usr/sbin/nats-server', '/usr/bin/nats-server']);
  if (bin !== null) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-nats-'));
    const b = new OwnedBroker(
      'nats',
      port,
      bin,
      ['-a', '127.0.0.1', '-p', String(port), ...(opts.jetstream === false ? [] : ['-js', '-sd', dir])],
      () => rmSync(dir, { recursive: true, force: true }),
    );
    await b.start();
    return { broker: b, dispose: () => b.dispose() };
  }
  const url = process.env['NATS_URL'];
  if (url !== undefined && url !== '' && opts.jetstream !== false)
    return { broker: new ExternalBroker(url), dispose: async () => {} };
  return { skip: 'no NATS: install the Debian package nats-server, or set NATS_URL' };
}

/** A key/subject prefix unique to this test run. */
export function runPrefix(tag: string): string {
  return `hft-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Keys of channels under `prefix` in the Redis at `url` (meta hashes and streams). */
export async function redisChannelKeys(url: string, prefix: string): Promise<number> {
  const admin = new Redis(url);
  try {
    let count = 0;
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:{*`, 'COUNT', 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  } finally {
    admin.disconnect();
  }
}

/**
 * Messages in the history streams under `prefix` in the NATS at `url` (every channel's: the
 * defaults' stream and one per namespace, engines/nats/history.ts).
 */
export async function natsStreamMessages(url: string, prefix: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    let count = 0;
    for await (const info of jsm.streams.list()) {
      const name = info.config.name;
      if (name === `${prefix}-history` || name.startsWith(`${prefix}-history-n`))
        count += info.state.messages;
    }
    return count;
  } finally {
    await nc.close();
  }
}
