import { type Config, loadConfig } from '../../src/config/config.js';
import { createEngine, HoldfastServer, type ServerOptions } from '../../src/server/server.js';

export const API_KEY = 'test-key';

export interface Running {
  server: HoldfastServer;
  config: Config;
  port: number;
  base: string;
  wsUrl: string;
  publish(channel: string, data: unknown): Promise<{ epoch: string; offset: number }>;
  close(): Promise<void>;
}

/** A Holdfast server in this process on an ephemeral loopback port. */
export async function startServer(
  flags: Record<string, unknown> = {},
  opts: ServerOptions = {},
): Promise<Running> {
  const config = loadConfig({
    flags: { port: 0, host: '127.0.0.1', apiKey: API_KEY, logLevel: 'silent', ...flags },
  });
  const server = new HoldfastServer(config, createEngine(config), opts);
  const port = await server.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  return {
    server,
    config,
    port,
    base,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    async publish(channel, data) {
      const res = await fetch(`${base}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ channel, data }),
      });
      if (res.status !== 200) throw new Error(`publish: ${res.status} ${await res.text()}`);
      return (await res.json()) as { epoch: string; offset: number };
    },
    close: () => server.close(),
  };
}
