import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../../config/config.js';
import { type Disconnect, Disconnects, HoldfastError } from '../../contract/codes.js';
import { presenceMember } from '../../core/encode.js';
import type { Node } from '../../core/node.js';
import { PacedSweep } from '../../core/sweep.js';
import type { TimerWheel } from '../../core/wheel.js';
import { WsConnection, type WsHandler, type WsLimits } from './conn.js';
import { MAX_FRAGMENTS } from './frame.js';
import { handshake } from './handshake.js';
import { isCommandError, parseCommand } from './protocol.js';
import { type FrameLimit, WsSession } from './session.js';

/**
 * The WebSocket transport: completes the upgrade on /ws itself (handshake.ts, conn.ts, frame.ts:
 * RFC 6455 server side, no extensions), parses commands and hands them to the Node. One object
 * (this) handles every connection's events, so a connection costs no closures. One paced sweep
 * per process pings every socket once per pingInterval, spread over the interval (core/sweep.ts).
 */
export class WsServer implements WsHandler {
  readonly #node: Node;
  readonly #config: Config;
  readonly sessions = new Set<WsSession>();
  readonly #wheel: TimerWheel;
  readonly #pinger: PacedSweep<WsSession>;
  readonly #newFrameLimit: (perSecond: number) => FrameLimit;
  readonly #limits: WsLimits;

