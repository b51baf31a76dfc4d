import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { KeyGate, offeredKey } from '../api/auth.js';
import { Api } from '../api/routes.js';
import { type Access, AccessControl, type Backend } from '../auth/access.js';
import { ProxyBackend } from '../auth/proxy.js';
import { type Config, engineKind } from '../config/config.js';
import { Disconnects, errorBody, HoldfastError } from '../contract/codes.js';
import { Node } from '../core/node.js';
import type { Session } from '../core/session.js';
import { TimerWheel } from '../core/wheel.js';
import { historyLimits } from '../engines/limits.js';
import { MemoryEngine } from '../engines/memory/engine.js';
import { NatsEngine } from '../engines/nats/engine.js';
import { RedisEngine } from '../engines/redis/engine.js';
import type { Engine } from '../engines/types.js';
import { originAllowed } from '../http/cors.js';
import { sendError, sendJson } from '../http/json.js';
import { Dashboard } from '../observe/dashboard/index.js';
import { LocalSessions, SessionStore, type Sessions } from '../observe/dashboard/sessions.js';
import { serverInfo } from '../observe/info.js';
import { type Logger, LogLimiter, silentLogger } from '../observe/log.js';
import { ServerMetrics } from '../observe/metrics.js';
import { closeWaitingConnections, installFastPath } from '../transports/http1/fastpath.js';
import { PollServer } from '../transports/poll.js';
import { PollFastRoute } from '../transports/poll-fast.js';
import { pipelined, pipelinedError } from '../transports/request.js';
import { SseServer } from '../transports/sse.js';
import { SseFastRoute } from '../transports/sse-fast.js';
import { WsServer } from '../transports/ws/server.js';
import { Admission, type AdmissionKind, FrameBudget } from './admission.js';
import { serveClientScript } from './client-script.js';
import { DEMO_PAGE } from './demo-page.js';
import { fdReserve, openFilesLimit } from './sizing.js';

/**
 * One worker's HTTP server: API, SSE, long-poll, the WebSocket upgrade, /health and /ready.
 */
export interface ServerOptions {
  /** How many worker processes share the server (for the total connection cap). */
  workers?: number;
  log?: Logger;
  /** Dashboard logins: the primary's store in a cluster; by default one in this process. */
  sessions?: Sessions;
  /** The application's backend (connectProxy, subscribeProxy, publishProxy); none by default. */
  backend?: Backend;
  /** Who may connect, follow and publish (auth/access.ts); by default built from the config (tests give their own). */
  access?: Access;
}

export class HoldfastServer {
  readonly config: Config;
  readonly node: Node;
  readonly http: Server;
  readonly ws: WsServer;
  readonly sse: SseServer;
  readonly poll: PollServer;
  readonly api: Api;
  /** Who may connect, follow and publish (auth/access.ts): every transport asks it. */
  readonly access: Access;
  /** Every API-key check (API, /metrics, dashboard), with one throttle of wrong keys. */
  readonly keys: KeyGate;
  readonly admission: Admission;
  readonly wheel = new TimerWheel(250);
  readonly metrics: ServerMetrics;
  readonly dashboard: Dashboard;
  readonly log: Logger;
  /** Repeated warnings caused by clients (bad frames, bad HTTP) go through here. */
  readonly logLimiter: LogLimiter;
  #draining = false;
  #drained: Promise<void> | null = null;
  /** The proxy to the application's backend, when one of its URLs is configured (auth/proxy.ts). */
  readonly #proxy: ProxyBackend | null;

