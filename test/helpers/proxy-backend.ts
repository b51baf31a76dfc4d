import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the test backend received. */
export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body, parsed as JSON. */
  readonly body: unknown;
  /** Which TCP connection carried it (1, 2, ... in order of arrival). */
  readonly connection: number;
  /** Requests this connection carried before this one. */
  readonly reused: number;
}

export type Handler = (req: Received, res: ServerResponse, raw: IncomingMessage) => void;

/**
 * An application backend on loopback for the proxy (auth/proxy.ts): answers with `handler`,
 * records every request and counts TCP connections, so tests see keep-alive reuse and what was
 * forwarded.
 */
export class TestBackend {
  readonly received: Received[] = [];
  handler: Handler = (_req, res) => json(res, 200, {});
  #server: Server;
  #sockets = new Map<Socket, { id: number; served: number }>();
  #connections = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const s = this.#sockets.get(req.socket);
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const r: Received = {
          path: req.url ?? '',
          headers: req.headers,
          body,
          connection: s?.id ?? 0,
          reused: s?.served ?? 0,
        };
        if (s !== undefined) s.served++;
        this.received.push(r);
        this.handler(r, res, req);
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.set(socket, { id: ++this.#connections, served: 0 });
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** TCP connections accepted so far. */
  get connections(): number {
    return this.#connections;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
