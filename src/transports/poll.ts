import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Access } from '../auth/access.js';
import type { Config } from '../config/config.js';
import {
  type Disconnect,
  Disconnects,
  type ErrorCode,
  ErrorCodes,
  errorBody,
  HoldfastError,
} from '../contract/codes.js';
import { formatCursor } from '../contract/positions.js';
import type { StreamPosition } from '../contract/stream.js';
import type { Encoded } from '../core/encode.js';
import { ExpiryIndex } from '../core/expiry.js';
import type { Node } from '../core/node.js';
import type { Session, Transport } from '../core/session.js';
import type { Expirable, TimerWheel } from '../core/wheel.js';
import { corsFor } from '../http/cors.js';
import { sendError } from '../http/json.js';
import { authorizeHttpRequest } from './authorize.js';
import { pollFields } from './poll-head.js';
import { ParkingSession } from './poll-park.js';
import { parsePollRequest } from './poll-request.js';
import { errorCors, type HeaderLookup, NodeHeaders, queryOf, tokenOf } from './request.js';

/** Where a long-poll's one answer goes: node:http's response, or a bare socket (poll-fast.ts). */
export interface PollReply {
  /** True once the answer was sent, or the connection is gone. */
  readonly done: boolean;
  /**
   * Sends the JSON answer: `body` (`bodyBytes` long in UTF-8) with content-type, content-length
   * and cache-control headers, plus `extra` (CORS, retry-after).
   */
  send(status: number, body: string, bodyBytes: number, extra: Record<string, string>): void;
  /**
   * Whether the connection stays open after this answer for a next request that the same
   * session may serve (poll-fast.ts: a bare keep-alive socket while the server takes requests).
   */
  keeps?(): boolean;
}

class ResponseReply implements PollReply {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  get done(): boolean {
    return this.#res.headersSent || this.#res.destroyed;
  }

  send(status: number, body: string, bodyBytes: number, extra: Record<string, string>): void {
    this.#res.writeHead(status, pollFields(bodyBytes, extra));
    this.#res.end(body);
  }
}

const RETRY_AFTER: Record<string, string> = { 'retry-after': '1' };
const NO_HEADERS: Record<string, string> = {};

/** A held long-poll request's answer; a parked session gets the next request's (see PollSession). */
class PollTransport implements Transport {
  reply: PollReply;
  queued = 0;

  constructor(reply: PollReply) {
    this.reply = reply;
  }

  write(bytes: Buffer): void {
    this.queued += bytes.length;
  }

  /** Counts a message held for the answer (its bytes are written once, in the answer). */
  hold(byteLength: number): void {
    this.queued += byteLength;
  }

  queuedBytes(): number {
    return this.queued;
  }

  close(reason: Disconnect): void {
    if (this.reply.done || reason.code === Disconnects.normal.code) return;
    if (reason.code === Disconnects.disconnected.code) {
      // Not to be retried as is: the application ended this user's connections.
      const body = JSON.stringify(errorBody('disconnected'));
      this.reply.send(ErrorCodes.disconnected.status, body, Buffer.byteLength(body), NO_HEADERS);
      return;
    }
    const body = JSON.stringify({ error: { code: 'unavailable', message: reason.reason } });
    this.reply.send(503, body, Buffer.byteLength(body), RETRY_AFTER);
  }
}

/**
 * One long-poll request. It subscribes like any session, from the request's cursor, and
 * answers with everything collected as soon as there is something (backlog or live), or with
 * no messages when the hold time ends. The cursor in the answer resumes every channel. When
 * the answer leaves the connection open, the session parks until the next poll (poll-park.ts).
 */
export class PollSession extends ParkingSession implements Expirable {
  readonly channels: string[];
  readonly #messages: string[] = [];
  #cors: Record<string, string>;
  readonly #resets: Record<string, unknown>[] = [];
  #answerQueued = false;
  /** False until every channel is subscribed, so a backlog on channel 1 waits for channel 2's. */
  #ready = false;
  /** The server that holds it: answers, parking and resuming go through it. */
  readonly host: PollServer;
  /** Expirable (TimerWheel's record). */
  wheelTick = 0;

  constructor(host: PollServer, reply: PollReply, channels: string[], cors: Record<string, string>) {
    super(new PollTransport(reply), host.config.maxQueuedBytes);
    this.host = host;
    this.channels = channels;
    this.#cors = cors;
  }

  /** Not a presence member, and no join/leave pushes (docs/AUTH.md "Presence"): a poll is a session. */
  override get joinsPresence(): boolean {
    return false;
  }

