import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import { type Disconnect, Disconnects, HoldfastError } from '../core/codes.js';
import type { Encoded } from '../core/encode.js';
import type { Node } from '../core/node.js';
import { formatCursor, parseCursor } from '../core/positions.js';
import { Session, type Transport } from '../core/session.js';
import type { Expirable, TimerWheel } from '../core/wheel.js';
import type { StreamPosition } from '../engines/types.js';
import { corsHeaders, originAllowed, parseChannels, sendError, sendJson } from './common.js';

/** A held long-poll response; it is answered once, then the session ends. */
class PollTransport implements Transport {
  readonly res: ServerResponse;
  queued = 0;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  write(bytes: Buffer): void {
    this.queued += bytes.length;
  }

  queuedBytes(): number {
    return this.queued;
  }

  close(reason: Disconnect): void {
    if (!this.res.headersSent && reason.code !== Disconnects.normal.code) {
      sendJson(
        this.res,
        503,
        { error: { code: 'unavailable', message: reason.reason } },
        { 'retry-after': '1' },
      );
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

  constructor(res: ServerResponse, channels: string[], maxQueuedBytes: number, cors: Record<string, string>) {
    super(new PollTransport(res), maxQueuedBytes);
    this.channels = channels;
    this.#cors = cors;
  }

  protected emit(enc: Encoded): void {
    this.#messages.push(enc.json);
    this.transport.write(Buffer.from(enc.json));
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
    const res = (this.transport as PollTransport).res;
    let body = '{"cursor":' + JSON.stringify(formatCursor(this.positions(this.channels))) + ',"messages":[';
    body += this.#messages.join(',') + ']';
    if (this.#resets.length > 0) body += ',"recovered":false,"reset":' + JSON.stringify(this.#resets);
    body += '}';
    if (!res.headersSent && !res.destroyed) {
      if (this.stats !== null) this.stats.bytesOut += Buffer.byteLength(body);
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        ...this.#cors,
      });
      res.end(body);
    }
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
    const session = new PollSession(res, channels, this.#config.maxQueuedBytes, cors);
    this.sessions.add(session);
    this.#node.attach(session);
    session.onClose = ((detach) => (s: Session) => {
      this.sessions.delete(session);
      this.#wheel.cancel(session);
      detach?.(s);
    })(session.onClose);
    res.on('close', () => session.close(Disconnects.normal));
    for (let i = 0; i < channels.length; i++) {
      const channel = channels[i]!;
      try {
        await this.#node.subscribe(session, channel, since?.[i], (r) => {
          if (r.recovered === false) session.reset({ channel, epoch: r.epoch, offset: r.offset });
        });
      } catch (err) {
        if (!session.closed) {
          sendError(res, err, cors);
          session.close(Disconnects.normal);
        }
        return;
      }
      if (session.closed) return;
    }
    this.#wheel.schedule(session, this.#config.pollTimeout * 1000);
    session.ready();
  }

  close(): void {
    for (const s of this.sessions) s.answer();
  }
}
