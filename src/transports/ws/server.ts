import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Access, ConnectInfo } from '../../auth/access.js';
import type { Config } from '../../config/config.js';
import { type Disconnect, Disconnects, ErrorCodes, HoldfastError } from '../../contract/codes.js';
import type { Identity } from '../../contract/identity.js';
import type { StreamPosition } from '../../contract/stream.js';
import { presenceMember } from '../../core/encode.js';
import { ExpiryIndex } from '../../core/expiry.js';
import type { Node } from '../../core/node.js';
import { PacedSweep } from '../../core/sweep.js';
import type { TimerWheel } from '../../core/wheel.js';
import { clientAddress } from '../../http/address.js';
import { asRefusal, connectInfo, disconnectFor, regrant } from '../authorize.js';
import { NodeHeaders, queryOf, tokenOf } from '../request.js';
import { WsConnection, type WsHandler, type WsLimits } from './conn.js';
import { MAX_FRAGMENTS } from './frame.js';
import { handshake } from './handshake.js';
import { type CommandId, isCommandError, parseCommand } from './protocol.js';
import { type FrameLimit, WsSession } from './session.js';

/**
 * The WebSocket transport: completes the upgrade on /ws itself (handshake.ts, conn.ts, frame.ts:
 * RFC 6455 server side, no extensions), parses commands and hands them to the Node. One object
 * (this) handles every connection's events, so a connection costs no closures. One paced sweep
 * per process pings every socket once per pingInterval, spread over the interval (core/sweep.ts).
 *
 * Access (auth/access.ts), when enabled: the connection is authenticated at the upgrade (a
 * refused one completes the handshake and closes with the refusal's code, which a browser can
 * read, unlike an HTTP status); each subscribe is checked before the Node sees it; a connection
 * closes with 3005 when its credentials expire (one ExpiryIndex for all), unless a refresh came.
 */
export class WsServer implements WsHandler {
  readonly #node: Node;
  readonly #config: Config;
  readonly sessions = new Set<WsSession>();
  readonly #wheel: TimerWheel;
  readonly #pinger: PacedSweep<WsSession>;
  readonly #newFrameLimit: (perSecond: number) => FrameLimit;
  readonly #limits: WsLimits;
  readonly #access: Access;
  readonly #expiry: ExpiryIndex<WsSession>;
  /**
   * What each connection said at the upgrade, for the subscribe proxy (auth/access.ts Backend);
   * kept only where one is configured.
   */
  readonly #infos = new WeakMap<WsSession, ConnectInfo>();
  readonly #keepInfo: boolean;
  /**
   * Subscriptions waiting for Access (the subscribe proxy), by session: held only while some
   * are in flight, so an idle connection costs nothing here. They count towards
   * maxChannelsPerConnection, and an unsubscribe meanwhile cancels them.
   */
  readonly #asking = new Map<WsSession, Asking>();

