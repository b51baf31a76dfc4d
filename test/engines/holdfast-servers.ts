import WebSocket from 'ws';
import { type Config, loadConfig } from '../../src/config/config.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';

/** In-process Holdfast servers and WebSocket clients for the multi-server engine tests. */
export const KEY = 'engines-test-key';

export interface Server {
  server: HoldfastServer;
  config: Config;
  base: string;
  wsUrl: string;
  publish(channel: string, data: unknown): Promise<Response>;
  close(): Promise<void>;
}

export async function startHoldfast(flags: Record<string, unknown>): Promise<Server> {
  const config = loadConfig({
    flags: { port: 0, host: '127.0.0.1', apiKey: KEY, logLevel: 'silent', ...flags },
  });
  const server = new HoldfastServer(config, createEngine(config));
  const port = await server.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    server,
    config,
    base,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    publish: (channel, data) =>
      fetch(`${base}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: JSON.stringify({ channel, data }),
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await server.close();
    },
  };
}

export async function publishOk(
  s: Server,
  channel: string,
  data: unknown,
): Promise<{ epoch: string; offset: number }> {
  const res = await s.publish(channel, data);
  if (res.status !== 200) throw new Error(`publish: ${res.status} ${await res.text()}`);
  return (await res.json()) as { epoch: string; offset: number };
}

export type Frame = Record<string, unknown>;

/** A WebSocket client keeping every frame it receives. */
export class Client {
  readonly frames: Frame[] = [];
  readonly ws: WebSocket;
  readonly closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw) => this.frames.push(JSON.parse(raw.toString()) as Frame));
    this.closed = new Promise((resolve) => ws.on('close', () => resolve()));
  }

  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  async subscribe(id: number, channel: string, since?: { epoch: string; offset: number }): Promise<Frame> {
    this.ws.send(JSON.stringify({ id, op: 'subscribe', channel, since }));
    return this.until(`reply ${id}`, () => this.frames.find((f) => f['id'] === id));
  }

  messages(channel: string): Frame[] {
    return this.frames.filter((f) => f['op'] === 'message' && f['channel'] === channel);
  }

  async until<T>(what: string, get: () => T | undefined, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async count(channel: string, n: number): Promise<Frame[]> {
    await this.until(`${n} messages on ${channel}`, () =>
      this.messages(channel).length >= n ? true : undefined,
    );
    return this.messages(channel);
  }

  close(): void {
    this.ws.terminate();
  }
}
