import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../../config/config.js';
import { type Disconnect, Disconnects, HoldfastError } from '../../core/codes.js';
import type { Node } from '../../core/node.js';
import type { TimerWheel } from '../../core/wheel.js';
import { isCommandError, parseCommand } from './protocol.js';
import { WsSession } from './session.js';

/**
 * The WebSocket transport: upgrades on /ws through `ws` in noServer mode, parses commands and
 * hands them to the Node. Listeners are module-level functions that find their session through
 * one WeakMap, so a connection costs no closures. One interval per process pings every socket.
 */
export class WsServer {
  readonly #wss: WebSocketServer;
  readonly #node: Node;
  readonly #config: Config;
  readonly sessions = new Set<WsSession>();
  readonly #wheel: TimerWheel;
  #pinger: NodeJS.Timeout | null = null;

  constructor(node: Node, config: Config, wheel: TimerWheel) {
    this.#node = node;
    this.#config = config;
    this.#wheel = wheel;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: config.maxFrameBytes,
    });
    this.#pinger = setInterval(() => this.#pingAll(), config.pingInterval * 1000);
    this.#pinger.unref();
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws));
  }

  /** Completes the handshake only to close at once with `reason` (load shedding, draining). */
  refuse(req: IncomingMessage, socket: Duplex, head: Buffer, reason: Disconnect): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', onError);
      ws.close(reason.code, reason.reason);
    });
  }

  #onConnection(ws: WebSocket): void {
    const session = new WsSession(ws, this.#config.maxQueuedBytes, this.#config.maxClientFramesPerSecond);
    this.#wheel.schedule(session, this.#config.firstMessageTimeout * 1000);
    owners.set(ws, this);
    sessions.set(ws, session);
    this.sessions.add(session);
    this.#node.attach(session);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
  }

  onMessage(session: WsSession, data: RawData, isBinary: boolean): void {
    session.alive = true;
    if (!session.budget.take()) {
      // Sustained flooding (a second's worth of refused frames) ends the connection.
      if (session.budget.violations > Math.max(10, session.budget.perSecond))
        session.close(Disconnects.rateLimited);
      else session.reply({ error: { code: 'rate_limited', message: 'Too many frames; slow down.' } });
      return;
    }
    if (isBinary) {
      this.#badFrame(session, 'binary');
      session.reply({ error: { code: 'bad_request', message: 'Send JSON text frames.' } });
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

  onClose(session: WsSession): void {
    this.sessions.delete(session);
    this.#wheel.cancel(session);
    session.close(Disconnects.normal);
  }

  #pingAll(): void {
    for (const s of this.sessions) {
      if (!s.alive) {
        s.close(Disconnects.noPong);
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
  }

  /** Closes every connection with `reason` and stops the pinger. */
  close(reason = Disconnects.shutdown): void {
    if (this.#pinger !== null) clearInterval(this.#pinger);
    this.#pinger = null;
    for (const s of this.sessions) s.close(reason);
  }
}

function asError(err: unknown): { error: { code: string; message: string } } {
  if (err instanceof HoldfastError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'unavailable', message: 'The engine could not take this now; retry later.' } };
}

const owners = new WeakMap<WebSocket, WsServer>();
const sessions = new WeakMap<WebSocket, WsSession>();

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const s = sessions.get(this);
  if (s !== undefined) owners.get(this)?.onMessage(s, data, isBinary);
}

function onPong(this: WebSocket): void {
  const s = sessions.get(this);
  if (s !== undefined) s.alive = true;
}

function onClose(this: WebSocket): void {
  const s = sessions.get(this);
  if (s !== undefined) owners.get(this)?.onClose(s);
}

function onError(this: WebSocket): void {
  // Protocol errors (e.g. a frame over maxPayload) are answered by `ws` with a close frame
  // (1009 for size); the 'close' event that follows cleans up.
}