  constructor(config: Config, engine: Engine, opts: ServerOptions = {}) {
    this.config = config;
    this.log = opts.log ?? silentLogger();
    this.logLimiter = new LogLimiter(this.log);
    this.node = new Node(engine, {
      maxRecover: config.maxRecover,
      maxSubscribersPerChannel: config.maxSubscribersPerChannel,
      namespaces: config.namespaceTable,
      maxChannelsPerSession: config.maxChannelsPerConnection,
    });
    this.admission = new Admission(
      {
        maxConnections: connectionCap(config, opts.workers ?? 1),
        maxNewPerSecond: config.maxNewConnectionsPerSecond,
        memoryWatermarkBytes: config.memoryWatermark * 1024 * 1024,
      },
      () => this.node.sessionCount,
      undefined,
      () => this.node.stats.streamsOpened,
    );
    this.#proxy =
      opts.backend === undefined && proxyConfigured(config)
        ? new ProxyBackend(config, (proxy, fault, detail) =>
            this.logLimiter.log(
              'warn',
              `proxy_${proxy}_${fault}`,
              { proxy, fault, detail },
              "the application's backend failed a proxy request: the client was refused",
            ),
          )
        : null;
    this.access = opts.access ?? new AccessControl(config, opts.backend ?? this.#proxy);
    this.ws = new WsServer(
      this.node,
      config,
      this.wheel,
      (perSecond) => new FrameBudget(perSecond),
      this.access,
    );
    this.sse = new SseServer(this.node, config, this.access);
    this.poll = new PollServer(this.node, config, this.wheel, this.access);
    this.keys = new KeyGate(config.apiKey, {
      failuresPerMinute: config.keyFailuresPerMinute,
      trustProxy: config.trustProxy,
      onBlocked: (address, retryAfterS) =>
        this.logLimiter.log(
          'warn',
          'key_throttled',
          { address, retryAfterS, keyFailuresPerMinute: config.keyFailuresPerMinute },
          'too many wrong API keys from one address: every key it offers, the right one too, gets 429 until its window ends',
        ),
    });
    this.api = new Api(this.node, config, this.keys, () =>
      serverInfo({
        node: this.node,
        config,
        worker: cluster.worker?.id ?? 0,
        connections: () => this.connectionCounts(),
        metrics: () => this.metrics.scrape(),
      }),
    );
    this.metrics = new ServerMetrics(this);
    this.dashboard = new Dashboard(
      this.keys,
      opts.sessions ?? new LocalSessions(new SessionStore({ ttlMs: config.dashboardSessionTtl * 1000 })),
      { sessionTtlS: config.dashboardSessionTtl, trustProxy: config.trustProxy },
      () => this.metrics.scrape(),
      config.namespaceTable?.list().some((n) => n.presence) === true
        ? () => this.node.presence.busiest(DASHBOARD_PRESENCE_CHANNELS)
        : null,
    );
    this.ws.onBadFrame = (_s, code) =>
      this.logLimiter.log('warn', 'ws_bad_frame', { code }, 'bad WebSocket frame');
    this.http = createServer({ maxHeaderSize: config.maxHeaderBytes }, (req, res) =>
      this.#onRequest(req, res),
    );
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code !== 'ECONNRESET') {
        this.node.stats.reject('bad_http');
        this.logLimiter.log('warn', 'http_client_error', { code: err.code }, 'bad HTTP request');
      }
      if (socket.writable) socket.end(clientErrorAnswer(err.code));
      else socket.destroy();
    });
    // Slowloris: headers and whole requests have deadlines; idle keep-alive sockets are closed.
    this.http.headersTimeout = config.headersTimeout * 1000;
    this.http.requestTimeout = config.requestTimeout * 1000;
    this.http.keepAliveTimeout = 5000;
    // Idle streams served from the bare socket (docs/BENCHMARKS.md "Memory per idle connection").
    // A stream the admission check would refuse goes to node:http, which answers the 503.
    installFastPath(this.http, [new SseFastRoute(this.sse), new PollFastRoute(this.poll)], {
      admit: (target) =>
        this.admission.check(Date.now(), target.startsWith('/poll') ? 'poll' : 'stream') === null,
      accepting: () => !this.#draining,
      maxHeadBytes: config.maxHeaderBytes,
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
    if (pipelined(res) && this.#behindStream(req.socket)) return;
    if ((req.url?.length ?? 0) > this.config.maxUrlLength) {
      res.setHeader('connection', 'close');
      sendError(res, new HoldfastError('uri_too_long'));
      return;
    }
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
    if (path === '/dashboard' || path.startsWith('/dashboard/')) {
      try {
        this.dashboard.handle(req, res, url);
      } catch (err) {
        sendError(res, err);
      }
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
        if (this.#refusePipelined(res)) return;
        if (this.#admit(res, 'stream')) void this.sse.handle(req, res);
        return;
      case '/poll':
        if (req.method !== 'GET') {
          sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
          return;
        }
        if (this.#refusePipelined(res)) return;
        if (this.#admit(res, 'poll')) void this.poll.handle(req, res);
        return;
      case '/client.js':
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
          return;
        }
        serveClientScript(req, res);
        return;
      case '/':
        if (req.method !== 'GET') {
          sendError(res, new HoldfastError('method_not_allowed', 'Use GET.'));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(DEMO_PAGE);
        return;
      case '/metrics':
        void this.#serveMetrics(req, res);
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

  /**
   * A stream request pipelined behind another on its connection is refused, and the connection
   * closed after the answers before it (transports/request.ts pipelined(); README "Pipelining").
   */
  #refusePipelined(res: ServerResponse): boolean {
    if (!pipelined(res)) return false;
    this.node.stats.reject('bad_request');
    res.setHeader('connection', 'close');
    sendError(res, pipelinedError());
    return true;
  }

  /**
   * A request pipelined behind a stream that node:http serves (README "Pipelining"): its answer
   * would wait for one that comes late (a held poll) or never (an SSE stream), and answers
   * queued past the socket's high-water mark stop node:http reading it, so the client's close
   * would go unseen. Behind an SSE stream the connection is closed (the session ends with it); a
   * held poll is answered now and the requests behind it after. True: not to be served.
   */
  #behindStream(socket: Socket): boolean {
    // Closed by an earlier request of the same read.
    if (socket.destroyed) return true;
    if (this.sse.cut(socket)) {
      this.node.stats.reject('bad_request');
      return true;
    }
    this.poll.hurry(socket);
    return false;
  }

  /** Counts a long-lived HTTP connection in, or answers 503 with Retry-After. */
  #admit(res: ServerResponse, kind: AdmissionKind): boolean {
    const refusal = this.admission.check(Date.now(), kind);
    if (refusal !== null) {
      this.node.stats.reject(refusal);
      sendError(res, new HoldfastError(refusal === 'draining' ? 'draining' : 'overloaded'), {
        'retry-after': retryAfter(),
      });
      return false;
    }
    return true;
  }

  async #serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.config.metricsRequireKey) {
      const refusal = this.keys.verify(req, offeredKey(req));
      if (refusal !== null) {
        sendError(res, refusal.error, refusal.headers);
        return;
      }
    }
    try {
      const text = await this.metrics.scrape();
      res.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
    } catch (err) {
      sendError(res, err);
    }
  }

  /** Open client connections by transport (for metrics). */
  connectionCounts(): { ws: number; sse: number; poll: number } {
    return { ws: this.ws.sessions.size, sse: this.sse.sessions.size, poll: this.poll.sessions.size };
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
      // Authorization (a Bearer token) only where tokens are taken: v1's answer is unchanged.
      'access-control-allow-headers': this.access.enabled
        ? 'Last-Event-ID, Content-Type, Authorization'
        : 'Last-Event-ID, Content-Type',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    res.end();
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/ws') {
      this.#rejectUpgrade(socket, 404, 'not_found');
      return;
    }
    if (!originAllowed(this.config, req.headers.origin)) {
      this.#rejectUpgrade(socket, 403, 'forbidden');
      return;
    }
    if ((req.url?.length ?? 0) > this.config.maxUrlLength) {
      this.#rejectUpgrade(socket, 414, 'uri_too_long');
      return;
    }
    const refusal = this.admission.check();
    if (refusal !== null) {
      this.node.stats.reject(refusal);
      // Complete the handshake so that browsers see the close code: 1013 try again later, or
      // 3000 (reconnect) while draining.
      this.ws.refuse(
        req,
        socket,
        head,
        refusal === 'draining' ? Disconnects.shutdown : Disconnects.overloaded,
      );
      return;
    }
    this.ws.handleUpgrade(req, socket, head);
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Graceful drain: /ready turns false at once; new connections are refused; connected clients are told to reconnect in batches spread over half of
   * drainTimeout (with jitter, so a restart does not become a reconnect storm); API calls in
   * flight finish; then the listener and everything else close. Resolves within drainTimeout.
   */
  drain(): Promise<void> {
    if (this.#drained !== null) return this.#drained;
    this.#draining = true;
    this.admission.draining = true;
    const deadline = Date.now() + this.config.drainTimeout * 1000;
    this.#drained = (async () => {
      // The listener stays open until the end so that /ready answers 503 to load balancers
      // and new clients are refused politely (503 / close 3000) rather than reset.
      const sessions: Session[] = [...this.ws.sessions, ...this.sse.sessions];
      this.poll.close();
      const spreadMs = (this.config.drainTimeout * 1000) / 2;
      const batches = Math.max(1, Math.min(50, sessions.length));
      for (let b = 0; b < batches; b++) {
        for (let i = b; i < sessions.length; i += batches) sessions[i]!.close(Disconnects.shutdown);
        if (b < batches - 1) await sleep((spreadMs / batches) * (0.5 + Math.random()));
      }
      while (this.api.inFlight > 0 && Date.now() < deadline) await sleep(20);
      await this.#shutdown();
    })();
    return this.#drained;
  }

  #rejectUpgrade(socket: Duplex, status: number, code: 'not_found' | 'forbidden' | 'uri_too_long'): void {
    this.node.stats.reject(code);
    rejectUpgrade(socket, status, code);
  }

  /** Closes everything now (tests, and the end of a drain). */
  async close(): Promise<void> {
    this.#draining = true;
    this.admission.draining = true;
    this.ws.close();
    this.sse.close();
    this.poll.close();
    await this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.ws.close();
    this.sse.close();
    this.wheel.stop();
    this.admission.stop();
    this.metrics.close();
    this.dashboard.close();
    this.logLimiter.close();
    this.#proxy?.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
      closeWaitingConnections(this.http);
    });
    await this.node.engine.close();
  }
}

