import type { Socket } from 'node:net';
import { type Disconnect, Disconnects } from '../contract/codes.js';
import { parseCursor } from '../contract/positions.js';
import { sseEvent } from '../core/encode.js';
import type { Transport } from '../core/session.js';
import { originAllowed } from '../http/cors.js';
import { parseChannels } from './common.js';
import { httpDate } from './http1/date.js';
import type { FastRoute } from './http1/fastpath.js';
import { type RequestHead, targetPathIs } from './http1/head.js';
import { type SseServer, SseSession } from './sse.js';

/**
 * SSE straight from the socket (http1/fastpath.ts): for a GET /sse that would succeed, the
 * response head is written here and the stream lives on the bare socket, without node:http's
 * per-request objects. Requests that would get an error are declined and answered by node:http
 * (SseServer.handle). The body is delimited by the connection's end (no chunked framing), which
 * is how an SSE stream ends anyway.
 */
export class SseFastRoute implements FastRoute {
  readonly #sse: SseServer;

  constructor(sse: SseServer) {
    this.#sse = sse;
  }

  take(head: RequestHead, socket: Socket): boolean {
    if (!targetPathIs(head.target, '/sse')) return false;
    const q = head.target.indexOf('?');
    const config = this.#sse.config;
    const origin = head.headers.get('origin');
    if (!originAllowed(config, origin)) return false;
    let channels: string[];
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(q < 0 ? '' : head.target.slice(q + 1));
      channels = parseChannels(params, config);
    } catch {
      return false;
    }
    const last = head.headers.get('last-event-id') ?? params.get('lastEventId') ?? '';
    const since = last !== '' ? parseCursor(last, channels.length) : null;
    socket.setNoDelay(true);
    socket.write(
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n' +
        'cache-control: no-cache, no-transform\r\nx-accel-buffering: no\r\n' +
        (origin === undefined ? '' : `access-control-allow-origin: ${origin}\r\nvary: Origin\r\n`) +
        `date: ${httpDate()}\r\nconnection: close\r\n\r\nretry: 2000\n\n`,
    );
    const transport = new SocketSseTransport(socket);
    const session = new SseSession(transport, channels, since, config.maxQueuedBytes);
    owners.set(socket, { server: this.#sse, session });
    socket.on('data', ignore);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
    void this.#sse.start(session);
    return true;
  }
}

/** Bytes to an SSE stream on a bare socket. */
class SocketSseTransport implements Transport {
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  write(bytes: Buffer): void {
    if (this.#socket.writable) this.#socket.write(bytes);
  }

  queuedBytes(): number {
    return this.#socket.writableLength;
  }

  close(reason: Disconnect): void {
    if (!this.#socket.writable) return;
    if (reason.code === Disconnects.slow.code || reason.code === Disconnects.normal.code) {
      this.#socket.destroy();
      return;
    }
    // Destroyed once written, without waiting for the peer: shutdown must not hang on it.
    this.#socket.end(sseEvent('disconnect', reason));
    this.#socket.destroySoon();
  }
}

const owners = new WeakMap<Socket, { server: SseServer; session: SseSession }>();

/** A stream's client sends nothing after its request; whatever comes is dropped. */
function ignore(): void {}

function onEnd(this: Socket): void {
  this.end();
}

function onError(this: Socket): void {
  this.destroy();
}

function onClose(this: Socket): void {
  const o = owners.get(this);
  if (o === undefined) return;
  owners.delete(this);
  o.server.ended(o.session);
}
