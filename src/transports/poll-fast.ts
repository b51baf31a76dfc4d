import type { Socket } from 'node:net';
import { Disconnects, errorBody, HoldfastError } from '../contract/codes.js';
import { corsFor } from '../http/cors.js';
import { authorizedNow } from './authorize.js';
import type { FastPath, FastRoute } from './http1/fastpath.js';
import {
  HEAD_NOT_BEGUN,
  HEAD_WHOLE,
  type RequestHead,
  scanHeadEnd,
  startsGetFor,
  targetPathIs,
} from './http1/head.js';
import { type PollReply, type PollServer, PollSession } from './poll.js';
import { pollHead } from './poll-head.js';
import { parsePollRequest } from './poll-request.js';
import { checkRequest, pipelinedError } from './request.js';

/**
 * Long-poll straight from the socket (http1/fastpath.ts): a GET /poll that would succeed is held
 * on the bare socket, without node:http's per-request objects. Its answer is written here; then
 * the connection ends, or (keep-alive) its next request comes to the reply, which continues a
 * parked session with it (SocketReply.next) or has it routed like a first request. Requests that
 * would get an error, and those whose access cannot be decided at once (a token not verified
 * yet, a backend to ask), are declined and answered by node:http (PollServer.handle); a parked
 * session continues only with credentials that still prove its identity (PollServer.mayResume).
 */
export class PollFastRoute implements FastRoute {
  readonly #poll: PollServer;

  constructor(poll: PollServer) {
    this.#poll = poll;
  }