/** Channels the dashboard lists with their presence counts (the busiest). */
const DASHBOARD_PRESENCE_CHANNELS = 10;

/** Whether any of the three proxies to the application's backend is configured. */
function proxyConfigured(c: Config): boolean {
  return c.connectProxy !== '' || c.subscribeProxy !== '' || c.publishProxy !== '';
}

/**
 * The answer to a request Node's parser refused: 431 when the header block is over
 * maxHeaderBytes (as config.ts documents), else 400. No body: the request was never routed.
 */
export function clientErrorAnswer(code: string | undefined): string {
  const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seconds for Retry-After: 1-3, spread so refused clients do not come back together. */
function retryAfter(): string {
  return String(1 + Math.floor(Math.random() * 3));
}

/** This worker's share of the connection caps; by default what its open-files limit allows. */
function connectionCap(config: Config, workers: number): number {
  let cap = config.maxConnections;
  if (cap === 0) {
    const fds = openFilesLimit();
    cap = fds === null || fds >= Number.MAX_SAFE_INTEGER ? 0 : fds - fdReserve(fds);
  }
  if (config.maxConnectionsTotal > 0) {
    const share = Math.ceil(config.maxConnectionsTotal / Math.max(1, workers));
    cap = cap === 0 ? share : Math.min(cap, share);
  }
  return cap;
}

/** One listener for every upgraded socket (no closure per connection). */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: 'not_found' | 'forbidden' | 'uri_too_long',
): void {
  const body = JSON.stringify(errorBody(code));
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The engine named by the configuration (it connects when the server starts). */
export function createEngine(config: Config): Engine {
  // Each namespace's historySize and historyTtl apply to its channels (engines/limits.ts).
  const history = historyLimits(config);
  switch (engineKind(config.engine)) {
    case 'redis':
      return new RedisEngine({
        url: config.engine,
        prefix: config.enginePrefix,
        history,
        connectTimeoutMs: config.engineConnectTimeout * 1000,
        presenceTimeoutMs: config.presenceTimeout * 1000,
      });
    case 'nats':
      return new NatsEngine({
        servers: config.engine,
        prefix: config.enginePrefix,
        jetstream: config.natsHistory,
        history,
        connectTimeoutMs: config.engineConnectTimeout * 1000,
        presenceTimeoutMs: config.presenceTimeout * 1000,
      });
    default:
      return new MemoryEngine(history);
  }
}
