import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Disconnects } from '../core/codes.js';
import { parseCursor } from '../core/positions.js';
import type { StreamPosition } from '../engines/types.js';
import { corsFor, originAllowed, parseChannels } from './common.js';
import { httpDate } from './http1/date.js';
import { acceptNext, admits, type FastRoute } from './http1/fastpath.js';
import type { RequestHead } from './http1/head.js';
import { type PollReply, type PollServer, PollSession } from './poll.js';

/**
 * Long-poll straight from the socket (http1/fastpath.ts): a GET /poll that would succeed is held
 * on the bare socket, without node:http's per-request objects. Its answer is written here; then
 * the connection's next request (keep-alive) is routed like a first one, or the connection ends. Requests
 * that would get an error are declined and answered by node:http (PollServer.handle).
 */
export class PollFastRoute implements FastRoute {
  readonly #poll: PollServer;
  readonly #http: Server;

  constructor(poll: PollServer, http: Server) {
    this.#poll = poll;
    this.#http = http;
  }

  take(head: RequestHead, socket: Socket): boolean {
    const q = head.target.indexOf('?');
    if ((q < 0 ? head.target : head.target.slice(0, q)) !== '/poll') return false;
    const config = this.#poll.config;
    const origin = head.headers.get('origin');
    if (!originAllowed(config, origin)) return false;
    const cors = corsFor(origin);
    // The session parked on this connection by the previous answer (PollSession, "Parking"):
    // a poll that continues it needs no other parsing (its channels were checked when it began).
    const prior = replies.get(socket);
    const parked = prior?.session ?? null;
    if (prior !== undefined && parked?.resumesTarget(head.target)) {
      this.#resume(prior, parked, head, cors);
      return true;
    }
    const params = new URLSearchParams(q < 0 ? '' : head.target.slice(q + 1));
    if (prior !== undefined) {
      if (parked?.resumes(params)) {
        parked.spelledAs(head.target, params.get('cursor'));
        this.#resume(prior, parked, head, cors);
        return true;
      }
      prior.done = true;
      prior.release();
      parked?.close(Disconnects.normal);
    }
    let channels: string[];
    let since: StreamPosition[] | null = null;
    try {
      channels = parseChannels(params, config);
      const cursor = params.get('cursor');
      if (cursor !== null && cursor !== '') {
        since = parseCursor(cursor, channels.length);
        if (since === null) return false;
      }
    } catch {
      return false;
    }
    const reply = new SocketReply(socket, this.#http, head.keepAlive);
    const session = new PollSession(reply, channels, config.maxQueuedBytes, cors);
    session.spelledAs(head.target, params.get('cursor'));
    replies.set(socket, reply);
    reply.session = session;
    reply.listen();
    socket.on('close', onClose);
    void this.#poll.start(session, since);
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
  readonly #http: Server;
  #keepAlive: boolean;
  done = false;
  session: PollSession | null = null;
  /** Bytes of a next request sent before this answer (pipelining), handed on with the socket. */
  unread: Buffer | null = null;

  constructor(socket: Socket, http: Server, keepAlive: boolean) {
    this.socket = socket;
    this.#http = http;
    this.#keepAlive = keepAlive;
  }

  /**
   * Keep the connection only while the server takes requests: a draining server must not wait
   * for idle keep-alive connections to go away.
   */
  keeps(): boolean {
    return !this.done && this.#keepAlive && this.socket.writable && admits(this.#http);
  }

  /** The parked session's next poll arrived on this connection: this reply answers it. */
  reopen(keepAlive: boolean): void {
    this.done = false;
    this.#keepAlive = keepAlive;
    this.unread = null;
    this.listen(); // 'close' stayed attached while parked
  }

  /** Listens for what the client does while its poll is held ('close' is attached apart: it stays while parked). */
  listen(): void {
    this.socket.on('data', onData);
    this.socket.on('end', onEnd);
    this.socket.on('error', onError);
  }

  /** Stops listening as listen() does; 'close' stays. */
  unlisten(): void {
    this.socket.removeListener('data', onData);
    this.socket.removeListener('end', onEnd);
    this.socket.removeListener('error', onError);
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
    const keep = this.#keepAlive && admits(this.#http);
    let head =
      status === 200 ? OK_JSON : `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${JSON_FIELDS}`;
    head += `content-length: ${bodyBytes}\r\n`;
    for (const k in extra) head += `${k}: ${extra[k]}\r\n`;
    head += `date: ${httpDate()}\r\nconnection: ${keep ? 'keep-alive' : 'close'}\r\n\r\n`;
    const parked = this.session?.parked === true;
    if (keep && parked) {
      // The session waits on this connection for its next poll: only 'close' stays, to end it.
      this.unlisten();
    } else {
      this.release();
      if (parked) this.session?.close(Disconnects.normal);
    }
    if (keep) {
      socket.write(head + body);
      acceptNext(this.#http, socket, this.unread);
    } else {
      // Released: this is the socket's last listener, for a peer that resets during the write.
      socket.on('error', onError);
      socket.end(head + body);
      socket.destroySoon();
    }
  }

  /** Stops listening on the socket (it is answered, or gone). */
  release(): void {
    replies.delete(this.socket);
    this.unlisten();
    this.socket.removeListener('close', onClose);
  }
}

const JSON_FIELDS = 'content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n';
const OK_JSON = `HTTP/1.1 200 OK\r\n${JSON_FIELDS}`;

const replies = new WeakMap<Socket, SocketReply>();

function onData(this: Socket, chunk: Buffer): void {
  const r = replies.get(this);
  if (r !== undefined) r.unread = r.unread === null ? chunk : Buffer.concat([r.unread, chunk]);
}

/** The client gave up on the poll (half-close counts: it can no longer send a next request). */
function onEnd(this: Socket): void {
  this.end();
}

function onError(this: Socket): void {
  this.destroy();
}

function onClose(this: Socket): void {
  const r = replies.get(this);
  if (r === undefined) return;
  r.done = true;
  r.release();
  r.session?.close(Disconnects.normal);
}
