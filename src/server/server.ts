import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Api } from '../api/routes.js';
import type { Config } from '../config/config.js';
import { errorBody, HoldfastError } from '../core/codes.js';
import { Node } from '../core/node.js';
import { TimerWheel } from '../core/wheel.js';
import { MemoryEngine } from '../engines/memory/engine.js';
import type { Engine } from '../engines/types.js';
import { originAllowed, sendError, sendJson } from '../transports/common.js';
import { installFastPath } from '../transports/http1/fastpath.js';
import { PollServer } from '../transports/poll.js';
import { PollFastRoute } from '../transports/poll-fast.js';
import { SseServer } from '../transports/sse.js';
import { SseFastRoute } from '../transports/sse-fast.js';
import { WsServer } from '../transports/ws/server.js';
import { DEMO_PAGE } from './demo-page.js';

/**
 * One worker's HTTP server: API, SSE, long-poll, the WebSocket upgrade, /health and /ready.
 */
export class HoldfastServer {
  readonly config: Config;
  readonly node: Node;
  readonly http: Server;
  readonly ws: WsServer;
  readonly sse: SseServer;
  readonly poll: PollServer;
  readonly api: Api;
  readonly wheel = new TimerWheel(250);
  #draining = false;

  constructor(config: Config, engine: Engine) {
    this.config = config;
    this.node = new Node(engine, { maxRecover: config.maxRecover });
    this.ws = new WsServer(this.node, config);
    this.sse = new SseServer(this.node, config);
    this.poll = new PollServer(this.node, config, this.wheel);
    this.api = new Api(this.node, config);
    this.http = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => this.#onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    this.http.on('clientError', (_err, socket) => {
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    this.http.headersTimeout = 20_000;
    this.http.requestTimeout = 30_000;
    // Idle streams served from the bare socket (docs/BENCHMARKS.md "Memory per idle connection").
    installFastPath(this.http, [new SseFastRoute(this.sse), new PollFastRoute(this.poll, this.http)], {
      admit: () => !this.#draining,
      maxHeadBytes: 16 * 1024,
      firstBytesTimeoutMs: this.http.headersTimeout,
    });
  }

  async listen(port = this.config.port, host = this.config.host): Promise<number> {
    await this.node.start();
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen({ port, host, backlog: this.config.backlog }, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, new HoldfastError('bad_request'));
      return;
    }
    const path = url.pathname;
    if (path.startsWith('/api/')) {
      void this.api.handle(req, res, url);
      return;
    }
    if (req.method === 'OPTIONS' && (path === '/sse' || path === '/poll')) {
      this.#preflight(req, res);
      return;
    }
    switch (path) {
      case '/sse':
        if (req.method !== 'GET') {
          sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
          return;
        }
        void this.sse.handle(req, res, url);
        return;
      case '/poll':
        if (req.method !== 'GET') {
          sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
          return;
        }
        void this.poll.handle(req, res, url);
        return;
      case '/':
        if (req.method !== 'GET') {
          sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(DEMO_PAGE);
        return;
      case '/health':
        sendJson(res, 200, { status: 'ok', pid: process.pid });
        return;
      case '/ready': {
        const ready = !this.#draining && this.node.engine.ready();
        sendJson(res, ready ? 200 : 503, { ready });
        return;
      }
      case '/ws':
        sendError(res, new HoldfastError('bad_request', 'Connect with a WebSocket upgrade.'));
        return;
      default:
        sendError(res, new HoldfastError('not_found'));
    }
  }

  #preflight(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin;
    if (!originAllowed(this.config, origin)) {
      sendError(res, new HoldfastError('forbidden'));
      return;
    }
    res.writeHead(204, {
      'access-control-allow-origin': origin ?? '*',
      'access-control-allow-methods': 'GET, OPTIONS',
      'access-control-allow-headers': 'Last-Event-ID, Content-Type',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    res.end();
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/ws') {
      rejectUpgrade(socket, 404, 'not_found');
      return;
    }
    if (!originAllowed(this.config, req.headers.origin)) {
      rejectUpgrade(socket, 403, 'forbidden');
      return;
    }
    if (this.#draining) {
      rejectUpgrade(socket, 503, 'unavailable');
      return;
    }
    this.ws.handleUpgrade(req, socket, head);
  }

  /** Stops accepting, tells every client to reconnect elsewhere, closes the engine. */
  async close(): Promise<void> {
    this.#draining = true;
    this.ws.close();
    this.sse.close();
    this.poll.close();
    this.wheel.stop();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    await this.node.engine.close();
  }
}

/** One listener for every upgraded socket (no closure per connection). */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: 'not_found' | 'forbidden' | 'unavailable',
): void {
  const body = JSON.stringify(errorBody(code));
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The engine named by the configuration. */
export function createEngine(config: Config): Engine {
  return new MemoryEngine({
    size: config.historySize,
    ttlMs: config.historyTtl * 1000,
    metaTtlMs: config.historyMetaTtl * 1000,
  });
}