  /**
   * `newFrameLimit` makes each connection's frame-rate limit (`maxClientFramesPerSecond`) and
   * publication-rate limit (`clientPublishPerSecond`).
   */
  constructor(
    node: Node,
    config: Config,
    wheel: TimerWheel,
    newFrameLimit: (perSecond: number) => FrameLimit,
    access: Access,
  ) {
    this.#node = node;
    this.#config = config;
    this.#access = access;
    this.#expiry = new ExpiryIndex(expireSession);
    this.#keepInfo = config.subscribeProxy !== '' || config.publishProxy !== '';
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

  /**
   * Authenticates (where access is enabled; at once for a cached token or none), then opens the
   * connection, or completes the handshake only to close with the refusal's code (3506 invalid
   * token, 3005 expired, 3007 backend unavailable, 3501 refused by the backend). Until then the
   * socket is not read: a client sends nothing before the handshake's answer, and what it sends
   * anyway waits in the socket.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.#access.enabled) {
      this.#open(req, socket, head, null, null);
      return;
    }
    const headers = new NodeHeaders(req.headers);
    const token = tokenOf(queryOf(req.url ?? '/'), headers);
    const info = connectInfo('ws', token, headers, clientAddress(req, this.#config.trustProxy), this.#config);
    const known = this.#access.identityNow(token);
    if (known !== undefined) {
      this.#open(req, socket, head, known, info);
      return;
    }
    this.#access.authenticate(info).then(
      (identity) => {
        if (!socket.destroyed) this.#open(req, socket, head, identity, info);
      },
      (err: unknown) => {
        if (socket.destroyed) return;
        const refusal = asRefusal(err);
        this.#node.stats.reject(refusal.code);
        this.refuse(req, socket, head, disconnectFor(refusal));
      },
    );
  }

  #open(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    identity: Identity | null,
    info: ConnectInfo | null,
  ): void {
    const conn = this.#accept(req, socket, this);
    if (conn === null) return;
    const budget = this.#newFrameLimit(this.#config.maxClientFramesPerSecond);
    const session = new WsSession(conn, this.#config.maxQueuedBytes, budget);
    this.#wheel.schedule(session, this.#config.firstMessageTimeout * 1000);
    conn.owner = session;
    // Before attach: the Node (presence) indexes sessions by user there.
    session.identity = identity;
    if (info !== null && this.#keepInfo) this.#infos.set(session, info);
    this.sessions.add(session);
    this.#node.attach(session);
    this.#expiry.add(session);
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
    const cmd = parseCommand(data.toString(), this.#config.maxChannelLength, this.#access.enabled);
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
          // A subscription waiting for Access is cancelled; one made is left (both, after a
          // refresh let a subscribe through at once while an earlier one still waited).
          const cancelled = this.#cancelAsk(session, cmd.channel);
          if (!cancelled || session.subscriptions.has(cmd.channel))
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
      case 'publish':
        void this.#publish(session, cmd.id, cmd.channel, cmd.data);
        return;
      case 'subscribe': {
        const asking = this.#asking.get(session);
        const pending = asking?.inFlight ?? 0;
        if (session.subscriptions.size + pending >= this.#config.maxChannelsPerConnection) {
          session.reply({
            id: cmd.id,
            error: { code: 'too_many_channels', message: 'Too many channels for one connection.' },
          });
          return;
        }
        if (!this.#access.enabled || this.#access.subscribeNow(session.identity, cmd.channel)) {
          this.#subscribe(session, cmd.id, cmd.channel, cmd.since);
          return;
        }
        const { id, channel, since } = cmd;
        if (session.subscriptions.has(channel) || asking?.channels.has(channel) === true) {
          session.reply({ id, ...asError(new HoldfastError('already_subscribed')) });
          return;
        }
        const ask = this.#startAsk(session, asking, channel);
        // Refused: the reply is the refusal alone, nothing of the channel.
        this.#access.subscribe(session.identity, channel, this.#infoOf(session)).then(
          () => {
            if (!this.#endAsk(session, ask)) {
              session.reply({ id, ...asError(new HoldfastError('not_subscribed', CANCELLED)) });
            } else if (!session.closed) this.#subscribe(session, id, channel, since);
          },
          (err: unknown) => {
            this.#endAsk(session, ask);
            session.reply({ id, ...asError(asRefusal(err)) });
          },
        );
        return;
      }
      case 'refresh':
        this.#refresh(session, cmd.id, cmd.token);
        return;
    }
  }

  #subscribe(session: WsSession, id: CommandId, channel: string, since: StreamPosition | undefined): void {
    this.#node
      .subscribe(session, channel, since, (r) => {
        const reply: Record<string, unknown> = { id, ok: true, epoch: r.epoch, offset: r.offset };
        if (r.recovered !== undefined) reply['recovered'] = r.recovered;
        this.#wheel.cancel(session);
        session.reply(reply);
      })
      .catch((err: unknown) => session.reply({ id, ...asError(err) }));
  }

  /**
   * op refresh: the new token's identity (same user) replaces the current one and its expiry.
   * Refused while the current one is still valid: an error reply, the connection stays until
   * that expiry; refused once it has passed (the close at expiry not yet swept): closed with the
   * refusal's code. Subscriptions stay as they are, so the new identity must be allowed every
   * one the old token granted (regrant): else the refresh is refused (permission_denied).
   */
  #refresh(session: WsSession, id: CommandId, token: string): void {
    const current = session.identity;
    const following = () => session.subscriptions.keys();
    const info = this.#infoOf(session);
    this.#access
      .refresh(current, token)
      .then(async (next) => {
        await regrant(this.#access, current, next, following, info);
        return next;
      })
      .then(
        (next) => {
          if (session.closed) return;
          this.#expiry.remove(session);
          session.identity = next;
          this.#expiry.add(session);
          session.reply({ id, ok: true });
        },
        (err: unknown) => {
          if (session.closed) return;
          const refusal = asRefusal(err);
          const at = current?.expiresAt ?? 0;
          // A channel the new token does not grant (regrant): the token itself is good, so the
          // client may reconnect with it and follow what it grants.
          const reason =
            refusal.code === 'permission_denied' ? Disconnects.tokenExpired : disconnectFor(refusal);
          if (at !== 0 && at <= Date.now()) session.close(reason);
          else session.reply({ id, ...asError(refusal) });
        },
      );
  }

  /** Files a subscription about to wait for Access. */
  #startAsk(session: WsSession, asking: Asking | undefined, channel: string): Ask {
    let a = asking;
    if (a === undefined) {
      a = { channels: new Map(), inFlight: 0 };
      this.#asking.set(session, a);
    }
    const ask: Ask = { channel, of: a };
    a.channels.set(channel, ask);
    a.inFlight++;
    return ask;
  }

