import { connect, type Socket } from 'node:net';
import { BenchClient, type Pool } from '../pool.js';
import { HttpReader, type HttpSink } from './http-reader.js';

/**
 * Base of the raw-socket HTTP clients (SSE, long-poll): a `net.Socket` (none of node:http's
 * client objects per idle connection: docs/BENCHMARKS.md, "The bench's own memory per idle
 * client"), a minimal request writer and the HttpReader. Socket listeners are module-level
 * functions; the socket finds its client through one WeakMap.
 *
 * Bytes are read with net's `onread` into one buffer shared by every socket of the process (the
 * callbacks run one at a time and each read is consumed before it returns), not through the
 * socket's Readable stream: no Buffer, stream bookkeeping, 'data' event or StringDecoder per read.
 * The bench's CPU per delivery both ways: docs/BENCHMARKS.md, "Where a delivery's CPU goes".
 */
export abstract class RawHttpClient extends BenchClient implements HttpSink {
  socket: Socket | null = null;
  readonly reader = new HttpReader();
  /** The connection attempt failed because its source port could not be bound. */
  bindFailed = false;

  constructor(pool: Pool, local: number, channel: number, source: string) {
    super(pool, local, channel, source);
  }

  /** The request target (URL) for the next request. */
  abstract target(): URL;
  /** Extra request header lines ("Name: value\r\n"). */
  abstract extraHeaders(): string;
  abstract onHead(status: number, headers: string): void;
  abstract onBody(text: string): void;
  abstract onEnd(): void;
  /** The socket is connected (TCP). */
  abstract onConnected(): void;

  connect(): void {
    this.beginConnect();
    const url = this.target();
    const opts: { host: string; port: number; localAddress?: string; localPort?: number } = {
      host: url.hostname,
      port: Number(url.port || 80),
    };
    if (this.source !== '') opts.localAddress = this.source;
    if (this.sourcePort > 0) opts.localPort = this.sourcePort;
    const socket = connect({ ...opts, onread: { buffer: READ_BUFFER, callback: onRead } });
    this.socket = socket;
    this.reader.reset();
    owners.set(socket, this);
    socket.setNoDelay(true);
    socket.setTimeout(15_000);
    socket.on('connect', onConnect);
    socket.on('close', onSocketClose);
    socket.on('error', onError);
    socket.on('timeout', onTimeout);
  }

  /** The request line's target and the Host header for the next request. */
  requestTarget(): { path: string; host: string } {
    const url = this.target();
    return { path: url.pathname + url.search, host: url.host };
  }

  /** Writes a GET request for the current target on the open socket. */
  request(): void {
    const { path, host } = this.requestTarget();
    this.socket?.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${this.extraHeaders()}\r\n`, 'latin1');
  }

  pauseReading(): void {
    this.socket?.pause();
    // A paused socket sees no data, so an inactivity time-out would cut it: none while stalled.
    this.socket?.setTimeout(0);
  }

  resumeReading(): void {
    this.socket?.resume();
  }

  close(): void {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
  }

  /** Ends the connection because of an error and lets the client reconnect. */
  fail(): void {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    this.lost(true);
  }
}

const owners = new WeakMap<Socket, RawHttpClient>();
/** The one read buffer of this process's sockets (see the class comment). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

function onConnect(this: Socket): void {
  owners.get(this)?.onConnected();
}

/** net's onread callback (`this` is the socket): `n` new bytes at the start of READ_BUFFER. True: keep reading. */
function onRead(this: Socket, n: number): boolean {
  const c = owners.get(this);
  if (c === undefined || c.socket !== this) return true;
  try {
    // Latin1: one character per byte, as the readers expect.
    c.reader.feed(READ_BUFFER.toString('latin1', 0, n), c);
  } catch {
    c.pool.errors++;
    c.fail();
  }
  return true;
}

function onSocketClose(this: Socket): void {
  const c = owners.get(this);
  if (c === undefined || c.socket !== this) return;
  if (c.bindFailed) {
    // Its own source port is taken (a listener on the port, or a TIME_WAIT on the same pair):
    // connect again at once with a port the OS picks; not a reconnect of an open connection.
    c.bindFailed = false;
    c.sourcePort = 0;
    c.socket = null;
    c.pool.connecting--;
    c.pool.portFallbacks++;
    c.connect();
    return;
  }
  c.reader.closed(c);
  c.socket = null;
  c.lost(false);
}

function onError(this: Socket, err: NodeJS.ErrnoException): void {
  // 'close' follows and does the accounting.
  const c = owners.get(this);
  if (c === undefined || c.socket !== this || c.state !== 1 || c.sourcePort === 0) return;
  if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL') c.bindFailed = true;
}

function onTimeout(this: Socket): void {
  const c = owners.get(this);
  if (c === undefined || c.socket !== this) return;
  c.fail();
}
