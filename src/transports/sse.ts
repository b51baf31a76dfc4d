import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Access } from '../auth/access.js';
import type { Config } from '../config/config.js';
import { type Disconnect, Disconnects, HoldfastError } from '../contract/codes.js';
import { formatCursor } from '../contract/positions.js';
import type { StreamPosition } from '../contract/stream.js';
import { type Encoded, type PresenceBatch, sseEvent } from '../core/encode.js';
import { ExpiryIndex } from '../core/expiry.js';
import type { Node } from '../core/node.js';
import { Session, type Transport } from '../core/session.js';
import { PacedSweep } from '../core/sweep.js';
import { corsFor } from '../http/cors.js';
import { sendError } from '../http/json.js';
import { authorizeHttpRequest } from './authorize.js';
import { errorCors, NodeHeaders } from './request.js';
import { SSE_OPENING, sseFields } from './sse-head.js';
import { parseSseRequest } from './sse-request.js';

/** Bytes to an SSE response. */
class SseTransport implements Transport {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  write(bytes: Buffer): void {
    if (!this.#res.writableEnded) this.#res.write(bytes);
  }

  queuedBytes(): number {
    return this.#res.writableLength + (this.#res.socket?.writableLength ?? 0);
  }

  close(reason: Disconnect): void {
    if (this.#res.writableEnded) return;
    if (reason.code === Disconnects.slow.code || reason.code === Disconnects.normal.code) {
      this.#res.destroy();
      return;
    }
    this.#res.end(sseEvent('disconnect', reason));
  }
}

/**
 * One SSE stream following a list of channels. Every event's id is the stream's cursor (all
 * channels' positions), so a reconnecting EventSource resumes every channel through
 * Last-Event-ID. With one channel the id is the publication's own and its bytes are shared.
 */
export class SseSession extends Session {
  readonly channels: string[];
  /**
   * Positions from Last-Event-ID, kept in the cursor for channels not subscribed yet; a channel
   * removed server-side (serverUnsubscribed) keeps its last position here.
   */
  resumeFrom: StreamPosition[] | null;

  constructor(
    transport: Transport,
    channels: string[],
    resumeFrom: StreamPosition[] | null,
    maxQueuedBytes: number,
  ) {
    super(transport, maxQueuedBytes);
    this.channels = channels;
    this.resumeFrom = resumeFrom;
  }

  /**
   * One write per event, so one TCP segment: the id line written apart from the data doubled the
   * write() calls, the segments and the peer's ACKs of every multi-channel delivery, a large part
   * of the server's CPU per delivery (docs/BENCHMARKS.md, "Issue 4 (session 4)", "SSE: one write
   * per event"). Cursors are ASCII (positions.ts), so latin1 lengths are byte lengths.
   */
  protected emit(enc: Encoded): void {
    if (this.channels.length === 1) {
      this.write(enc.sseId);
      return;
    }
    const id = this.cursor();
    const data = enc.sse;
    const out = Buffer.allocUnsafe(ID_FIELD.length + id.length + 1 + data.length);
    ID_FIELD.copy(out, 0);
    out.write(id, ID_FIELD.length, 'latin1');
    out[ID_FIELD.length + id.length] = 0x0a;
    data.copy(out, ID_FIELD.length + id.length + 1);
    this.write(out);
  }

  /** Named events `join` and `leave`, without an id (they are not in the stream's cursor). */
  protected override emitPresence(batch: PresenceBatch): void {
    this.write(batch.sse);
  }

  cursor(): string {
    const positions = this.positions(this.channels);
    if (this.resumeFrom !== null) {
      for (let i = 0; i < positions.length; i++) {
        if (!this.subscriptions.has(this.channels[i]!)) positions[i] = this.resumeFrom[i]!;
      }
    }
    return formatCursor(positions);
  }

  heartbeat(): void {
    if (!this.closed) this.write(HEARTBEAT);
  }

  /**
   * POST /api/unsubscribe: delivery of the channel stops and the client gets an `unsubscribe`
   * event. The stream's ids keep the channel's last position, so a reconnecting EventSource
   * (whose URL still names it) resumes it from there, through the access checks again.
   */
  override get takesServerUnsubscribe(): boolean {
    return true;
  }