  take(head: RequestHead, socket: Socket, fp: FastPath): boolean {
    if (!targetPathIs(head.target, '/poll')) return false;
    // The session parked on this connection by the previous answer (poll-park.ts):
    // a poll that continues it needs no other parsing (its channels were checked when it began).
    const prior = replies.get(socket);
    if (prior !== undefined && this.resumeByTarget(head, prior)) return true;
    const request = parsePollRequest(head.target, head.headers, this.#poll.config);
    if (prior !== undefined) {
      const parked = prior.session;
      if (
        !(request instanceof HoldfastError) &&
        parked?.resumes(request) &&
        this.#poll.mayResume(parked, head.target, head.headers)
      ) {
        parked.spelledAs(head.target, request.cursor);
        this.#resume(prior, parked, head, corsFor(request.origin));
        return true;
      }
      prior.done = true;
      prior.release();
      parked?.close(Disconnects.normal);
    }
    if (request instanceof HoldfastError) return false;
    // Only an answer known at once is served here; node:http's route waits for the rest.
    const access = this.#poll.access;
    const identity = access.enabled ? authorizedNow(access, request.token, request.channels) : null;
    if (identity === undefined) return false;
    const reply = new SocketReply(socket, fp, head.keepAlive, this);
    const session = new PollSession(this.#poll, reply, request.channels, corsFor(request.origin));
    session.identity = identity;
    session.spelledAs(head.target, request.cursor);
    replies.set(socket, reply);
    reply.session = session;
    reply.listen();
    socket.on('close', onClose);
    void this.#poll.start(session, request.since);
    return true;
  }

  /**
   * Continues the session parked on `reply`'s connection when `head` is its next poll as
   * recognised by its target alone (PollSession.resumesTarget); false leaves the request to
   * take(). Only the cursor differs from a target parsePollRequest accepted, so only the rules
   * that do not depend on the query are checked again (checkRequest).
   */
  resumeByTarget(head: RequestHead, reply: SocketReply): boolean {
    const session = reply.session;
    if (session === null || !session.resumesTarget(head.target)) return false;
    if (checkRequest(head.target, head.headers, this.#poll.config) !== null) return false;
    if (!this.#poll.mayResume(session, head.target, head.headers)) return false;
    this.#resume(reply, session, head, corsFor(head.headers.get('origin')));
    return true;
  }

  #resume(reply: SocketReply, session: PollSession, head: RequestHead, cors: Record<string, string>): void {
    reply.reopen(head.keepAlive);
    session.resume(reply, cors);
    this.#poll.resume(session);
  }
}

/** The answer of a poll held on a bare socket. */
class SocketReply implements PollReply {
  readonly socket: Socket;
  readonly #fp: FastPath;
  readonly #route: PollFastRoute;
  #keepAlive: boolean;
  done = false;
  session: PollSession | null = null;
  /**
   * Bytes sent while the poll is held (a pipelined next request), handed on with the socket
   * after the answer (held()). Made when the first such bytes come: most connections never
   * send any, and a field more on every reply is memory per idle connection.
   */
  #unread: Unread | null = null;
  /**
   * Answered, and the session parked: the connection's next request comes to this reply's
   * listeners (next()), which stay on the socket. Moving the reply's listeners off and the fast
   * path's four on for each answer, and back for each next poll, cost more of the server's CPU
   * per long-poll delivery than its share of the profile showed (docs/BENCHMARKS.md, "Issue 4
   * (session 4)").
   */
  awaiting = false;
  #listening = false;

  constructor(socket: Socket, fp: FastPath, keepAlive: boolean, route: PollFastRoute) {
    this.socket = socket;
    this.#fp = fp;
    this.#keepAlive = keepAlive;
    this.#route = route;
  }

  /**
   * Keep the connection only while the server takes requests: a draining server must not wait
   * for idle keep-alive connections to go away.
   */
  keeps(): boolean {
    return !this.done && this.#keepAlive && this.socket.writable && this.#fp.accepting();
  }

  /** The parked session's next poll arrived on this connection: this reply answers it. */
  reopen(keepAlive: boolean): void {
    this.done = false;
    this.awaiting = false;
    this.#keepAlive = keepAlive;
    this.listen(); // still on when the poll came to next(); 'close' stays on while parked
  }

  /**
   * Listens for what the client does while its poll is held or its session parked ('close' is
   * attached apart). Idempotent.
   */
  listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.socket.on('data', onData);
    this.socket.on('end', onEnd);
    this.socket.on('error', onError);
  }

  /** Stops listening as listen() does; 'close' stays. Idempotent. */
  unlisten(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.socket.removeListener('data', onData);
    this.socket.removeListener('end', onEnd);
    this.socket.removeListener('error', onError);
  }

  /**
   * The next request's bytes on a connection whose session is parked here: a poll recognised by
   * its target continues the session in place; anything else is routed like a new connection's
   * first request (the poll route still finds this reply, and a poll that continues the session
   * by its parameters is served there).
   */
  next(chunk: Buffer): void {
    this.awaiting = false;
    this.#fp.arrived(this.socket);
    const head = this.#fp.admitted(chunk);
    if (head !== null && this.#route.resumeByTarget(head, this)) return;
    this.unlisten();
    // A request for another route (or one node:http will parse) ends the parked session now; a
    // poll is left to take(), which continues the session by its parameters or ends it.
    if (head === null || !targetPathIs(head.target, '/poll')) this.gone();
    this.#fp.first(this.socket, chunk);
  }

  /**
   * Bytes that came while the poll is held: what the client sent next without waiting for the
   * answer. At most maxHeadBytes are kept (a request head the fast path takes is no bigger, and
   * node:http refuses a bigger header block), a connection sending more is closed; and like any
   * request head, they must be whole within the headers time-out of their first byte (the fast
   * path's first-bytes clock), held poll or not. Once they hold a whole head the clock stops:
   * that request waits for the answer, however long the poll is held, and is served after it.
   */
  held(chunk: Buffer): void {
    let unread = this.#unread;
    if (unread === null) {
      unread = this.#unread = new Unread();
      this.#fp.expect(this.socket);
    }
    unread.bytes += chunk.length;
    if (unread.bytes > this.#fp.opts.maxHeadBytes) {
      this.socket.destroy();
      return;
    }
    unread.chunks.push(chunk);
    if (unread.scan !== HEAD_WHOLE) {
      unread.scan = scanHeadEnd(chunk, unread.scan);
      if (unread.scan === HEAD_WHOLE) this.#fp.arrived(this.socket);
    }
  }

  send(status: number, body: string, bodyBytes: number, extra: Record<string, string>): void {
    if (this.done) return;
    this.done = true;
    const socket = this.socket;
    if (!socket.writable) {
      // The client half-closed (onEnd ended this side) or the socket is gone: nothing can be
      // written. (A draining server answering held polls in that window wrote after end, and
      // with no 'error' listener left the worker crashed.)
      this.release();
      socket.destroy();
      return;
    }
    const keep = this.#keepAlive && this.#fp.accepting();
    const head = pollHead(status, bodyBytes, extra, keep);
    const parked = this.session?.parked === true;
    // What held() kept, taken (no private method here: V8 gives each instance of a class with
    // one a brand field).
    const unread = this.#unread === null ? null : this.#unread.joined();
    this.#unread = null;
    if (keep && unread !== null && startsStreamRequest(unread)) {
      // A stream request sent while this one was held: refused after this answer, as node:http's
      // route refuses a pipelined one (request.ts pipelined()), and the connection closed.
      this.release();
      if (parked) this.session?.close(Disconnects.normal);
      const err = pipelinedError();
      const refusal = JSON.stringify(errorBody(err.code, err.message));
      socket.on('error', onError);
      socket.write(head + body);
      socket.end(pollHead(err.status, Buffer.byteLength(refusal), NO_EXTRA, false) + refusal);
      socket.destroySoon();
      return;
    }
    if (keep && parked) {
      // The session waits on this connection for its next poll, which comes to next().
      socket.write(head + body);
      this.awaiting = true;
      this.#fp.expect(socket);
      if (unread !== null) this.next(unread);
      return;
    }
    this.release();
    if (parked) this.session?.close(Disconnects.normal);
    if (keep) {
      socket.write(head + body);
      this.#fp.next(socket, unread);
    } else {
      // Released: this is the socket's last listener, for a peer that resets during the write.
      socket.on('error', onError);
      socket.end(head + body);
      socket.destroySoon();
    }
  }

  /**
   * The socket closed, or its connection went on to another route (next()): no next request is
   * awaited here any more, the socket is let go, and the session ends.
   */
  gone(): void {
    if (this.awaiting) {
      this.awaiting = false;
      this.#fp.arrived(this.socket);
    }
    this.done = true;
    this.release();
    this.session?.close(Disconnects.normal);
  }

  /** Stops listening on the socket (it is answered, or gone); its first-bytes clock stops too. */
  release(): void {
    replies.delete(this.socket);
    this.#fp.arrived(this.socket);
    this.unlisten();
    this.socket.removeListener('close', onClose);
  }
}

const NO_EXTRA: Record<string, string> = Object.freeze({});

/** Whether `bytes` begin with a request for a stream (GET /sse or /poll; server.ts routes them). */
function startsStreamRequest(bytes: Buffer): boolean {
  return startsGetFor(bytes, '/poll') || startsGetFor(bytes, '/sse');
}

/** Bytes that came while a poll was held, as they came (SocketReply.held). */
class Unread {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  /** How far the bytes make a request head (scanHeadEnd's state). */
  scan = HEAD_NOT_BEGUN;

  /** The chunks joined, copied once. */
  joined(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
  }
}

const replies = new WeakMap<Socket, SocketReply>();

function onData(this: Socket, chunk: Buffer): void {
  const r = replies.get(this);
  if (r === undefined) return;
  if (r.awaiting) r.next(chunk);
  else r.held(chunk);
}

/**
 * The client gave up on the poll (half-close counts: it can no longer send a next request). A
 * connection that half-closes between polls is ended at once, as one that has sent nothing is.
 */
function onEnd(this: Socket): void {
  if (replies.get(this)?.awaiting === true) this.destroy();
  else this.end();
}

function onError(this: Socket): void {
  this.destroy();
}

function onClose(this: Socket): void {
  replies.get(this)?.gone();
}
