import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config/config.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';

export const API_KEY = 'test-key-observe';

/** A server on an ephemeral loopback port. */
export async function startServer(
  flags: Record<string, unknown> = {},
): Promise<{ server: HoldfastServer; base: string; port: number }> {
  const config = loadConfig({
    flags: { apiKey: API_KEY, host: '127.0.0.1', port: 0, logLevel: 'silent', ...flags },
  });
  const server = new HoldfastServer(config, createEngine(config));
  const port = await server.listen();
  return { server, base: `http://127.0.0.1:${port}`, port };
}

export async function publish(base: string, channel: string, data: unknown): Promise<Response> {
  return fetch(base + '/api/publish', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({ channel, data }),
  });
}

/** A WebSocket client that records pushed messages. */
export class WsClient {
  readonly ws: WebSocket;
  readonly messages: { channel: string; offset: number; data: unknown }[] = [];
  readonly replies: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Record<string, unknown>;
      if (msg['op'] === 'message') this.messages.push(msg as never);
      else this.replies.push(msg);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static open(port: number, token?: string): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${token === undefined ? '' : `?token=${token}`}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  async subscribe(channel: string): Promise<void> {
    const id = this.replies.length + 1000;
    this.ws.send(JSON.stringify({ id, op: 'subscribe', channel }));
    await this.until(() => this.replies.some((r) => r['id'] === id));
  }

  /** Resolves when `cond` holds, re-checked after each frame; rejects after `ms`. */
  until(cond: () => boolean, ms = 5000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the client')), ms);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Polls `cond` every 20 ms until it holds; rejects after `ms`. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
