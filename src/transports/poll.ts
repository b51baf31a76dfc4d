import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import {
  type Disconnect,
  Disconnects,
  type ErrorCode,
  ErrorCodes,
  errorBody,
  HoldfastError,
} from '../core/codes.js';
import type { Encoded } from '../core/encode.js';
import type { Node } from '../core/node.js';
import { formatCursor, parseCursor } from '../core/positions.js';
import { Session, type Transport } from '../core/session.js';
import type { Expirable, TimerWheel } from '../core/wheel.js';
import type { StreamPosition } from '../engines/types.js';
import { corsHeaders, originAllowed, parseChannels, sendError } from './common.js';

/** Where a long-poll's one answer goes: node:http's response, or a bare socket (poll-fast.ts). */
export interface PollReply {
  /** True once the answer was sent, or the connection is gone. */
  readonly done: boolean;
  send(status: number, headers: Record<string, string | number>, body: string): void;
}

class ResponseReply implements PollReply {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  get done(): boolean {
    return this.#res.headersSent || this.#res.destroyed;
  }

  send(status: number, headers: Record<string, string | number>, body: string): void {
    this.#res.writeHead(status, headers);
    this.#res.end(body);
  }
}

function jsonHeaders(body: string, extra: Record<string, string>): Record<string, string | number> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extra,
  };
}

/** A held long-poll request; it is answered once, then the session ends. */
class PollTransport implements Transport {
  readonly reply: PollReply;
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
    if (!this.reply.done && reason.code !== Disconnects.normal.code) {
      const body = JSON.stringify({ error: { code: 'unavailable', message: reason.reason } });
      this.reply.send(503, jsonHeaders(body, { 'retry-after': '1' }), body);
    }
  }
}

/**
 * One long-poll request. It subscribes like any session, from the request's cursor, and
 * answers with everything collected as soon as there is something (backlog or live), or with
 * no messages when the hold time ends. The cursor in the answer resumes every channel.
 */
export class PollSession extends Session implements Expirable {
  readonly channels: string[];
  readonly #messages: string[] = [];
  readonly #cors: Record<string, string>;
  readonly #resets: Record<string, unknown>[] = [];
  #answerQueued = false;
  /** False until every channel is subscribed, so a backlog on channel 1 waits for channel 2's. */
  #ready = false;

  constructor(reply: PollReply, channels: string[], maxQueuedBytes: number, cors: Record<string, string>) {
    super(new PollTransport(reply), maxQueuedBytes);
    this.channels = channels;
    this.#cors = cors;
  }

  protected emit(enc: Encoded): void {
    this.#messages.push(enc.json);
    (this.transport as PollTransport).hold(Buffer.byteLength(enc.json));
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

  /** Answers on the next turn of the event loop, so messages published together travel together. */
  #queueAnswer(): void {
    if (this.#answerQueued) return;
    this.#answerQueued = true;
    setImmediate(() => this.answer());
  }

  expire(): void {
    this.answer();
  }

  answer(): void {
    if (this.closed) return;
    const reply = (this.transport as PollTransport).reply;
    let body = '{"cursor":' + JSON.stringify(formatCursor(this.positions(this.channels))) + ',"messages":[';
    body += this.#messages.join(',') + ']';
    if (this.#resets.length > 0) body += ',"recovered":false,"reset":' + JSON.stringify(this.#resets);
    body += '}';
    if (!reply.done) {
      if (this.owner !== null) this.owner.stats.bytesOut += Buffer.byteLength(body);
      reply.send(200, jsonHeaders(body, this.#cors), body);
    }
    this.close(Disconnects.normal);
  }

  /** Answers with the error (the request could not be served). */
  fail(err: unknown): void {
    const reply = (this.transport as PollTransport).reply;
    if (this.closed || reply.done) return;
    const code: ErrorCode = err instanceof HoldfastError ? err.code : 'internal';
    const message = err instanceof HoldfastError ? err.message : ErrorCodes.internal.message;
    const body = JSON.stringify(errorBody(code, message));
    reply.send(ErrorCodes[code].status, jsonHeaders(body, this.#cors), body);
    this.close(Disconnects.normal);
  }
}

/** GET /poll?channel=a&channel=b&cursor=... */
export class PollServer {
  readonly #node: Node;
  readonly #config: Config;
  readonly #wheel: TimerWheel;
  readonly sessions = new Set<PollSession>();

  constructor(node: Node, config: Config, wheel: TimerWheel) {
    this.#node = node;
    this.#config = config;
    this.#wheel = wheel;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const cors = corsHeaders(req);
    if (!originAllowed(this.#config, req.headers.origin)) {
      this.#node.stats.reject('forbidden');
      sendError(res, new HoldfastError('forbidden'));
      return;
    }
    let channels: string[];
    let since: StreamPosition[] | null = null;
    try {
      channels = parseChannels(url.searchParams, this.#config);
      const cursor = url.searchParams.get('cursor');
      if (cursor !== null && cursor !== '') {
        since = parseCursor(cursor, channels.length);
        if (since === null)
          throw new HoldfastError('bad_request', 'The cursor is malformed or for other channels.');
      }
    } catch (err) {
      this.#node.stats.reject(err instanceof HoldfastError ? err.code : 'bad_request');
      sendError(res, err, cors);
      return;
    }
    const session = new PollSession(new ResponseReply(res), channels, this.#config.maxQueuedBytes, cors);
    res.on('close', () => session.close(Disconnects.normal));
    await this.start(session, since);
  }

  /** The request is valid: register the session, subscribe from the cursor, hold until the answer. */
  async start(session: PollSession, since: StreamPosition[] | null): Promise<void> {
    const channels = session.channels;
    this.sessions.add(session);
    this.#node.attach(session);
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
    this.#wheel.schedule(session, this.#config.pollTimeout * 1000);
    session.ready();
  }

  get config(): Config {
    return this.#config;
  }

  /** One function for every poll session's onClose. */
  readonly #released = (s: Session): void => {
    this.sessions.delete(s as PollSession);
    this.#wheel.cancel(s as PollSession);
  };

  close(): void {
    for (const s of this.sessions) s.answer();
  }
}