  protected emit(enc: Encoded): void {
    this.#messages.push(enc.json);
    (this.transport as PollTransport).hold(enc.jsonBytes);
    if (this.#ready) this.#queueAnswer();
  }

  reset(info: Record<string, unknown>): void {
    this.#resets.push(info);
  }

  /** All channels are subscribed: answer now if anything is there. */
  ready(): void {
    this.#ready = true;
    if (this.#messages.length > 0 || this.#resets.length > 0) this.#queueAnswer();
  }

  /**
   * Answers on the next turn of the event loop, so messages published together travel together;
   * the server answers every session due in one setImmediate (PollServer.answerSoon).
   */
  #queueAnswer(): void {
    if (this.#answerQueued) return;
    this.#answerQueued = true;
    this.host.answerSoon(this);
  }

  /** The turn after #queueAnswer: answers unless that happened meanwhile (time-out, shutdown). */
  answerIfQueued(): void {
    if (this.#answerQueued) this.answer();
  }

  expire(): void {
    this.answer();
  }

  /**
   * Answers on the next turn with what there is, once every channel is subscribed: false when
   * they are not yet (PollServer.hurry then calls it again once they are).
   */
  hurry(): boolean {
    if (!this.#ready) return false;
    this.#queueAnswer();
    return true;
  }

  /** Answers the held poll (parking the session when the connection stays open); ends a parked session. */
  answer(): void {
    if (this.closed) return;
    this.#answerQueued = false;
    const transport = this.transport as PollTransport;
    const reply = transport.reply;
    if (this.parked || reply.done) {
      // Parked and no next poll came (time-out, shutdown), or the client is gone.
      this.close(Disconnects.normal);
      return;
    }
    const cursor = formatCursor(this.positions(this.channels));
    let body = '{"cursor":' + JSON.stringify(cursor) + ',"messages":[';
    body += this.#messages.join(',') + ']';
    if (this.#resets.length > 0) body += ',"recovered":false,"reset":' + JSON.stringify(this.#resets);
    body += '}';
    const bodyBytes = Buffer.byteLength(body);
    if (this.owner !== null) this.owner.stats.bytesOut += bodyBytes;
    const park = reply.keeps?.() === true;
    if (park) {
      // Before the answer goes out: a pipelined next request is routed during send().
      this.#messages.length = 0;
      this.#resets.length = 0;
      transport.queued = 0;
      this.#ready = false;
      this.park(cursor);
      this.host.parked(this);
    }
    reply.send(200, body, bodyBytes, this.#cors);
    if (!park) this.close(Disconnects.normal);
  }

  /** Takes the next poll's answer; the PollServer then holds it like a new one (PollServer.resume). */
  resume(reply: PollReply, cors: Record<string, string>): void {
    (this.transport as PollTransport).reply = reply;
    this.#cors = cors;
    this.unpark();
  }

  /** Answers with the error (the request could not be served). */
  fail(err: unknown): void {
    const reply = (this.transport as PollTransport).reply;
    if (this.closed || reply.done) return;
    const code: ErrorCode = err instanceof HoldfastError ? err.code : 'internal';
    const message = err instanceof HoldfastError ? err.message : ErrorCodes.internal.message;
    const body = JSON.stringify(errorBody(code, message));
    reply.send(ErrorCodes[code].status, body, Buffer.byteLength(body), this.#cors);
    this.close(Disconnects.normal);
  }
}

/**
 * GET /poll?channel=a&channel=b&cursor=... Where access is enabled, every request's credentials
 * and channels are checked before its answer (a refusal is the whole answer: 401, 403, 400 or
 * 503, nothing of any channel); a held poll or parked session whose credentials pass is answered
 * then, and the next poll is refused (401 token_expired).
 */
export class PollServer {
  readonly #node: Node;
  readonly #config: Config;
  readonly #wheel: TimerWheel;
  readonly sessions = new Set<PollSession>();
  /** The polls node:http holds, by socket (handle), for a request pipelined behind one (hurry). */
  readonly #held = new WeakMap<Socket, PollSession>();
  /** Held polls hurried before their channels were subscribed: answered once they are (start). */
  readonly #hurried = new WeakSet<PollSession>();
  /** Sessions with an answer due on the next turn of the event loop (answerSoon). */
  #due: PollSession[] = [];
  #flushQueued = false;
  readonly access: Access;
  readonly #expiry: ExpiryIndex<PollSession>;

  constructor(node: Node, config: Config, wheel: TimerWheel, access: Access) {
    this.#node = node;
    this.#config = config;
    this.#wheel = wheel;
    this.access = access;
    this.#expiry = new ExpiryIndex(expirePoll);
  }

  /**
   * Whether a poll with `target` and `headers` on the connection of a parked `session` may
   * continue it: where access is enabled, only with credentials that still prove the session's
   * identity at once (the same cached token; one expired or replaced starts afresh).
   */
  mayResume(session: PollSession, target: string, headers: HeaderLookup): boolean {
    if (!this.access.enabled) return true;
    const identity = this.access.identityNow(tokenOf(queryOf(target), headers));
    return identity !== undefined && identity === session.identity;
  }

  /** node:http's route. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parsePollRequest(req.url ?? '/', new NodeHeaders(req.headers), this.#config);
    if (request instanceof HoldfastError) {
      this.#node.stats.reject(request.code);
      sendError(res, request, errorCors(request, req.headers.origin));
      return;
    }
    // Without access there is nothing to wait for: the session starts in this turn, before
    // node:http parses a request pipelined behind this one (server.ts refuses those).
    const identity = this.access.enabled
      ? await authorizeHttpRequest(this.access, 'poll', request, req, res, this.#config, this.#node.stats)
      : null;
    if (identity === undefined) return;
    const session = new PollSession(this, new ResponseReply(res), request.channels, corsFor(request.origin));
    session.identity = identity;
    // The socket's current response (server.ts refuses pipelined streams, and hurries this
    // one at a request pipelined behind it): its 'close' comes when the socket closes.
    const socket = req.socket;
    this.#held.set(socket, session);
    res.on('close', () => {
      if (this.#held.get(socket) === session) this.#held.delete(socket);
      session.close(Disconnects.normal);
    });
    await this.start(session, request.since);
  }

  /**
   * A request came on `socket` behind the poll node:http holds there (server.ts): its answer is
   * queued behind the poll's, and queued answers past the socket's high-water mark stop
   * node:http reading it, so the client's close would go unseen until the poll time-out. The
   * poll is answered now, with what it has (once its channels are subscribed: its cursor must
   * hold their positions), and the requests behind it after.
   */
  hurry(socket: Socket): void {
    const session = this.#held.get(socket);
    if (session === undefined) return;
    this.#held.delete(socket);
    if (!session.hurry()) this.#hurried.add(session);
  }

  /**
   * The request is valid (the session's identity set, and allowed every channel): register the
   * session, subscribe from the cursor, hold until the answer.
   */
  async start(session: PollSession, since: StreamPosition[] | null): Promise<void> {
    const channels = session.channels;
    this.sessions.add(session);
    this.#node.attach(session, 'poll');
    this.#expiry.add(session);
    session.onClose = this.#released;
    for (let i = 0; i < channels.length; i++) {
      const channel = channels[i]!;
      try {
        await this.#node.subscribe(session, channel, since?.[i], (r) => {
          if (r.recovered === false) session.reset({ channel, epoch: r.epoch, offset: r.offset });
        });
      } catch (err) {
        session.fail(err);
        return;
      }
      if (session.closed) return;
    }
    this.resume(session);
    if (this.#hurried.delete(session)) session.hurry();
  }

  /**
   * Answers `session` on the next turn of the event loop, with every other session due then, in
   * one setImmediate: one Immediate and closure per held poll a broadcast answers was a cost per
   * delivery (docs/BENCHMARKS.md, "Issue 4 (session 4)", "Long-poll fast path").
   */
  answerSoon(session: PollSession): void {
    this.#due.push(session);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushQueued = false;
    const due = this.#due;
    this.#due = [];
    for (let i = 0; i < due.length; i++) due[i]!.answerIfQueued();
  };

  /** A parked session (PollSession.answer) waits at most the poll time-out for its next poll. */
  parked(session: PollSession): void {
    this.#deadline(session);
  }

  /** Holds a subscribed session's poll (a new one, or a parked session's next): answers at once if anything is there. */
  resume(session: PollSession): void {
    this.#deadline(session);
    session.ready();
  }

  /** A held poll is answered, and a parked session ends, one poll time-out from now at the latest. */
  #deadline(session: PollSession): void {
    this.#wheel.schedule(session, this.#config.pollTimeout * 1000);
  }

  get config(): Config {
    return this.#config;
  }

  /** One function for every poll session's onClose. */
  readonly #released = (s: Session): void => {
    this.sessions.delete(s as PollSession);
    this.#wheel.cancel(s as PollSession);
    this.#expiry.remove(s as PollSession);
  };

  close(): void {
    this.#expiry.stop();
    for (const s of this.sessions) s.answer();
  }
}

/** The expiry index's visit: a held poll is answered with what it has; a parked session ends. */
function expirePoll(s: PollSession): void {
  s.answer();
}
