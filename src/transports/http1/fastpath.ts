import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseGetHead, type RequestHead } from './head.js';

/**
 * A fast path in front of node:http for long-held streams. node:http keeps a parser, an
 * IncomingMessage, a ServerResponse and about ten bound functions alive for as long as a request
 * is open: several KiB of heap and native memory per idle SSE stream (docs/BENCHMARKS.md "Memory
 * per idle connection"). This reads the first bytes of each new connection; when they are one
 * whole plain GET head that a route takes, the route serves it straight from the socket. Anything
 * else (other methods, bodies, upgrades, partial heads, requests a route declines, including
 * every request that would get an error) is handed to node:http unchanged, with the bytes read
 * put back.
 */
export interface FastRoute {
  /**
   * Serves the request from `socket` and returns true, or returns false to leave it to node:http.
   * `fp` is the fast path itself, for a route that keeps the connection for a next request.
   */
  take(head: RequestHead, socket: Socket, fp: FastPath): boolean;
}

export interface FastPathOptions {
  /**
   * False sends every request to node:http (e.g. while draining), so admission checks made in
   * the request handler (caps, draining) apply to streams too.
   */
  admit: (target: string) => boolean;
  /** False while the server drains: held keep-alive connections are then closed after an answer. */
  accepting: () => boolean;
  maxHeadBytes: number;
  /** A new connection that sends nothing for this long is closed. */
  firstBytesTimeoutMs: number;
}

/** One per server (installFastPath); routes reach it through take(). */
export class FastPath {
  readonly http: Server;
  readonly httpListeners: ((socket: Socket) => void)[];
  readonly routes: readonly FastRoute[];
  readonly opts: FastPathOptions;
  /**
   * Connections that have sent nothing yet, with their deadlines, checked by one sweep.
   * (socket.setTimeout would leave a Timeout and a bound function on every socket for its
   * whole life: docs/BENCHMARKS.md "Memory per idle connection".)
   */
  readonly #waiting = new Map<Socket, number>();
  #sweeper: NodeJS.Timeout | null = null;

  constructor(http: Server, routes: readonly FastRoute[], opts: FastPathOptions) {
    this.http = http;
    // node:http's own connection listener, run for every connection the fast path does not take.
    this.httpListeners = http.listeners('connection') as ((socket: Socket) => void)[];
    this.routes = routes;
    this.opts = opts;
  }

  accept(socket: Socket): void {
    pending.set(socket, this);
    this.expect(socket);
    socket.on('data', onFirstData);
    socket.on('error', onEarlyError);
    socket.on('close', onEarlyClose);
    socket.on('end', onEarlyEnd);
  }

  /** Whether the fast path takes requests now (false while draining): a route ends connections then. */
  accepting(): boolean {
    return this.opts.accepting();
  }

  /**
   * A route answered its request on a keep-alive connection and lets it go: the next request
   * (already in `unread`, or still to come) is routed like a new connection's first one.
   */
  next(socket: Socket, unread: Buffer | null): void {
    if (unread === null) this.accept(socket);
    else this.first(socket, unread);
  }

  /**
   * Starts the first-bytes clock of `socket` (swept; closeWaiting ends it at shutdown). Also for
   * a route that answered on a keep-alive connection and goes on listening to it itself (a
   * parked long-poll: no listeners moved on or off): it calls arrived() when bytes come or the
   * connection closes, and serves the bytes itself or hands them to first().
   */
  expect(socket: Socket): void {
    this.#waiting.set(socket, Date.now() + this.opts.firstBytesTimeoutMs);
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.min(1000, this.opts.firstBytesTimeoutMs));
      this.#sweeper.unref();
    }
  }

  /** Stops the first-bytes clock of `socket`: its next request has come, or it closed. */
  arrived(socket: Socket): void {
    this.#waiting.delete(socket);
  }

  /** The head in `chunk` when it is one whole plain GET that the fast path admits now, else null. */
  admitted(chunk: Buffer): RequestHead | null {
    const head = parseGetHead(chunk, this.opts.maxHeadBytes);
    // Pipelined bytes after the head: leave the connection to node:http.
    if (head === null || head.length !== chunk.length || !this.opts.admit(head.target)) return null;
    return head;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [socket, deadline] of this.#waiting) {
      if (deadline <= now) {
        this.forget(socket);
        socket.destroy();
      }
    }
    if (this.#waiting.size === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }

  /** Destroys every connection still waiting for its first bytes (server shutdown). */
  closeWaiting(): void {
    for (const socket of [...this.#waiting.keys()]) {
      this.forget(socket);
      socket.destroy();
    }
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  forget(socket: Socket): void {
    pending.delete(socket);
    this.#waiting.delete(socket);
    socket.removeListener('data', onFirstData);
    socket.removeListener('error', onEarlyError);
    socket.removeListener('close', onEarlyClose);
    socket.removeListener('end', onEarlyEnd);
  }

  first(socket: Socket, chunk: Buffer): void {
    this.forget(socket);
    const head = this.admitted(chunk);
    if (head !== null) {
      for (const route of this.routes) if (route.take(head, socket, this)) return;
    }
    this.handOver(socket, chunk);
  }

  handOver(socket: Socket, chunk: Buffer | null): void {
    socket.pause();
    if (chunk !== null) socket.unshift(chunk);
    for (const l of this.httpListeners) l.call(this.http, socket);
    socket.resume();
  }
}

const pending = new WeakMap<Socket, FastPath>();
const owners = new WeakMap<Server, FastPath>();

function onFirstData(this: Socket, chunk: Buffer): void {
  pending.get(this)?.first(this, chunk);
}

function onEarlyError(this: Socket): void {
  this.destroy();
}

/** The peer half-closed before sending a request (the server allows half-open sockets): end it. */
function onEarlyEnd(this: Socket): void {
  pending.get(this)?.forget(this);
  this.destroy();
}

function onEarlyClose(this: Socket): void {
  pending.get(this)?.forget(this);
}

/** Puts the fast path in front of `http`'s connection handling (call once, before listen). */
export function installFastPath(http: Server, routes: readonly FastRoute[], opts: FastPathOptions): void {
  const fp = new FastPath(http, routes, opts);
  owners.set(http, fp);
  http.removeAllListeners('connection');
  http.on('connection', (socket: Socket) => fp.accept(socket));
}

/**
 * Ends the connections only the fast path knows (those that have not sent a request yet):
 * node:http's closeAllConnections() cannot see them.
 */
export function closeWaitingConnections(http: Server): void {
  owners.get(http)?.closeWaiting();
}