  /** Access answered `ask`: false when an unsubscribe cancelled it meanwhile. */
  #endAsk(session: WsSession, ask: Ask): boolean {
    const a = ask.of;
    a.inFlight--;
    const live = a.channels.get(ask.channel) === ask;
    if (live) a.channels.delete(ask.channel);
    if (a.inFlight === 0 && this.#asking.get(session) === a) this.#asking.delete(session);
    return live;
  }

  /** An unsubscribe of a subscription waiting for Access: cancels it (true), else false. */
  #cancelAsk(session: WsSession, channel: string): boolean {
    return this.#asking.get(session)?.channels.delete(channel) === true;
  }

  #infoOf(session: WsSession): ConnectInfo {
    return this.#infos.get(session) ?? NO_INFO;
  }

  /**
   * A client publication: refused without namespaces (v1) and where Access refuses it (the
   * namespace lacks clientPublish, the connection may not follow the channel, the publish proxy
   * says no); limited per connection to clientPublishPerSecond (0: no limit), whose bucket is
   * made on the connection's first publication so that connections that never publish carry
   * none. Published through the Node like an API publication: same offsets, history, resume.
   */
  async #publish(session: WsSession, id: CommandId, channel: string, data: string): Promise<void> {
    const access = this.#access;
    if (!access.enabled || this.#config.namespaceTable === null) {
      session.reply({
        id,
        error: { code: 'permission_denied', message: ErrorCodes.permission_denied.message },
      });
      return;
    }
    const perSecond = this.#config.clientPublishPerSecond;
    if (perSecond > 0) {
      session.publishLimit ??= this.#newFrameLimit(perSecond);
      if (!session.publishLimit.take()) {
        session.reply({ id, error: { code: 'rate_limited', message: 'Too many publications; slow down.' } });
        return;
      }
    }
    try {
      const allowed = await access.publish(session.identity, channel, data, this.#infoOf(session));
      if (session.closed) return;
      const pub = await this.#node.publish(channel, allowed);
      session.reply({ id, ok: true, epoch: pub.epoch, offset: pub.offset });
    } catch (err) {
      session.reply({ id, ...asError(err) });
    }
  }

  #badFrame(session: WsSession, code: string): void {
    this.#node.stats.badFrames++;
    this.onBadFrame?.(session, code);
  }

  /** Told of each bad frame (the server logs them through a rate limiter). */
  onBadFrame: ((session: WsSession, code: string) => void) | null = null;

  /** WsHandler: a server-side unsubscribe left the session with no channel. */
  onIdle(conn: WsConnection): void {
    this.#wheel.schedule(conn.owner as WsSession, this.#config.idleTimeout * 1000);
  }

  /** WsHandler */
  onPong(conn: WsConnection): void {
    (conn.owner as WsSession).alive = true;
  }

  /** WsHandler */
  onClose(conn: WsConnection): void {
    const session = conn.owner as WsSession;
    this.sessions.delete(session);
    this.#wheel.cancel(session);
    this.#expiry.remove(session);
    session.close(Disconnects.normal);
  }

  /** Closes every connection with `reason` and stops the pinger. */
  close(reason = Disconnects.shutdown): void {
    this.#pinger.stop();
    this.#expiry.stop();
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

/** The expiry index's visit: the connection's credentials have passed. */
function expireSession(s: WsSession): void {
  s.close(Disconnects.tokenExpired);
}

/** One subscription waiting for Access. */
interface Ask {
  readonly channel: string;
  readonly of: Asking;
}

/**
 * A session's subscriptions waiting for Access: the live ones by channel, and how many are in
 * flight (cancelled ones included: each holds a request to the backend until it answers).
 */
interface Asking {
  readonly channels: Map<string, Ask>;
  inFlight: number;
}

const CANCELLED = 'Unsubscribed before the subscription was complete.';

/** For a subscribe proxy that is not configured, or a connection let in before one was. */
const NO_INFO: ConnectInfo = Object.freeze({
  transport: 'ws',
  token: undefined,
  headers: {},
  remoteAddr: '',
});

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