  override serverUnsubscribed(channel: string, last: StreamPosition): void {
    const i = this.channels.indexOf(channel);
    if (i >= 0 && last.epoch !== '') {
      this.resumeFrom ??= this.positions(this.channels);
      this.resumeFrom[i] = last;
    }
    if (!this.closed) this.write(sseEvent('unsubscribe', { channel }, this.cursor()));
  }
}

const HEARTBEAT = Buffer.from(':\n\n');
const ID_FIELD = Buffer.from('id: ');

/**
 * GET /sse?channel=a&channel=b, resuming from Last-Event-ID (or ?lastEventId=). Where access is
 * enabled, the request's credentials and every channel are checked before the answer's head:
 * any refusal answers the whole request with its error (401, 403, 400, 503) and nothing of any
 * channel. A stream outliving its credentials ends with a `disconnect` event (3005).
 */
export class SseServer {
  readonly sessions = new Set<SseSession>();
  /** The streams node:http serves, by socket (handle): a request behind one ends it (cut). */
  readonly #streams = new WeakMap<Socket, SseSession>();
  readonly #node: Node;
  readonly #config: Config;
  readonly #heartbeat: PacedSweep<SseSession>;
  readonly access: Access;
  readonly #expiry: ExpiryIndex<SseSession>;

  constructor(node: Node, config: Config, access: Access) {
    this.#node = node;
    this.#config = config;
    this.access = access;
    this.#expiry = new ExpiryIndex(expireStream);
    this.#heartbeat = new PacedSweep(this.sessions, config.sseHeartbeat * 1000, heartbeat);
    this.#heartbeat.start();
  }

  /**
   * node:http's route. The answer is delimited by the connection's end, as on the fast path
   * (sse-head.ts): no chunked framing (removing transfer-encoding is how node:http is told).
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseSseRequest(req.url ?? '/', new NodeHeaders(req.headers), this.#config);
    if (request instanceof HoldfastError) {
      this.#node.stats.reject(request.code);
      sendError(res, request, errorCors(request, req.headers.origin));
      return;
    }
    // Without access there is nothing to wait for: the session starts in this turn, before
    // node:http parses a request pipelined behind this one (server.ts refuses those).
    const identity = this.access.enabled
      ? await authorizeHttpRequest(this.access, 'sse', request, req, res, this.#config, this.#node.stats)
      : null;
    if (identity === undefined) return;
    res.removeHeader('transfer-encoding');
    res.writeHead(200, sseFields(corsFor(request.origin)));
    res.write(SSE_OPENING);
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);

    const session = new SseSession(
      new SseTransport(res),
      request.channels,
      request.since,
      this.#config.maxQueuedBytes,
    );
    session.identity = identity;
    // The socket's current response (server.ts refuses pipelined streams, and cuts the
    // connection at a request pipelined behind this one): its 'close' comes when the socket closes.
    const socket = req.socket;
    this.#streams.set(socket, session);
    res.on('close', () => {
      this.#streams.delete(socket);
      this.ended(session);
    });
    await this.start(session);
  }

  /**
   * A request came on `socket` behind the stream node:http serves there (server.ts): its answer
   * could only be queued behind one that never ends, and queued answers past the socket's
   * high-water mark stop node:http reading it, so the client's close would go unseen and the
   * session outlive the socket. The connection is closed and the session ends. False when no
   * such stream is on `socket`.
   */
  cut(socket: Socket): boolean {
    const session = this.#streams.get(socket);
    if (session === undefined) return false;
    this.#streams.delete(socket);
    socket.destroy();
    this.ended(session);
    return true;
  }

  /**
   * The stream is open (its identity set, and allowed every channel): register the session and
   * subscribe its channels in order.
   */
  async start(session: SseSession): Promise<void> {
    this.sessions.add(session);
    this.#node.attach(session);
    this.#expiry.add(session);
    const channels = session.channels;
    const since = session.resumeFrom;
    for (let i = 0; i < channels.length; i++) {
      const channel = channels[i]!;
      try {
        await this.#node.subscribe(session, channel, since?.[i], (r) => {
          const info: Record<string, unknown> = { channel, epoch: r.epoch, offset: r.offset };
          if (r.recovered !== undefined) info['recovered'] = r.recovered;
          session.write(sseEvent('subscribed', info, session.cursor()));
        });
      } catch (err) {
        // Removed server-side (POST /api/unsubscribe) while it was being subscribed: skipped.
        if (err instanceof HoldfastError && err.code === 'not_subscribed') continue;
        const code = err instanceof HoldfastError ? err.code : 'unavailable';
        session.write(sseEvent('error', { channel, code }));
        session.close(Disconnects.internal);
        return;
      }
      if (session.closed) return;
    }
  }

  /** The peer went away. */
  ended(session: SseSession): void {
    this.sessions.delete(session);
    this.#expiry.remove(session);
    session.close(Disconnects.normal);
  }

  get config(): Config {
    return this.#config;
  }

  close(reason = Disconnects.shutdown): void {
    this.#heartbeat.stop();
    this.#expiry.stop();
    for (const s of this.sessions) s.close(reason);
  }
}

/** The expiry index's visit: the stream's credentials have passed. */
function expireStream(s: SseSession): void {
  s.close(Disconnects.tokenExpired);
}

/** The heartbeat sweep's visit, about once per sseHeartbeat per stream (spread over it). */
function heartbeat(s: SseSession): void {
  s.heartbeat();
}