  /** `newFrameLimit` makes each connection's frame-rate limit (`maxClientFramesPerSecond`). */
  constructor(
    node: Node,
    config: Config,
    wheel: TimerWheel,
    newFrameLimit: (perSecond: number) => FrameLimit,
  ) {
    this.#node = node;
    this.#config = config;
    this.#limits = {
      maxPayload: config.maxFrameBytes,
      maxFragments: MAX_FRAGMENTS,
      maxQueuedBytes: config.maxQueuedBytes,
    };
    this.#wheel = wheel;
    this.#newFrameLimit = newFrameLimit;
    this.#pinger = new PacedSweep(this.sessions, config.pingInterval * 1000, pingOrReap);
    this.#pinger.start();
  }

  /** Completes the handshake only to close at once with `reason` (load shedding, draining). */
  refuse(req: IncomingMessage, socket: Duplex, head: Buffer, reason: Disconnect): void {
    const conn = this.#accept(req, socket, REFUSED);
    if (conn === null) return;
    conn.start(head);
    conn.close(reason.code, reason.reason);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const conn = this.#accept(req, socket, this);
    if (conn === null) return;
    const budget = this.#newFrameLimit(this.#config.maxClientFramesPerSecond);
    const session = new WsSession(conn, this.#config.maxQueuedBytes, budget);
    this.#wheel.schedule(session, this.#config.firstMessageTimeout * 1000);
    conn.owner = session;
    this.sessions.add(session);
    this.#node.attach(session);
    conn.start(head);
  }

  /** Answers the handshake; null (and the socket ends with the answer) when it is refused. */
  #accept(req: IncomingMessage, socket: Duplex, handler: WsHandler): WsConnection | null {
    const answer = handshake(req.method, req.headers);
    if (!answer.ok) {
      socket.once('finish', destroySocket);
      socket.end(answer.response);
      return null;
    }
    socket.write(answer.response);
    return new WsConnection(socket, handler, this.#limits);
  }

  /**
   * WsHandler. Every frame takes one from the budget, control frames and fragments included: a
   * refused ping goes unanswered, a refused data frame drops its message (onDropped answers).
   */
  onFrame(conn: WsConnection): boolean {
    const session = conn.owner as WsSession;
    session.alive = true;
    if (session.budget.take()) return true;
    // Sustained flooding (a second's worth of refused frames) ends the connection.
    if (session.budget.violations > Math.max(10, session.budget.perSecond))
      session.close(Disconnects.rateLimited);
    return false;
  }

  /** WsHandler */
  onDropped(conn: WsConnection): void {
    (conn.owner as WsSession).reply({
      error: { code: 'rate_limited', message: 'Too many frames; slow down.' },
    });
  }

  /** WsHandler */
  onSlow(conn: WsConnection): void {
    (conn.owner as WsSession).close(Disconnects.slow);
  }

  /** WsHandler */
  onMessage(conn: WsConnection, data: Buffer, isBinary: boolean): void {
    const session = conn.owner as WsSession;
    if (isBinary) {
      // The protocol is JSON text frames: a binary one is a client that speaks something else.
      this.#badFrame(session, 'binary');
      session.close(Disconnects.unsupportedData);
      return;
    }
    const cmd = parseCommand(data.toString(), this.#config.maxChannelLength);
    if (isCommandError(cmd)) {
      this.#badFrame(session, cmd.error.code);
      session.reply(cmd);
      return;
    }
    switch (cmd.op) {
      case 'ping':
        session.reply({ id: cmd.id, ok: true });
        return;
      case 'unsubscribe':
        try {
          this.#node.unsubscribe(session, cmd.channel);
          if (session.subscriptions.size === 0)
            this.#wheel.schedule(session, this.#config.idleTimeout * 1000);
          session.reply({ id: cmd.id, ok: true });
        } catch (err) {
          session.reply({ id: cmd.id, ...asError(err) });
        }
        return;
      case 'presence': {
        const id = cmd.id;
        const channel = cmd.channel;
        this.#node.sessionPresence(session, channel).then(
          (members) => session.reply({ id, ok: true, channel, members: members.map(presenceMember) }),
          (err: unknown) => session.reply({ id, ...asError(err) }),
        );
        return;
      }
      case 'subscribe': {
        if (session.subscriptions.size >= this.#config.maxChannelsPerConnection) {
          session.reply({
            id: cmd.id,
            error: { code: 'too_many_channels', message: 'Too many channels for one connection.' },
          });
          return;
        }
        const id = cmd.id;
        this.#node
          .subscribe(session, cmd.channel, cmd.since, (r) => {
            const reply: Record<string, unknown> = { id, ok: true, epoch: r.epoch, offset: r.offset };
            if (r.recovered !== undefined) reply['recovered'] = r.recovered;
            this.#wheel.cancel(session);
            session.reply(reply);
          })
          .catch((err: unknown) => session.reply({ id, ...asError(err) }));
        return;
      }
    }
  }

  #badFrame(session: WsSession, code: string): void {
    this.#node.stats.badFrames++;
    this.onBadFrame?.(session, code);
  }

  /** Told of each bad frame (the server logs them through a rate limiter). */
  onBadFrame: ((session: WsSession, code: string) => void) | null = null;

  /** WsHandler */
  onPong(conn: WsConnection): void {
    (conn.owner as WsSession).alive = true;
  }

  /** WsHandler */
  onClose(conn: WsConnection): void {
    const session = conn.owner as WsSession;
    this.sessions.delete(session);
    this.#wheel.cancel(session);
    session.close(Disconnects.normal);
  }

  /** Closes every connection with `reason` and stops the pinger. */
  close(reason = Disconnects.shutdown): void {
    this.#pinger.stop();
    for (const s of this.sessions) s.close(reason);
  }
}

/**
 * The pinger's visit, about once per pingInterval per connection (spread over the interval): a
 * peer that has not answered the previous ping is closed; otherwise it is pinged again.
 */
function pingOrReap(s: WsSession): void {
  if (!s.alive) {
    s.close(Disconnects.noPong);
    return;
  }
  s.alive = false;
  s.ws.ping();
}

function asError(err: unknown): { error: { code: string; message: string } } {
  if (err instanceof HoldfastError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'unavailable', message: 'The engine could not take this now; retry later.' } };
}

/** Events of a connection refused at the door: nothing to do but let it close. */
const REFUSED: WsHandler = {
  onFrame: () => false,
  onMessage: () => undefined,
  onDropped: () => undefined,
  onPong: () => undefined,
  onSlow: (conn) => conn.terminate(),
  onClose: () => undefined,
};

function destroySocket(this: Duplex): void {
  this.destroy();
}
