import type { Socket } from 'node:net';
import { type Disconnect, Disconnects, HoldfastError } from '../contract/codes.js';
import { sseEvent } from '../core/encode.js';
import type { Transport } from '../core/session.js';
import { corsFor } from '../http/cors.js';
import { authorizedNow } from './authorize.js';
import type { FastRoute } from './http1/fastpath.js';
import { type RequestHead, targetPathIs } from './http1/head.js';
import { type SseServer, SseSession } from './sse.js';
import { sseHead } from './sse-head.js';
import { parseSseRequest } from './sse-request.js';

/**
 * SSE straight from the socket (http1/fastpath.ts): for a GET /sse that would succeed, the
 * response head is written here and the stream lives on the bare socket, without node:http's
 * per-request objects. The request is read as node:http's route reads it (parseSseRequest) and
 * answered with the same head (sse-head.ts); requests that would get an error, and those whose
 * access cannot be decided at once (a token not verified yet, a backend to ask), are declined
 * and answered by node:http (SseServer.handle). Whatever the client sends after its request is
 * dropped: a request pipelined behind a stream is never served, and the session ends with the
 * socket.
 */
export class SseFastRoute implements FastRoute {
  readonly #sse: SseServer;

  constructor(sse: SseServer) {
    this.#sse = sse;
  }

  take(head: RequestHead, socket: Socket): boolean {
    if (!targetPathIs(head.target, '/sse')) return false;
    const config = this.#sse.config;
    const request = parseSseRequest(head.target, head.headers, config);
    if (request instanceof HoldfastError) return false;
    // Only an answer known at once is served here; node:http's route waits for the rest.
    const access = this.#sse.access;
    const identity = access.enabled ? authorizedNow(access, request.token, request.channels) : null;
    if (identity === undefined) return false;
    socket.setNoDelay(true);
    socket.write(sseHead(corsFor(request.origin)));
    const transport = new SocketSseTransport(socket);
    const session = new SseSession(transport, request.channels, request.since, config.maxQueuedBytes);
    session.identity = identity;
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
